import { sql, type Kysely, type Transaction } from 'kysely';
import { newEventId } from '../../ids.js';
import type { MembershipEventType, ParticipantRecord, Storage, WebhookEventType, WebhookOutboxRecord, WebhookRecord } from '../storage.js';
import type { Database, WebhooksTable } from '../schema.js';
import { iso, toNumber } from './rows.js';

/** The webhook methods of `Storage`. */
export type WebhookStore = Pick<
  Storage,
  | 'setWebhook'
  | 'getWebhook'
  | 'deleteWebhook'
  | 'webhookFailures'
  | 'listWebhookWork'
  | 'listHookedConversationIds'
  | 'claimWebhookCursor'
  | 'listWebhookOutbox'
  | 'saveWebhookCursors'
  | 'releaseWebhookLeases'
  | 'releaseWebhookCursor'
>;

/**
 * Webhook configuration, delivery cursors and the membership outbox over Kysely, identical in
 * both databases (ADR 0016). Times are ISO text, which compares in time order.
 *
 * @example
 * const webhooks = webhookStore(db);
 * const work = await webhooks.listWebhookWork(new Date().toISOString(), 16);
 */
export function webhookStore(db: Kysely<Database>): WebhookStore {
  return {
    async setWebhook(webhook) {
      await db.transaction().execute(async (trx) => {
        const row: WebhooksTable = {
          api_key_id: webhook.apiKeyId,
          url: webhook.url,
          events: JSON.stringify(webhook.events),
          created_at: iso(webhook.createdAt),
          updated_at: iso(webhook.updatedAt),
        };
        await trx
          .insertInto('webhooks')
          .values(row)
          .onConflict((oc) => oc.column('api_key_id').doUpdateSet({ url: row.url, events: row.events, updated_at: row.updated_at }))
          .execute();
        // The key's conversations are heard from where they stand now, not from their start.
        await sql`insert into webhook_cursors (conversation_id, api_key_id, message_index, change_index, attempts)
            select h.id, c.api_key_id, h.last_message_index, h.last_change_index, 0
            from conversations c join conversation_heads h on h.id = c.id
            where c.api_key_id = ${webhook.apiKeyId}
              and not exists (select 1 from webhook_cursors w where w.conversation_id = c.id)`.execute(trx);
      });
    },
    async getWebhook(apiKeyId) {
      const row = await db.selectFrom('webhooks').selectAll().where('api_key_id', '=', apiKeyId).executeTakeFirst();
      return row && toWebhook(row);
    },
    deleteWebhook: (apiKeyId) =>
      db.transaction().execute(async (trx) => {
        await trx
          .deleteFrom('webhook_outbox')
          .where('conversation_id', 'in', (eb) => eb.selectFrom('webhook_cursors').select('conversation_id').where('api_key_id', '=', apiKeyId))
          .execute();
        await trx.deleteFrom('webhook_cursors').where('api_key_id', '=', apiKeyId).execute();
        const result = await trx.deleteFrom('webhooks').where('api_key_id', '=', apiKeyId).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      }),
    async webhookFailures(apiKeyId) {
      const failing = await db
        .selectFrom('webhook_cursors')
        .select(['last_error', 'next_attempt_at'])
        .where('api_key_id', '=', apiKeyId)
        .where('attempts', '>', 0)
        .orderBy('next_attempt_at', 'desc')
        .execute();
      return { failing: failing.length, lastError: failing[0]?.last_error ?? null, nextAttemptAt: failing[0]?.next_attempt_at ?? null };
    },
    async listWebhookWork(now, limit) {
      const at = iso(now);
      const rows = await db
        .selectFrom('webhook_cursors as w')
        .innerJoin('conversation_heads as h', 'h.id', 'w.conversation_id')
        .select('w.conversation_id')
        .where((eb) =>
          eb.and([
            eb.or([eb('w.lease_until', 'is', null), eb('w.lease_until', '<', at)]),
            eb.or([eb('w.next_attempt_at', 'is', null), eb('w.next_attempt_at', '<=', at)]),
            eb.or([
              eb('h.last_message_index', '>', eb.ref('w.message_index')),
              eb('h.last_change_index', '>', eb.ref('w.change_index')),
              eb.exists(eb.selectFrom('webhook_outbox as o').select('o.id').whereRef('o.conversation_id', '=', 'w.conversation_id')),
            ]),
          ]),
        )
        .orderBy('w.conversation_id')
        .limit(limit)
        .execute();
      return rows.map((r) => r.conversation_id);
    },
    async listHookedConversationIds() {
      const rows = await db.selectFrom('webhook_cursors').select('conversation_id').execute();
      return rows.map((r) => r.conversation_id);
    },
    async claimWebhookCursor(conversationId, owner, now, until) {
      // A read first: most calls are for conversations that are not hooked or are held, and a
      // read takes no write lock (on SQLite the event loop would wait for the append worker's).
      const current = await db
        .selectFrom('webhook_cursors')
        .select(['lease_owner', 'lease_until'])
        .where('conversation_id', '=', conversationId)
        .executeTakeFirst();
      if (current === undefined) return undefined;
      const held = (leaseUntil: string | null | undefined) => ({ heldUntil: leaseUntil ?? iso(now) });
      if (current.lease_until !== null && current.lease_until >= iso(now) && current.lease_owner !== owner) return held(current.lease_until);
      const claimed = await db
        .updateTable('webhook_cursors')
        .set({ lease_owner: owner, lease_until: iso(until) })
        .where('conversation_id', '=', conversationId)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', iso(now)), eb('lease_owner', '=', owner)]))
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 0) {
        // Taken between the read and the write (another process), or gone.
        const after = await db.selectFrom('webhook_cursors').select('lease_until').where('conversation_id', '=', conversationId).executeTakeFirst();
        return after === undefined ? undefined : held(after.lease_until);
      }
      const row = await db
        .selectFrom('webhook_cursors as w')
        .innerJoin('webhooks as k', 'k.api_key_id', 'w.api_key_id')
        .selectAll('k')
        .select(['w.message_index', 'w.change_index', 'w.attempts'])
        .where('w.conversation_id', '=', conversationId)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      return {
        conversationId,
        webhook: toWebhook(row),
        messageIndex: toNumber(row.message_index),
        changeIndex: toNumber(row.change_index),
        attempts: toNumber(row.attempts),
      };
    },
    async listWebhookOutbox(conversationId, limit) {
      const rows = await db
        .selectFrom('webhook_outbox')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(
        (r): WebhookOutboxRecord => ({
          id: r.id,
          conversationId: r.conversation_id,
          type: r.type as MembershipEventType,
          participant: JSON.parse(r.payload) as ParticipantRecord,
          createdAt: r.created_at,
        }),
      );
    },
    saveWebhookCursors: (owner, saves, releases) => saveCursors(db, owner, saves, releases),
    async releaseWebhookLeases() {
      await db.updateTable('webhook_cursors').set({ lease_owner: null, lease_until: null }).where('lease_owner', 'is not', null).execute();
    },
    async releaseWebhookCursor(conversationId, owner, failure) {
      const set =
        failure === undefined
          ? { lease_owner: null, lease_until: null }
          : {
              lease_owner: null,
              lease_until: null,
              attempts: sql<number>`attempts + 1`,
              last_error: failure.error.slice(0, 500),
              next_attempt_at: iso(failure.nextAttemptAt),
            };
      await db.updateTable('webhook_cursors').set(set).where('conversation_id', '=', conversationId).where('lease_owner', '=', owner).execute();
    },
  };
}

