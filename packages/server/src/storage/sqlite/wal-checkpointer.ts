import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Options for `startWalCheckpointer`. */
export interface WalCheckpointerOptions {
  /** The database file (not ':memory:'). */
  file: string;
  /** Time between checkpoint passes; default 250 ms. */
  intervalMs?: number;
  /** WAL size (in frames) above which a pass ends with RESTART; default 4,096 (16 MiB of 4 KiB pages). */
  restartFrames?: number;
  /** How long RESTART waits for a commit in progress to end; default 100 ms. */
  busyTimeoutMs?: number;
  /** Called once if the worker dies; the caller falls back to in-process autocheckpoints. */
  onFailure?(error: unknown): void;
  /** Holds new write batches; resolves, once none is in flight, with the function resuming them. */
  pauseWrites?(): Promise<() => void>;
  /**
   * An open descriptor of the database file, owned by the caller, which must close it only
   * after every connection of this process to the file is closed (closing any descriptor of a
   * file drops the process's POSIX locks on it, SQLite's included). When given, a pass that
   * copied pages flushes them with `fdatasync` right away, outside any pause.
   */
  flushFd?: number;
}

/** A running checkpoint worker. */
export interface WalCheckpointer {
  /** Finishes the pass in progress, closes the worker's connection and ends the thread. */
  stop(): Promise<void>;
  /** Database flushes made outside a pause so far (`flushFd`; for tests). */
  readonly flushes: number;
}

/*
 * The worker's code, evaluated as CommonJS so that it needs no file of its own beside the
 * compiled output (and runs unchanged under vitest). Each pass runs a PASSIVE checkpoint: it
 * copies committed pages into the database and fsyncs it without taking the write lock. Under
 * steady writes PASSIVE never finds the WAL idle, so the log is never restarted and only grows
 * (a RESTART waiting for a gap between back-to-back commits starves). So once the log passes
 * `restartFrames`, the worker asks the main thread to hold new batches ('pause'); once the
 * batch in flight is done ('paused') it runs RESTART, which has little left to copy right
 * after a PASSIVE, and lets the batches go on ('resume'). The event loop never waits for it.
 * RESTART rather than TRUNCATE: the next commits overwrite the file's existing blocks from the
 * start, while a file truncated and grown again costs block allocation and journalled
 * metadata in every fsync (measured: +50 % system CPU per message).
 *
 * PASSIVE syncs the database only when it copied the whole log, which under steady commits it
 * never does, so every page copied since the last restart would be flushed by the RESTART,
 * while new batches are held. With `flushFd`, each pass that copied pages flushes them at once
 * instead, while commits go on, and the RESTART is left little to flush (storage alone at
 * 10,000 appends/s across 1,000 groups: the hold 6.0-7.1 ms instead of 10.7-11.6 ms on
 * average, append p99 11.9-16.0 ms instead of 16.5-21.7 in seven pairs; docs/performance.md,
 * change 20).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { fdatasyncSync } = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
const checkpoint = (mode) => db.pragma('wal_checkpoint(' + mode + ')')[0];
let waiting = false;
let flushedAt = '';
const flush = (result) => {
  // 'checkpointed' counts the log's frames copied so far and 'log' its frames (both start
  // over when the log restarts): while neither moved, nothing new was copied.
  const at = result.checkpointed + '/' + result.log;
  if (workerData.flushFd === undefined || result.checkpointed <= 0 || at === flushedAt) return;
  flushedAt = at;
  fdatasyncSync(workerData.flushFd);
  parentPort.postMessage('flushed');
};
const tolerant = (fn) => {
  try {
    fn();
  } catch (error) {
    if (error && error.code !== 'SQLITE_BUSY' && error.code !== 'SQLITE_LOCKED') throw error;
  }
};
const timer = setInterval(() => {
  if (waiting) return;
  tolerant(() => {
    const result = checkpoint('PASSIVE');
    flush(result);
    if (result.log < workerData.restartFrames) return;
    waiting = true;
    parentPort.postMessage('pause');
  });
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message === 'paused') {
    try {
      tolerant(() => checkpoint('RESTART'));
    } finally {
      waiting = false;
      parentPort.postMessage('resume');
    }
    return;
  }
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
    workerData: { driver, file: opts.file, intervalMs: opts.intervalMs ?? 250,
      restartFrames: opts.restartFrames ?? 4096,
      busyTimeoutMs: opts.busyTimeoutMs ?? 100,
      flushFd: opts.flushFd,
    },
  });
  let stopping = false;
  let resume: (() => void) | undefined;
  const release = (): void => {
    if (resume === undefined) return;
    resume();
    resume = undefined;
    if (!stopping) worker.unref();
  };
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      release();
      resolve();
    }),
  );
  let failed = false;
  worker.on('error', (error) => {
    if (stopping || failed) return;
    failed = true;
    opts.onFailure?.(error);
  });
  let flushes = 0;
  worker.on('message', (message) => {
    if (message === 'flushed') flushes += 1;
    if (message === 'resume') release();
    if (message !== 'pause') return;
    // Held appends wait for the worker's answer: it must keep the process alive meanwhile.
    worker.ref();
    const pause = opts.pauseWrites ?? (() => Promise.resolve(() => undefined));
    void pause().then((resumeWrites) => {
      resume = resumeWrites;
      if (stopping) release();
      else worker.postMessage('paused');
    });
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('exit', () => reject(new Error('WAL checkpoint worker exited before it was ready')));
  });
  // Between start and stop it must not keep the process alive on its own; while either is
  // awaited it must, or a process with nothing else to do would exit mid-await.
  worker.unref();
  return {
    get flushes() {
      return flushes;
    },
    async stop() {
      if (stopping) return exited;
      stopping = true;
      release();
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
