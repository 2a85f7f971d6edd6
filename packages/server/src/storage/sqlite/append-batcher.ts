import type BetterSqlite3 from 'better-sqlite3';
import type { AppendResult, NewMessage } from '../storage.js';
import { iso } from '../common/rows.js';
import { appendStatements, newBatchState, type AppendStatements, type BatchState } from './append-statements.js';

/** Runs `fn` while holding the only SQLite connection, so no Kysely transaction interleaves. */
export type WithConnection = <T>(fn: () => T) => Promise<T>;

interface Pending {
  message: NewMessage;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; result: AppendResult } | { ok: false; error: unknown };

/** BEGIN IMMEDIATE found the write lock taken (the checkpoint worker, another process). */
const BUSY = Symbol('busy');
// How long a batch keeps retrying a taken write lock before failing, as busy_timeout did.
const BUSY_GIVE_UP_MS = 5000;
const BUSY_RETRY_MS = 1;

/**
 * Group commit for `appendMessage`: every append made in one event-loop turn is written in a
 * single transaction (one fsync), and each promise settles only after that commit.
 *
 * Per item the work is a primary-key membership lookup (cached for the batch), an
 * `INSERT ... ON CONFLICT DO NOTHING` on the client-id index, and, only when that inserted
 * nothing, a lookup of the original. Indexes are assigned in JS from one read of
 * `last_message_index` per conversation, and the counter is written once per conversation at
 * the end of the batch. An item fails alone without a savepoint: its only write is one
 * INSERT, and SQLite backs out a failed statement while keeping the transaction; the index it
 * would have taken is handed to the next item, so no gap appears.
 *
 * @example
 * const batcher = new AppendBatcher(sqlite, withConnection);
 * const result = await batcher.append(message);
 */
