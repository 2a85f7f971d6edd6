import type BetterSqlite3 from 'better-sqlite3';
import type { AppendResult, NewMessage } from '../storage.js';
import { appendedMessage, iso } from '../common/rows.js';
import { appendStatements, newBatchState, type AppendStatements, type BatchState } from './append-statements.js';

/**
 * One message as the batch writes it: a `NewMessage` whose attributes are already JSON, so it
 * crosses to the append worker as strings only (see append-wire.ts).
 */
export interface BatchItem extends Omit<NewMessage, 'attributes'> {
  attributes: string;
}

/**
 * A new message written at `index`: what its caller, holding the `NewMessage`, lacks to build
 * the stored record (`storedResult`). Duplicates and refusals come as the full `AppendResult`.
 */
export interface Appended {
  kind: 'appended';
  index: number;
  author: string;
  createdAt: string;
  /** The message's wire JSON, as stored in `message_json`. */
  json: string;
}

/** What one item of a batch came to: its result, or the error it alone failed with. */
export type Outcome = { ok: true; result: Appended | AppendResult } | { ok: false; error: unknown };

/** BEGIN IMMEDIATE found the write lock taken (the checkpoint worker, another process). */
export const BUSY = Symbol('busy');

/** Writes one batch in one transaction; `BUSY` when it could not start (nothing written). */
export interface CommitBatch {
  (items: readonly BatchItem[]): Outcome[] | typeof BUSY;
  /** Batches that read memberships and counters afresh; the others reused the previous batch's. */
  readonly freshReads: number;
}

/**
 * The batch item for `m`; throws what `JSON.stringify` throws for its attributes, so the
 * caller fails that append alone before the batch.
 *
 * @example
 * const item = toBatchItem(message); // item.attributes === '{}'
 */
export function toBatchItem(m: NewMessage): BatchItem {
  return { ...m, attributes: JSON.stringify(m.attributes) };
}

/**
 * The `AppendResult` for `m` from its outcome's result.
 *
 * @example
 * storedResult(message, { kind: 'appended', index: 3, author: 'ada', createdAt }); // { kind: 'ok', duplicate: false, ... }
 */
export function storedResult(m: NewMessage, result: Appended | AppendResult): AppendResult {
  if (result.kind !== 'appended') return result;
  return { kind: 'ok', message: appendedMessage(m, result.index, result.author, result.createdAt), duplicate: false, messageJson: result.json };
}

/**
 * Prepares the batch transaction on `db`. With `retryBusy`, BEGIN IMMEDIATE runs with
 * `busy_timeout = 0` and a taken lock returns `BUSY`, for the caller to retry on a timer: on
 * the event loop, SQLite's busy handler would sleep with every socket waiting. Without it (a
 * worker thread, where sleeping stops nothing else), the connection's busy_timeout applies.
 * Prepared lazily by callers: the tables exist only after `migrate()`.
 *
 * Per item the work is a primary-key membership lookup (cached for the batch), an
 * `INSERT ... ON CONFLICT DO NOTHING` on the client-id index, and, only when that inserted
 * nothing, a lookup of the original. Indexes are assigned in JS from one read of the
 * conversation's newest stored index; no counter is written back, since the stored messages
 * are the counter (`conversation_heads`, migration 0003), so a batch writes nothing but its
 * messages and their index entries. An item fails alone without a savepoint: its only write is one
 * INSERT, and SQLite backs out a failed statement while keeping the transaction; the index it
 * would have taken is handed to the next item, so no gap appears.
 *
 * With `keepState` (only for a connection on which nothing but these batches writes: the
 * append worker's), what a batch read (memberships, counters) is kept for the next batch while
 * no other connection has committed in between: `PRAGMA data_version`, read once the next
 * batch holds the write lock, changes exactly when another connection (the event loop's,
 * another process's) committed, and then everything is read afresh. So a removal or a message
 * written elsewhere is seen by the next batch, and a batch that failed is never trusted. It
 * does not change for the connection's own commits, which is why a connection shared with
 * other writes (the event loop's) must not keep state.
 *
 * @example
 * const commit = compileAppendBatch(sqlite, true);
 * const outcomes = commit([message]); // BUSY, or one outcome per message, after COMMIT
 */
