import type { Kysely, Updateable } from 'kysely';
import type { MessageChange, MessageRecord, Storage } from '../storage.js';
import type { Database, MessagesTable } from '../schema.js';
import { messageColumns, toMessage } from './rows.js';

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
  let query = db
    .selectFrom('messages as m')
    .innerJoin('users as u', 'u.id', 'm.author_id')
    .select(messageColumns)
    .where('m.conversation_id', '=', conversationId);
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
  const row = await db
    .selectFrom('messages as m')
    .innerJoin('users as u', 'u.id', 'm.author_id')
    .select(messageColumns)
    .where('m.conversation_id', '=', conversationId)
    .where('m.id', '=', messageId)
    .executeTakeFirst();
  return row && toMessage(row);
}

/** Sets `values` on one message row (the primary key's conversation, then the id index). */
function updateMessage(db: Kysely<Database>, conversationId: string, messageId: string, values: Updateable<MessagesTable>) {
  return db.updateTable('messages').set(values).where('conversation_id', '=', conversationId).where('id', '=', messageId);
}

/**
 * Edits or removes a message in one transaction, unless it is already removed: a removal
 * empties the body and the attributes and keeps the row, so its index stays taken. With
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
    const values =
      change.kind === 'edit' ? { body: change.body, edited_at: change.at } : { body: '', attributes: '{}', removed_at: change.at };
    const updated = await updateMessage(trx, conversationId, messageId, values).where('removed_at', 'is', null).executeTakeFirst();
    const message = await getMessage(trx, conversationId, messageId);
    if (message === undefined) return undefined;
    const changed = updated.numUpdatedRows > 0n;
    if (changed && storesJson) {
      // A record has exactly the keys of the wire `Message` (the optional ones only when set).
      await updateMessage(trx, conversationId, messageId, { message_json: JSON.stringify(message) }).execute();
    }
    return { message, changed };
  });
}
