import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Options for `startWalCheckpointer`. */
export interface WalCheckpointerOptions {
  /** The database file (not ':memory:'). */
  file: string;
  /** Time between checkpoint passes; default 500 ms. */
  intervalMs?: number;
  /** WAL size (in frames) above which a pass ends with TRUNCATE; default 16,384 (64 MiB). */
  truncateFrames?: number;
  /** Called once if the worker dies; the caller falls back to in-process autocheckpoints. */
  onFailure?(error: unknown): void;
}

/** A running checkpoint worker. */
export interface WalCheckpointer {
  /** Finishes the pass in progress, closes the worker's connection and ends the thread. */
  stop(): Promise<void>;
}

/*
 * The worker's code, evaluated as CommonJS so that it needs no file of its own beside the
 * compiled output (and runs unchanged under vitest). One pass: PASSIVE checkpoints, repeated
 * while commits landed during the previous one, so that the WAL ends fully copied and the next
 * writer restarts it from the beginning; TRUNCATE only when the file grew large anyway. PASSIVE
 * never takes the write lock; TRUNCATE does, so it runs right after a PASSIVE (little left to
 * copy) and with busy_timeout 0 (it gives up instead of making writers wait).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 0');
const checkpoint = (mode) => db.pragma('wal_checkpoint(' + mode + ')')[0];
function pass() {
  let result = checkpoint('PASSIVE');
  for (let i = 0; i < 4 && result.busy === 0 && result.checkpointed < result.log; i += 1) result = checkpoint('PASSIVE');
  if (result.log >= workerData.truncateFrames) checkpoint('TRUNCATE');
}
const timer = setInterval(() => {
  try {
    pass();
  } catch (error) {
    if (error && error.code !== 'SQLITE_BUSY' && error.code !== 'SQLITE_LOCKED') throw error;
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  process.exit(0);
});
parentPort.postMessage('ready');
`;

const driver = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * Checkpoints a WAL database from a worker thread with its own connection, so the commit on
 * the event loop never pays for copying pages into the database and fsyncing it. The caller
 * sets `wal_autocheckpoint = 0` on its connection. Durability does not depend on the
 * checkpoint: with `synchronous = FULL` every commit is fsynced in the WAL.
 *
 * @example
 * const checkpointer = await startWalCheckpointer({ file: './data/parley.sqlite' });
 * await checkpointer.stop();
 */
export async function startWalCheckpointer(opts: WalCheckpointerOptions): Promise<WalCheckpointer> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { driver, file: opts.file, intervalMs: opts.intervalMs ?? 500, truncateFrames: opts.truncateFrames ?? 16_384 },
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let stopping = false;
  let failed = false;
  worker.on('error', (error) => {
    if (stopping || failed) return;
    failed = true;
    opts.onFailure?.(error);
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('exit', () => reject(new Error('WAL checkpoint worker exited before it was ready')));
  });
  // Between start and stop it must not keep the process alive on its own; while either is
  // awaited it must, or a process with nothing else to do would exit mid-await.
  worker.unref();
  return {
    async stop() {
      if (stopping) return exited;
      stopping = true;
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
