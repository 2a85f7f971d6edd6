import type BetterSqlite3 from 'better-sqlite3';
import type { MessageRecord } from '../storage.js';
import type { BatchItem } from './append-batch.js';
import { storedMessage } from '../common/rows.js';

/**
 * A conversation's newest index as the batch sees it. Nothing writes it back: the stored
 * messages are the counter (`conversation_heads`, migration 0003).
 */
export interface ConversationState {
  last: number;
}

/**
 * What batches have read so far. Nothing else writes while a batch's transaction holds the
 * write lock, so a membership or counter read once stays true until the commit, and after it
 * for as long as no other connection commits (`compileAppendBatch` checks `data_version`).
 */
export interface BatchState {
  /** `conversationId \n userId` -> author's username, or null when not joined. */
  members: Map<string, string | null>;
  /** Conversations touched by the batch; absent ones are read on first use. */
  conversations: Map<string, ConversationState | null>;
}

/** A fresh, empty `BatchState`. */
export function newBatchState(): BatchState {
  return { members: new Map(), conversations: new Map() };
}

/** The batcher's prepared statements, with the caching that sits in front of them. */
export interface AppendStatements {
  /** The author's username when they are a joined participant, else undefined. */
  joinedAuthor(state: BatchState, conversationId: string, userId: string): string | undefined;
  /** The conversation's newest index, or undefined when it does not exist. */
  conversation(state: BatchState, conversationId: string): ConversationState | undefined;
  /** Inserts the message with its `messageJson` and returns that text; undefined when its client id was already used by the author. */
  insert(m: BatchItem, index: number, author: string, createdAt: string): string | undefined;
  /** The stored message for a repeated client id. */
  byClientId(conversationId: string, authorId: string, clientId: string, author: string): MessageRecord | undefined;
}

/**
 * The message as the JSON text of its wire `Message` (the keys and order of `presentMessage`),
 * stored with it in `message_json` so that history pages need not render it again (migration
 * 0004). `m.attributes` is already JSON text.
 *
 * @example
 * messageJson(item, 3, 'ada', '2026-12-03T12:00:00.000Z'); // '{"id":"IM...","conversationId":"CH...","index":3,...}'
 */
export function messageJson(m: BatchItem, index: number, author: string, createdAt: string): string {
  const q = JSON.stringify;
  return (
    `{"id":${q(m.id)},"conversationId":${q(m.conversationId)},"index":${String(index)},"authorId":${q(m.authorId)},` +
    `"author":${q(author)},"body":${q(m.body)},"clientId":${q(m.clientId)},"attributes":${m.attributes},"createdAt":${q(createdAt)}}`
  );
}

// Usernames never change and users are never deleted, so they are safe to keep across batches.
const USERNAME_CACHE_LIMIT = 10_000;

type StoredMessage = [
  id: string,
  idx: number,
  body: string,
  attributes: string,
  createdAt: string,
  editedAt: string | null,
  removedAt: string | null,
  changeIndex: number | null,
];

/**
 * Prepares the hot-path statements once; every lookup is a single primary-key or unique-index
 * seek, and `.pluck()`/`.raw()` avoid building row objects.
 *
 * @example
 * const s = appendStatements(sqlite);
 * if (s.joinedAuthor(state, 'CH1', 'US1') !== undefined) s.insert(item, 1, 'ada', createdAt);
 */
export function appendStatements(db: BetterSqlite3.Database): AppendStatements {
  const status = db
    .prepare<[string, string], string>('select status from participants where conversation_id = ? and user_id = ?')
    .pluck();
  const username = db.prepare<[string], string>('select username from users where id = ?').pluck();
  // The counter every read sees (a seek to the end of the conversation's primary-key range;
  // SQLite flattens the view and leaves its unused last-activity subquery out); no row when the
  // conversation does not exist.
  const counter = db.prepare<[string], number>('select last_message_index from conversation_heads where id = ?').pluck();
  const insert = db.prepare(
    `insert into messages (conversation_id, idx, id, author_id, body, client_id, attributes, created_at, message_json)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict (conversation_id, author_id, client_id) do nothing`,
  );
  const original = db
    .prepare<[string, string, string], StoredMessage>(
      `select id, idx, body, attributes, created_at, edited_at, removed_at, change_index from messages
       where conversation_id = ? and author_id = ? and client_id = ?`,
    )
    .raw();
  const usernames = new Map<string, string>();

  const usernameOf = (userId: string): string | undefined => {
    const known = usernames.get(userId);
    if (known !== undefined) return known;
    const name = username.get(userId);
    if (name === undefined) return undefined;
    if (usernames.size >= USERNAME_CACHE_LIMIT) usernames.clear();
    usernames.set(userId, name);
    return name;
  };

  return {
    joinedAuthor(state, conversationId, userId) {
      const key = `${conversationId}\n${userId}`;
      let author = state.members.get(key);
      if (author === undefined) {
        author = status.get(conversationId, userId) === 'joined' ? (usernameOf(userId) ?? null) : null;
        state.members.set(key, author);
      }
      return author ?? undefined;
    },
    conversation(state, conversationId) {
      let conversation = state.conversations.get(conversationId);
      if (conversation === undefined) {
        const last = counter.get(conversationId);
        conversation = last === undefined ? null : { last };
        state.conversations.set(conversationId, conversation);
      }
      return conversation ?? undefined;
    },
    insert(m, index, author, createdAt) {
      const json = messageJson(m, index, author, createdAt);
      const { changes } = insert.run(m.conversationId, index, m.id, m.authorId, m.body, m.clientId, m.attributes, createdAt, json);
      return changes > 0 ? json : undefined;
    },
    byClientId(conversationId, authorId, clientId, author) {
      const row = original.get(conversationId, authorId, clientId);
      if (row === undefined) return undefined;
      const [id, index, body, attributes, createdAt, editedAt, removedAt, changeIndex] = row;
      return storedMessage(conversationId, { id, index, authorId, author, body, clientId, attributes, createdAt, editedAt, removedAt, changeIndex });
    },
  };
}