export function compileAppendBatch(db: BetterSqlite3.Database, retryBusy: boolean, keepState = false): CommitBatch {
  const s = appendStatements(db);
  const dataVersion = db.prepare<[], number>('pragma data_version').pluck();
  let state = newBatchState();
  let freshReads = 0;
  // data_version as of our last commit; undefined when the state must not be trusted.
  let committedAt: number | undefined;
  let trustedAt: number | undefined;
  let readAt: number | undefined;
  const all = db.transaction((items: readonly BatchItem[]) => {
    readAt = keepState ? dataVersion.get() : undefined;
    if (readAt === undefined || readAt !== trustedAt || tooLarge(state)) {
      state = newBatchState();
      freshReads += 1;
    }
    return items.map((m) => appendItem(db, s, state, m));
  });
  const run = (items: readonly BatchItem[]): Outcome[] => {
    trustedAt = committedAt;
    committedAt = undefined;
    const outcomes = all.immediate(items);
    // Our own commit leaves data_version as it was: the state is exactly what is stored.
    committedAt = readAt;
    return outcomes;
  };
  const counted = (fn: (items: readonly BatchItem[]) => Outcome[] | typeof BUSY): CommitBatch =>
    Object.defineProperty(fn, 'freshReads', { get: () => freshReads }) as CommitBatch;
  // IMMEDIATE takes the write lock up front, so another connection cannot make us fail midway.
  if (!retryBusy) return counted(run);
  const noWait = db.prepare('pragma busy_timeout = 0');
  const wait = db.prepare(`pragma busy_timeout = ${String(db.pragma('busy_timeout', { simple: true }))}`);
  return counted((items: readonly BatchItem[]) => {
    noWait.get();
    try {
      return run(items);
    } catch (error) {
      if (isBusy(error) && !db.inTransaction) return BUSY;
      throw error;
    } finally {
      wait.get();
    }
  });
}

// Kept across batches, the state is bounded like the username cache.
const STATE_LIMIT = 10_000;

function tooLarge(state: BatchState): boolean {
  return state.members.size > STATE_LIMIT || state.conversations.size > STATE_LIMIT;
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT';
}

function appendItem(db: BetterSqlite3.Database, s: AppendStatements, state: BatchState, m: BatchItem): Outcome {
  try {
    return { ok: true, result: appendOne(s, state, m) };
  } catch (error) {
    // A constraint error backs out its statement only; anything that ended the transaction
    // (I/O error, disk full) must fail the whole batch, or later items would autocommit.
    if (!db.inTransaction) throw error;
    return { ok: false, error };
  }
}

function appendOne(s: AppendStatements, state: BatchState, m: BatchItem): Appended | AppendResult {
  const author = s.joinedAuthor(state, m.conversationId, m.authorId);
  if (author === undefined) return { kind: 'not_participant' };
  // What can throw runs before the write, so a failing item writes nothing.
  const createdAt = iso(m.createdAt);
  const conversation = s.conversation(state, m.conversationId);
  if (conversation === undefined) return { kind: 'not_participant' };
  const index = conversation.last + 1;
  const json = s.insert(m, index, author, createdAt);
  if (json === undefined) {
    // Only a repeated (conversation, author, client id) is ignored by the insert.
    const original = m.clientId === null ? undefined : s.byClientId(m.conversationId, m.authorId, m.clientId, author);
    if (original === undefined) throw new Error(`message ${m.id} was neither inserted nor found`);
    return { kind: 'ok', message: original, duplicate: true };
  }
  conversation.last = index;
  return { kind: 'appended', index, author, createdAt, json };
}