export class AppendBatcher {
  #queue: Pending[] = [];
  #scheduled = false;
  #closed = false;
  #running = false;
  #paused = 0;
  #idle: (() => void)[] = [];
  #busySince: number | undefined;
  #inFlight: Promise<void> = Promise.resolve();
  #commitBatch: ((items: Pending[]) => Outcome[] | typeof BUSY) | undefined;

  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    private readonly withConnection: WithConnection,
  ) {}

  /** Queues one message; resolves once its batch is committed. */
  append(message: NewMessage): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new Error('storage is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ message, resolve, reject });
      this.#schedule(0);
    });
  }

  /** Refuses new appends and waits for queued ones to commit. */
  async drain(): Promise<void> {
    this.#closed = true;
    // A pause ends when its checkpoint does (or when the checkpointer stops, which close() does first).
    while (this.#scheduled || this.#running || this.#queue.length > 0) await new Promise((r) => setImmediate(r));
    await this.#inFlight;
  }

  /**
   * Holds new batches (the checkpoint worker's RESTART needs the write lock); resolves once
   * no batch is in flight, with the function that lets them go on.
   */
  pause(): Promise<() => void> {
    this.#paused += 1;
    let resumed = false;
    const resume = (): void => {
      if (resumed) return;
      resumed = true;
      this.#paused -= 1;
      if (this.#paused === 0 && this.#queue.length > 0) this.#schedule(0);
    };
    if (!this.#running) return Promise.resolve(resume);
    return new Promise((resolve) => this.#idle.push(() => resolve(resume)));
  }

  #schedule(delayMs: number): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    if (delayMs === 0) setImmediate(() => this.#flush());
    else setTimeout(() => this.#flush(), delayMs);
  }

  /** One batch at a time: appends made while one is in flight form the next, in call order. */
  #flush(): void {
    this.#scheduled = false;
    if (this.#running || this.#paused > 0 || this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#running = true;
    const run = this.withConnection(() => this.#commit(batch)).then(
      (outcomes) => this.#done(batch, outcomes),
      (error: unknown) => this.#done(batch, { error }),
    );
    this.#inFlight = this.#inFlight.then(() => run);
  }

  #done(batch: Pending[], outcomes: Outcome[] | typeof BUSY | { error: unknown }): void {
    this.#running = false;
    for (const notify of this.#idle.splice(0)) notify();
    if (outcomes === BUSY) {
      const now = Date.now();
      this.#busySince ??= now;
      if (now - this.#busySince < BUSY_GIVE_UP_MS) {
        // Nothing of the batch ran; it goes back in front of what arrived since, in order.
        this.#queue = batch.concat(this.#queue);
        this.#schedule(BUSY_RETRY_MS);
        return;
      }
      outcomes = { error: new Error('database is locked (write lock busy for 5 s)') };
    }
    this.#busySince = undefined;
    if (Array.isArray(outcomes)) settle(batch, outcomes);
    else batch.forEach((p) => p.reject(outcomes.error));
    if (this.#queue.length > 0) this.#schedule(0);
  }

  #commit(batch: Pending[]): Outcome[] | typeof BUSY {
    this.#commitBatch ??= this.#compile();
    return this.#commitBatch(batch);
  }

  /** Prepared lazily: the tables exist only after `migrate()`. */
  #compile(): (items: Pending[]) => Outcome[] | typeof BUSY {
    const s = appendStatements(this.sqlite);
    const all = this.sqlite.transaction((items: Pending[]) => {
      const state = newBatchState();
      const outcomes = items.map((item) => this.#appendItem(s, state, item.message));
      s.writeCounters(state);
      return outcomes;
    });
    // IMMEDIATE takes the write lock up front, so another process cannot make us fail midway.
    // Without busy_timeout for that BEGIN: a taken lock is retried on a timer, never waited
    // for in a sleep that would stop the event loop.
    const noWait = this.sqlite.prepare('pragma busy_timeout = 0');
    const wait = this.sqlite.prepare(`pragma busy_timeout = ${String(this.sqlite.pragma('busy_timeout', { simple: true }))}`);
    return (items) => {
      noWait.get();
      try {
        return all.immediate(items);
      } catch (error) {
        if (isBusy(error) && !this.sqlite.inTransaction) return BUSY;
        throw error;
      } finally {
        wait.get();
      }
    };
  }

  #appendItem(s: AppendStatements, state: BatchState, m: NewMessage): Outcome {
    try {
      return { ok: true, result: appendOne(s, state, m) };
    } catch (error) {
      // A constraint error backs out its statement only; anything that ended the transaction
      // (I/O error, disk full) must fail the whole batch, or later items would autocommit.
      if (!this.sqlite.inTransaction) throw error;
      return { ok: false, error };
    }
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT';
}

function settle(batch: Pending[], outcomes: Outcome[]): void {
  batch.forEach((pending, i) => {
    const outcome = outcomes[i];
    if (outcome === undefined) pending.reject(new Error('append outcome missing'));
    else if (outcome.ok) pending.resolve(outcome.result);
    else pending.reject(outcome.error);
  });
}

function appendOne(s: AppendStatements, state: BatchState, m: NewMessage): AppendResult {
  const author = s.joinedAuthor(state, m.conversationId, m.authorId);
  if (author === undefined) return { kind: 'not_participant' };
  // What can throw runs before the write, so a failing item writes nothing.
  if (state.time.raw !== m.createdAt) state.time = { raw: m.createdAt, iso: iso(m.createdAt) };
  const createdAt = state.time.iso;
  const attributes = JSON.stringify(m.attributes);
  const conversation = s.conversation(state, m.conversationId);
  if (conversation === undefined) return { kind: 'not_participant' };
  const index = conversation.last + 1;
  const inserted = s.insert(m, index, attributes, createdAt);
  if (!inserted) {
    // Only a repeated (conversation, author, client id) is ignored by the insert.
    const original = m.clientId === null ? undefined : s.byClientId(m.conversationId, m.authorId, m.clientId, author);
    if (original === undefined) throw new Error(`message ${m.id} was neither inserted nor found`);
    return { kind: 'ok', message: original, duplicate: true };
  }
  conversation.last = index;
  conversation.activityAt = createdAt;
  conversation.dirty = true;
  const message = {
    id: m.id,
    conversationId: m.conversationId,
    index,
    authorId: m.authorId,
    author,
    body: m.body,
    clientId: m.clientId,
    attributes: m.attributes,
    createdAt,
  };
  return { kind: 'ok', message, duplicate: false };
}
