import type { Kysely } from 'kysely';
import type { Storage } from '../storage.js';
import type { Database } from '../schema.js';
import { iso, isoOrNull, toInvite } from './rows.js';

/** The invite link methods of `Storage`. */
export type InviteStore = Pick<
  Storage,
  'createInvite' | 'getInviteByTokenHash' | 'listInvites' | 'revokeInvite' | 'consumeInvite'
>;

/**
 * Invite links over Kysely, identical in both databases.
 *
 * @example
 * const invites = inviteStore(db);
 * if (!(await invites.consumeInvite('IN1'))) throw new Error('used up');
 */
export function inviteStore(db: Kysely<Database>): InviteStore {
  return {
    async createInvite(invite) {
      await db
        .insertInto('invites')
        .values({
          id: invite.id,
          conversation_id: invite.conversationId,
          token_hash: invite.tokenHash,
          created_by: invite.createdBy,
          created_at: iso(invite.createdAt),
          expires_at: isoOrNull(invite.expiresAt),
          max_uses: invite.maxUses,
          uses: invite.uses,
          revoked_at: isoOrNull(invite.revokedAt),
        })
        .execute();
    },
    async getInviteByTokenHash(tokenHash) {
      const row = await db.selectFrom('invites').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      return row && toInvite(row);
    },
    async listInvites(conversationId) {
      const rows = await db
        .selectFrom('invites')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toInvite);
    },
    async revokeInvite(conversationId, inviteId, now) {
      const result = await db
        .updateTable('invites')
        .set({ revoked_at: iso(now) })
        .where('id', '=', inviteId)
        .where('conversation_id', '=', conversationId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async consumeInvite(inviteId) {
      // One conditional UPDATE: the row lock (PostgreSQL) or the write lock (SQLite) makes the
      // check and the increment atomic, so concurrent joins can never exceed max_uses.
      const result = await db
        .updateTable('invites')
        .set((eb) => ({ uses: eb('uses', '+', 1) }))
        .where('id', '=', inviteId)
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}
