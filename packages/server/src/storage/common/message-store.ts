import type { Kysely, Updateable } from 'kysely';
import type { MessageChange, MessageRecord, Storage } from '../storage.js';
import type { Database, MessagesTable } from '../schema.js';
import { messageColumns, toMessage, toNumber } from './rows.js';

/** The messages of one conversation with their authors' names, as records' columns. */
function messagesOf(db: Kysely<Database>, conversationId: string) {
  return db
    .selectFrom('messages as m')
    .innerJoin('users as u', 'u.id', 'm.author_id')
    .select(messageColumns)
    .where('m.conversation_id', '=', conversationId);
}

/**
 * A page of history, oldest first. Both directions are range scans of the
 * (conversation_id, idx) primary key, so page cost does not grow with the conversation.
 *
 * @example
 * const { messages, hasMore } = await listMessages(db, 'CH1', { before: 500, limit: 50 });
 */
export const listMessages = async (
  db: Kysely<Database>,
  conversationId: string,
  page: Parameters<Storage['listMessages']>[1],
): Promise<{ messages: MessageRecord[]; hasMore: boolean }> => {
  const limit = Math.max(0, Math.floor(page.limit));
  const forward = page.after !== undefined;
  let query = messagesOf(db, conversationId);
  if (page.after !== undefined) query = query.where('m.idx', '>', page.after);
  if (page.before !== undefined) query = query.where('m.idx', '<', page.before);
  // One extra row tells whether another page exists in the paging direction.
  const rows = await query
    .orderBy('m.idx', forward ? 'asc' : 'desc')
    .limit(limit + 1)
    .execute();
  const hasMore = rows.length > limit;
  const pageRows = rows.slice(0, limit);
  if (!forward) pageRows.reverse();
  return { messages: pageRows.map(toMessage), hasMore };
};

/**
 * `listMessages` as JSON text: a `MessageRecord` has exactly the fields of the wire `Message`.
 *
 * @example
 * const { messagesJson } = await listMessagesJson(db, 'CH1', { limit: 50 }); // '[{"id":...}]'
 */
export const listMessagesJson = async (
  db: Kysely<Database>,
  conversationId: string,
  page: Parameters<Storage['listMessages']>[1],
): Promise<{ messagesJson: string; hasMore: boolean }> => {
  const { messages, hasMore } = await listMessages(db, conversationId, page);
  return { messagesJson: JSON.stringify(messages), hasMore };
};

/**
 * One message of the conversation, removed or not.
 *
 * @example
 * const message = await getMessage(db, 'CH1', 'IM1');
 */
export async function getMessage(db: Kysely<Database>, conversationId: string, messageId: string): Promise<MessageRecord | undefined> {
  const row = await messagesOf(db, conversationId)
    .where('m.id', '=', messageId)
    .executeTakeFirst();
  return row && toMessage(row);
}

/** Sets `values` on one message row (the primary key's conversation, then the id index). */
function updateMessage(db: Kysely<Database>, conversationId: string, messageId: string, values: Updateable<MessagesTable>) {
  return db.updateTable('messages').set(values).where('conversation_id', '=', conversationId).where('id', '=', messageId);
}

/** Moves a conversation's change counter by `by`. */
function bumpChangeIndex(db: Kysely<Database>, conversationId: string, by: 1 | -1) {
  return db
    .updateTable('conversations')
    .set((eb) => ({ last_change_index: eb('last_change_index', '+', by) }))
    .where('id', '=', conversationId);
}

/**
 * Edits or removes a message in one transaction, unless it is already removed: a removal
 * empties the body and the attributes and keeps the row, so its index stays taken. The change
 * takes the conversation's next change index (migration 0006). With
 * `storesJson` (SQLite, migration 0004) the stored wire JSON is rewritten with the change.
 *
 * @example
 * const result = await changeMessage(db, 'CH1', 'IM1', { kind: 'edit', body: 'fixed', at: now }, true);
 * result?.changed // false when the message was already removed
 */
export function changeMessage(
  db: Kysely<Database>,
  conversationId: string,
  messageId: string,
  change: MessageChange,
  storesJson: boolean,
): Promise<{ message: MessageRecord; changed: boolean } | undefined> {
  return db.transaction().execute(async (trx) => {
    // Taking the conversation's next change number first also takes its row lock on PostgreSQL
    // (in the order appends take it), so concurrent changes get distinct, increasing numbers.
    const counter = await bumpChangeIndex(trx, conversationId, 1).returning('last_change_index').executeTakeFirst();
    if (counter === undefined) return undefined;
    const change_index = toNumber(counter.last_change_index);
    const values =
      change.kind === 'edit'
        ? { body: change.body, edited_at: change.at, change_index }
        : { body: '', attributes: '{}', removed_at: change.at, change_index };
    const updated = await updateMessage(trx, conversationId, messageId, values).where('removed_at', 'is', null).executeTakeFirst();
    const changed = updated.numUpdatedRows > 0n;
    // Nothing changed (no such message, or already removed): give the number back, under the
    // same lock, so the counter stays the newest change a message carries.
    if (!changed) await bumpChangeIndex(trx, conversationId, -1).execute();
    const message = await getMessage(trx, conversationId, messageId);
    if (message === undefined) return undefined;
    if (changed && storesJson) {
      // A record has exactly the keys of the wire `Message` (the optional ones only when set).
      await updateMessage(trx, conversationId, messageId, { message_json: JSON.stringify(message) }).execute();
    }
    return { message, changed };
  });
}

/**
 * Messages changed after the conversation's change counter stood at `afterChange`, in the
 * order of their latest change (a seek of the partial index `messages_changes`), without those
 * above index `upTo`.
 *
 * @example
 * const { messages, hasMore } = await listChangedMessages(db, 'CH1', { afterChange: 4, upTo: 120, limit: 100 });
 */
export async function listChangedMessages(
  db: Kysely<Database>,
  conversationId: string,
  page: Parameters<Storage['listChangedMessages']>[1],
): Promise<{ messages: MessageRecord[]; hasMore: boolean }> {
  const limit = Math.max(0, Math.floor(page.limit));
  const rows = await messagesOf(db, conversationId)
    .where('m.change_index', 'is not', null)
    .where('m.change_index', '>', page.afterChange)
    .where('m.idx', '<=', page.upTo)
    .orderBy('m.change_index', 'asc')
    .limit(limit + 1)
    .execute();
  return { messages: rows.slice(0, limit).map(toMessage), hasMore: rows.length > limit };
}
