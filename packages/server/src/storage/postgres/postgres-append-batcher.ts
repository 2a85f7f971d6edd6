import pg from 'pg';
import type { AppendResult, NewMessage } from '../storage.js';
import { appendBatchPg } from './postgres-append-batch.js';
import { appendMessagePg } from './postgres-append.js';

interface Pending {
  message: NewMessage;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/** Options for `PgAppendBatcher`. */
export interface PgAppendBatcherOptions {
  /**
   * Lanes, i.e. batches running at once, each on its own pooled connection; keep it below the
   * pool size so other queries still get a connection.
   */
  maxInFlight?: number;
  /** Largest batch; more queued appends wait for the next one. */
  maxBatch?: number;
  /** Attempts of one batch that hits a deadlock or serialization failure. */
  maxAttempts?: number;
}

// Deadlocks cannot come from our own lock order, but can from other writers (and from unique
// index waits on a racing retry); both are safe to retry as a whole.
const RETRYABLE = new Set(['40P01', '40001']);

/**
 * Group commit for `appendMessage` on PostgreSQL: appends made in one event-loop turn, or while
 * the previous batch is in flight, go into one transaction (`appendBatchPg`), and each promise
 * settles only after that transaction commits. Conversations are spread over `maxInFlight`
 * lanes with at most one batch in flight each. A batch of one uses the
 * single-statement path, so an idle server answers in one round trip.
 *
 * If a batch fails on an item's data (a taken message id, a racing retry), the batch is rolled
 * back and its items are appended one by one, in order, so the bad one fails alone. A lost
 * connection rejects the batch's items, and the pool replaces the connection.
 *
 * @example
 * const batcher = new PgAppendBatcher(pool, { maxInFlight: 4 });
 * const result = await batcher.append(message);
 */
export class PgAppendBatcher {
  /** One queue per lane; `busy` while the lane's batch is in flight. */
  readonly #lanes: { queue: Pending[]; busy: boolean }[];
  #scheduled = false;
  #closed = false;
  #inFlight = 0;
  #idle: (() => void)[] = [];
  readonly #maxBatch: number;
  readonly #maxAttempts: number;

  constructor(
    private readonly pool: pg.Pool,
    options: PgAppendBatcherOptions = {},
  ) {
    const lanes = Math.max(1, options.maxInFlight ?? 4);
    this.#lanes = Array.from({ length: lanes }, () => ({ queue: [], busy: false }));
    this.#maxBatch = Math.max(1, options.maxBatch ?? 1000);
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  }

  /** Queues one message; resolves once its batch is committed. */
  append(message: NewMessage): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new Error('storage is closed'));
    const lane = this.#lanes[laneOf(message.conversationId, this.#lanes.length)];
    if (lane === undefined) return Promise.reject(new Error('append lane missing'));
    return new Promise((resolve, reject) => {
      lane.queue.push({ message, resolve, reject });
      this.#schedule();
    });
  }

  /** Refuses new appends and waits until every queued one has settled. */
  async drain(): Promise<void> {
    this.#closed = true;
    if (this.#isIdle()) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #isIdle(): boolean {
    return this.#inFlight === 0 && this.#lanes.every((lane) => lane.queue.length === 0);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // Flushing after the turn lets every frame read in this turn join the batch.
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    for (const lane of this.#lanes) {
      if (lane.busy || lane.queue.length === 0) continue;
      const batch = lane.queue.splice(0, this.#maxBatch);
      lane.busy = true;
      this.#inFlight += 1;
      // #run settles every item itself; the catch only guards against a bug leaving one pending.
      void this.#run(batch)
        .catch((error: unknown) => batch.forEach((p) => p.reject(error)))
        .finally(() => {
          lane.busy = false;
          this.#inFlight -= 1;
          if (lane.queue.length > 0) this.#schedule();
          if (this.#isIdle()) this.#idle.splice(0).forEach((resolve) => resolve());
        });
    }
  }

  async #run(batch: Pending[]): Promise<void> {
    const first = batch[0];
    if (batch.length === 1 && first !== undefined) {
      await appendMessagePg(this.pool, first.message).then(first.resolve, first.reject);
      return;
    }
    try {
      const results = await this.#commit(batch.map((p) => p.message));
      batch.forEach((p, i) => {
        const result = results[i];
        if (result === undefined) p.reject(new Error('append result missing'));
        else p.resolve(result);
      });
    } catch (error) {
      if (!isDataError(error)) {
        batch.forEach((p) => p.reject(error));
        return;
      }
      // Rare: find the bad item by appending one at a time, in call order.
      for (const p of batch) await appendMessagePg(this.pool, p.message).then(p.resolve, p.reject);
    }
  }

  async #commit(messages: NewMessage[]): Promise<AppendResult[]> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await appendBatchPg(client, messages);
        } catch (error) {
          if (attempt >= this.#maxAttempts || !RETRYABLE.has(sqlState(error) ?? '')) throw error;
        }
      }
    } catch (error) {
      // Anything but a statement error from a live session may have left the connection unusable.
      if (sqlState(error) === undefined || isConnectionError(error)) broken = toError(error);
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

/**
 * A conversation always uses the same lane, so a process never has two batches waiting on each
 * other's row locks, and its appends to one conversation commit in call order.
 */
function laneOf(conversationId: string, lanes: number): number {
  let hash = 0;
  for (let i = 0; i < conversationId.length; i += 1) hash = (hash * 31 + conversationId.charCodeAt(i)) | 0;
  return Math.abs(hash % lanes);
}

/** The SQLSTATE of an error the server sent; undefined for socket errors (ECONNRESET, EPIPE). */
function sqlState(error: unknown): string | undefined {
  return error instanceof pg.DatabaseError ? error.code : undefined;
}

/** Class 22 (data exception) and 23 (integrity constraint): caused by an item, not the batch. */
function isDataError(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

/** Class 08 (connection exception) and 57 (operator intervention: terminated, shutting down). */
function isConnectionError(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && (state.startsWith('08') || state.startsWith('57'));
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
