import type BetterSqlite3 from 'better-sqlite3';
import type { AppendResult, NewMessage } from '../storage.js';
import { BUSY, compileAppendBatch, storedResult, toBatchItem, type BatchItem, type CommitBatch, type Outcome } from './append-batch.js';
import { PauseGate } from './pause-gate.js';

/** Runs `fn` while holding the only SQLite connection, so no Kysely transaction interleaves. */
export type WithConnection = <T>(fn: () => T) => Promise<T>;

/** A queued append, as the batch will write it, and its promise's settlers. */
export interface Pending {
  message: NewMessage;
  item: BatchItem;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/**
 * Queues `message` on `queue` and returns its promise; rejects at once, queuing nothing, if
 * its attributes cannot be serialised, so that append fails alone.
 *
 * @example
 * return enqueue(this.#queue, message, () => this.#schedule(0));
 */
export function enqueue(queue: Pending[], message: NewMessage, queued: () => void): Promise<AppendResult> {
  let item: BatchItem;
  try {
    item = toBatchItem(message);
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((resolve, reject) => {
    queue.push({ message, item, resolve, reject });
    queued();
  });
}

// How long a batch keeps retrying a taken write lock before failing, as busy_timeout did.
const BUSY_GIVE_UP_MS = 5000;
const BUSY_RETRY_MS = 1;

/**
 * Group commit for `appendMessage` on the event loop's own connection (`':memory:'`, or when
 * the append worker is not running): every append made in one event-loop turn is written in a
 * single transaction (one fsync; see `compileAppendBatch`), and each promise settles only
 * after that commit.
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
  readonly #gate = new PauseGate(() => {
    if (this.#queue.length > 0) this.#schedule(0);
  });
  #busySince: number | undefined;
  #inFlight: Promise<void> = Promise.resolve();
  #commitBatch: CommitBatch | undefined;

  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    private readonly withConnection: WithConnection,
  ) {}

  /** Queues one message; resolves once its batch is committed. */
  append(message: NewMessage): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new Error('storage is closed'));
    return enqueue(this.#queue, message, () => this.#schedule(0));
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
    return this.#gate.pause(this.#running);
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
    if (this.#running || this.#gate.paused || this.#queue.length === 0) return;
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
    this.#gate.batchEnded();
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
    // Prepared lazily: the tables exist only after `migrate()`.
    this.#commitBatch ??= compileAppendBatch(this.sqlite, true);
    return this.#commitBatch(batch.map((p) => p.item));
  }
}

/**
 * Settles each pending append with its outcome, in order.
 *
 * @example
 * settle(batch, outcomes); // outcomes[i] settles batch[i]
 */
export function settle(batch: readonly Pending[], outcomes: readonly Outcome[]): void {
  batch.forEach((pending, i) => {
    const outcome = outcomes[i];
    if (outcome === undefined) pending.reject(new Error('append outcome missing'));
    else if (outcome.ok) pending.resolve(storedResult(pending.message, outcome.result));
    else pending.reject(outcome.error);
  });
}
