import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { AppendResult, NewMessage } from '../storage.js';
import { enqueue, settle, type Pending } from './append-batcher.js';
import { fromWire, packItems, unpackOutcomes, type AppendWorkerData, type FromWorker, type ToWorker } from './append-wire.js';
import { PauseGate } from './pause-gate.js';

/** What the storage appends through: the worker, or the in-thread batcher. */
export interface AppendSink {
  append(message: NewMessage): Promise<AppendResult>;
  drain(): Promise<void>;
  /** Holds new batches; resolves, once none is in flight, with the function resuming them. */
  pause(): Promise<() => void>;
}

/** Options for `startAppendWorker`. */
export interface AppendWorkerOptions {
  /** The database file (not ':memory:'), already in WAL mode. */
  file: string;
  /** The worker's busy_timeout for BEGIN IMMEDIATE; default 5,000 ms. */
  busyTimeoutMs?: number;
  /** Size the WAL file is trimmed to after a restart; default 64 MiB. */
  journalSizeLimit?: number;
  /** Called once if the worker dies; returns where the remaining appends go (in-thread). */
  fallBack(error: unknown): AppendSink;
}

/*
 * The worker's entry. From dist it is the compiled `append-worker.js` beside this file; from
 * the TypeScript sources (vitest) it is `append-worker.ts`, loaded through tsx (a dev
 * dependency, so only resolved then). The bootstrap is evaluated as CommonJS, as the
 * checkpoint worker's code is, so both cases start the same way.
 */
