import { sql, type Kysely } from 'kysely';
import type { ParticipantRecord, PendingInvitation, Storage } from '../storage.js';
import type { Database, ParticipantsTable } from '../schema.js';
import { iso, toConversation, toNumber, toParticipant } from './rows.js';
import { recordMembership } from './webhook-store.js';

/** The participant methods of `Storage`. */
export type ParticipantStore = Pick<
  Storage,
  | 'getParticipant'
  | 'listParticipants'
  | 'listContactIds'
  | 'setParticipantStatus'
  | 'setParticipantRole'
  | 'countJoinedAdmins'
  | 'listPendingInvitations'
  | 'markRead'
>;

/**
 * Participants, invitations and read positions over Kysely, identical in both databases.
 *
 * @example
 * const participants = participantStore(db);
 * await participants.markRead('CH1', 'US1', 10);
 */
export function participantStore(db: Kysely<Database>): ParticipantStore {
  const getParticipant = async (conversationId: string, userId: string): Promise<ParticipantRecord | undefined> => {
    const row = await participantQuery(db)
      .where('p.conversation_id', '=', conversationId)
      .where('p.user_id', '=', userId)
      .executeTakeFirst();
    return row && toParticipant(row);
  };

  return {
    getParticipant,
    async listParticipants(conversationId) {
      const rows = await participantQuery(db)
        .where('p.conversation_id', '=', conversationId)
        .orderBy('p.created_at')
        .orderBy('p.user_id')
        .execute();
      return rows.map(toParticipant);
    },
    async listContactIds(userId) {
      // The user's joined conversations by (user_id, status), then each one's members by its key.
      const rows = await db
        .selectFrom('participants as mine')
        .innerJoin('participants as other', 'other.conversation_id', 'mine.conversation_id')
        .select('other.user_id')
        .distinct()
        .where('mine.user_id', '=', userId)
        .where('mine.status', '=', 'joined')
        .where('other.status', '=', 'joined')
        .where('other.user_id', '<>', userId)
        .execute();
      return rows.map((r) => r.user_id);
    },
    setParticipantStatus: (conversationId, userId, change) =>
      db.transaction().execute(async (trx) => {
        await upsertParticipant(trx, conversationId, userId, change);
        const row = await participantQuery(trx).where('p.conversation_id', '=', conversationId).where('p.user_id', '=', userId).executeTakeFirst();
        if (row === undefined) throw new Error(`participant ${conversationId}/${userId} vanished after upsert`);
        const after = toParticipant(row);
        await recordMembership(trx, conversationId, [after]);
        return after;
      }),
    async setParticipantRole(conversationId, userId, role, now) {
      await db
        .updateTable('participants')
        .set({ role, updated_at: iso(now) })
        .where('conversation_id', '=', conversationId)
        .where('user_id', '=', userId)
        .execute();
      return getParticipant(conversationId, userId);
    },
    async countJoinedAdmins(conversationId) {
      const row = await db
        .selectFrom('participants')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('conversation_id', '=', conversationId)
        .where('status', '=', 'joined')
        .where('role', '=', 'admin')
        .executeTakeFirstOrThrow();
      return toNumber(row.n as string | number);
    },
    listPendingInvitations: (userId) => pendingInvitations(db, userId),
    markRead: (conversationId, userId, index) => markRead(db, conversationId, userId, index),
  };
}

/** Participant rows with their usernames; `p` is the participants table. */
export function participantQuery(db: Kysely<Database>) {
  return db.selectFrom('participants as p').innerJoin('users as u', 'u.id', 'p.user_id').selectAll('p').select('u.username');
}

type Change = Parameters<ParticipantStore['setParticipantStatus']>[2];

async function upsertParticipant(db: Kysely<Database>, conversationId: string, userId: string, change: Change): Promise<void> {
  const now = iso(change.now);
  // A subquery rather than a prior read, so a message committed meanwhile cannot slip between
  // reading the newest index and writing it.
  const latest = sql<number>`coalesce((select last_message_index from conversation_heads where id = ${conversationId}), 0)`;
  const update: Record<string, unknown> = { status: change.status, updated_at: now };
  if (change.role !== undefined) update.role = change.role;
  if (change.invitedBy !== undefined) update.invited_by = change.invitedBy;
  if (change.readFromLatest === true) update.last_read_index = latest;
  await db
    .insertInto('participants')
    .values({
      conversation_id: conversationId,
      user_id: userId,
      role: change.role ?? 'member',
      status: change.status,
      last_read_index: change.readFromLatest === true ? latest : 0,
      invited_by: change.invitedBy ?? null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.columns(['conversation_id', 'user_id']).doUpdateSet(update as Partial<ParticipantsTable>))
    .execute();
}

async function markRead(db: Kysely<Database>, conversationId: string, userId: string, index: number): Promise<number | undefined> {
  const conversation = await db
    .selectFrom('conversation_heads')
    .select('last_message_index')
    .where('id', '=', conversationId)
    .executeTakeFirst();
  if (conversation === undefined) return undefined;
  const capped = Math.max(0, Math.min(Math.floor(index), toNumber(conversation.last_message_index)));
  // The `<` guard makes concurrent calls safe: the position only ever moves forward.
  await db
    .updateTable('participants')
    .set({ last_read_index: capped })
    .where('conversation_id', '=', conversationId)
    .where('user_id', '=', userId)
    .where('last_read_index', '<', capped)
    .execute();
  const row = await db
    .selectFrom('participants')
    .select('last_read_index')
    .where('conversation_id', '=', conversationId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row && toNumber(row.last_read_index);
}

async function pendingInvitations(db: Kysely<Database>, userId: string): Promise<PendingInvitation[]> {
  const rows = await db
    .selectFrom('participants as p')
    .innerJoin('conversation_heads as c', 'c.id', 'p.conversation_id')
    .innerJoin('users as u', 'u.id', 'p.user_id')
    .leftJoin('users as inviter', 'inviter.id', 'p.invited_by')
    .selectAll('c')
    .select([
      'p.user_id as p_user_id',
      'p.role as p_role',
      'p.status as p_status',
      'p.last_read_index as p_last_read_index',
      'p.invited_by as p_invited_by',
      'p.created_at as p_created_at',
      'p.updated_at as p_updated_at',
      'u.username as p_username',
      'inviter.username as inviter_username',
    ])
    .where('p.user_id', '=', userId)
    .where('p.status', '=', 'invited')
    .orderBy('p.updated_at', 'desc')
    .orderBy('p.conversation_id', 'desc')
    .execute();
  return rows.map((r) => ({
    conversation: toConversation(r),
    participant: toParticipant({
      conversation_id: r.id,
      user_id: r.p_user_id,
      username: r.p_username,
      role: r.p_role,
      status: r.p_status,
      last_read_index: r.p_last_read_index,
      invited_by: r.p_invited_by,
      created_at: r.p_created_at,
      updated_at: r.p_updated_at,
    }),
    invitedByUsername: r.inviter_username,
  }));
}