/** `saveWebhookCursors`: every save and release in one transaction; the conversations whose lease `owner` had lost. */
function saveCursors(
  db: Kysely<Database>,
  owner: string,
  saves: Parameters<Storage['saveWebhookCursors']>[1],
  releases: readonly string[],
): Promise<string[]> {
  if (saves.length === 0 && releases.length === 0) return Promise.resolve([]);
  return db.transaction().execute(async (trx) => {
    const lost: string[] = [];
    for (const save of saves) {
      const updated = await trx
        .updateTable('webhook_cursors')
        .set({
          message_index: save.messageIndex,
          change_index: save.changeIndex,
          attempts: 0,
          last_error: null,
          next_attempt_at: null,
          lease_until: iso(save.leaseUntil),
        })
        .where('conversation_id', '=', save.conversationId)
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) {
        lost.push(save.conversationId);
        continue;
      }
      if (save.deliveredOutboxIds !== undefined && save.deliveredOutboxIds.length > 0) {
        await trx.deleteFrom('webhook_outbox').where('conversation_id', '=', save.conversationId).where('id', 'in', save.deliveredOutboxIds).execute();
      }
    }
    if (releases.length > 0) {
      await trx
        .updateTable('webhook_cursors')
        .set({ lease_owner: null, lease_until: null })
        .where('conversation_id', 'in', releases)
        .where('lease_owner', '=', owner)
        .execute();
    }
    return lost;
  });
}

/** The webhook event of a participant's new status. */
export function membershipEventType(status: ParticipantRecord['status']): MembershipEventType {
  if (status === 'invited') return 'participantInvited';
  if (status === 'joined') return 'participantJoined';
  return 'participantLeft';
}

/**
 * In a transaction that changed participants of `conversationId`: writes each one's change to
 * the webhook outbox when the conversation is hooked (ADR 0016); otherwise writes nothing.
 *
 * @example
 * await recordMembership(trx, 'CH1', [participant]);
 */
export async function recordMembership(trx: Transaction<Database>, conversationId: string, participants: ParticipantRecord[]): Promise<void> {
  if (participants.length === 0) return;
  const hooked = await trx.selectFrom('webhook_cursors').select('conversation_id').where('conversation_id', '=', conversationId).executeTakeFirst();
  if (hooked === undefined) return;
  await trx
    .insertInto('webhook_outbox')
    .values(
      participants.map((p) => ({
        id: newEventId(),
        conversation_id: conversationId,
        type: membershipEventType(p.status),
        payload: JSON.stringify(p),
        created_at: iso(p.updatedAt),
      })),
    )
    .execute();
}

function toWebhook(row: WebhooksTable): WebhookRecord {
  return {
    apiKeyId: row.api_key_id,
    url: row.url,
    events: JSON.parse(row.events) as WebhookEventType[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