const fromSources = import.meta.url.endsWith('.ts');
const entry = new URL(fromSources ? './append-worker.ts' : './append-worker.js', import.meta.url).href;
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.tsx !== undefined) require(workerData.tsx).register();
import(workerData.entry).catch((error) => { process.nextTick(() => { throw error; }); });
`;

/**
 * Starts the append worker (its own connection to `file`) and waits until it is ready;
 * rejects if it cannot start, in which case the caller keeps appending in-thread.
 *
 * @example
 * const appends = await startAppendWorker({ file, fallBack: () => new AppendBatcher(sqlite, withConnection) });
 * const result = await appends.append(message);
 */
export async function startAppendWorker(opts: AppendWorkerOptions): Promise<WorkerAppendBatcher> {
  const data: AppendWorkerData = {
    file: opts.file,
    busyTimeoutMs: opts.busyTimeoutMs ?? 5000,
    journalSizeLimit: opts.journalSizeLimit ?? 64 * 1024 * 1024,
  };
  const tsx = fromSources ? createRequire(import.meta.url).resolve('tsx/esm/api') : undefined;
  const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { ...data, entry, tsx } });
  // The worker's first message is always its `ready`.
  type Ready = Extract<FromWorker, { type: 'ready' }>;
  const ready = await new Promise<Ready>((resolve, reject) => {
    const onExit = (): void => reject(new Error('append worker exited before it was ready'));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (message: Ready) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      resolve(message);
    });
  });
  return new WorkerAppendBatcher(worker, opts.fallBack, ready.priorityRaised);
}

/**
 * Group commit through the append worker: appends made in one event-loop turn go to the
 * worker as one batch; while it commits, new appends accumulate and go as the next batch
 * when it answers, so batches grow with load. Exactly one batch is in flight, so call order
 * is commit order. Each promise settles after the worker reports its COMMIT (durable).
 *
 * @example
 * const appends = await startAppendWorker({ file, fallBack });
 * await appends.append(message);
 * await appends.drain();
 */
export class WorkerAppendBatcher implements AppendSink {
  #queue: Pending[] = [];
  #inFlight: Pending[] | undefined;
  #scheduled = false;
  #closed = false;
  #stopping = false;
  #fallback: AppendSink | undefined;
  #idle: (() => void)[] = [];
  readonly #gate = new PauseGate(() => this.#post());
  #exited: Promise<void>;
  #batches = 0;

  constructor(
    private readonly worker: Worker,
    private readonly fallBack: (error: unknown) => AppendSink,
    /** Whether the worker's thread runs above the event loop's priority (see append-worker.ts). */
    readonly priorityRaised: boolean,
  ) {
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (message: FromWorker) => this.#answer(message));
    worker.on('error', (error) => this.#died(error));
    worker.once('exit', (code) => this.#died(new Error(`append worker exited (code ${String(code)})`)));
    // Idle, it must not keep the process alive; with a batch in flight it must.
    worker.unref();
  }

  /** Batches posted to the worker so far (for metrics and tests). */
  get batches(): number {
    return this.#batches;
  }

  /** Queues one message; resolves once its batch is committed. */
  append(message: NewMessage): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new Error('storage is closed'));
    if (this.#fallback !== undefined) return this.#fallback.append(message);
    return enqueue(this.#queue, message, () => {
      if (this.#scheduled || this.#inFlight !== undefined) return;
      // At the end of the turn, so the turn's appends go as one batch.
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#post();
      });
    });
  }

  /** Refuses new appends, settles the in-flight and queued ones, then stops the worker. */
  async drain(): Promise<void> {
    this.#closed = true;
    if (this.#fallback === undefined && (this.#inFlight !== undefined || this.#queue.length > 0 || this.#scheduled)) {
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
    if (this.#fallback === undefined) {
      this.#stopping = true;
      this.worker.ref();
      this.worker.postMessage({ type: 'stop' } satisfies ToWorker);
      await this.#exited;
    }
    await this.#fallback?.drain();
  }

  /**
   * Holds new batches (the checkpoint worker's RESTART needs the write lock); resolves once
   * no batch is in flight, with the function that lets them go on.
   */
  pause(): Promise<() => void> {
    if (this.#fallback !== undefined) return this.#fallback.pause();
    return this.#gate.pause(this.#inFlight !== undefined);
  }

  /** Lets the worker's commits checkpoint by themselves (the checkpoint worker is gone). */
  autocheckpoint(pages: number): void {
    if (this.#fallback === undefined) this.worker.postMessage({ type: 'autocheckpoint', pages } satisfies ToWorker);
  }

  /** Ends the worker thread as a crash would (tests, and the fall-back path's own checks). */
  async terminateWorker(): Promise<void> {
    await this.worker.terminate();
  }

  #post(): void {
    if (this.#inFlight !== undefined || this.#fallback !== undefined || this.#gate.paused) return;
    if (this.#queue.length === 0) {
      for (const notify of this.#idle.splice(0)) notify();
      return;
    }
    const batch = this.#queue;
    this.#queue = [];
    this.#inFlight = batch;
    this.#batches += 1;
    this.worker.ref();
    this.worker.postMessage({ type: 'batch', items: packItems(batch.map((p) => p.item)) } satisfies ToWorker);
  }

  #answer(message: FromWorker): void {
    const batch = this.#inFlight;
    if (batch === undefined || message.type === 'ready') return;
    this.#inFlight = undefined;
    this.worker.unref();
    if (message.type === 'done') settle(batch, unpackOutcomes(message.outcomes));
    else {
      const error = fromWire(message.error);
      batch.forEach((p) => p.reject(error));
    }
    this.#gate.batchEnded();
    // What accumulated meanwhile goes at once: it has already waited one commit.
    this.#post();
  }

  /** Fails the in-flight batch (it may not have committed) and moves on in-thread. */
  #died(error: unknown): void {
    if (this.#stopping || this.#fallback !== undefined) return;
    const failure = new Error('append worker died; the batch may not have been committed', { cause: error });
    const batch = this.#inFlight ?? [];
    this.#inFlight = undefined;
    batch.forEach((p) => p.reject(failure));
    const fallback = this.fallBack(error);
    this.#fallback = fallback;
    for (const p of this.#queue.splice(0)) fallback.append(p.message).then(p.resolve, p.reject);
    // A pause granted here holds nothing any more; the next one goes to the fallback.
    this.#gate.batchEnded();
    for (const notify of this.#idle.splice(0)) notify();
  }
}
