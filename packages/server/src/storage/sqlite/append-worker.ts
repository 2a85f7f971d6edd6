import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { compileAppendBatch, type CommitBatch } from './append-batch.js';
import { packOutcomes, toWire, unpackItems, type AppendWorkerData, type FromWorker, type ToWorker } from './append-wire.js';

/*
 * The append worker: its own connection to the database file runs each batch's transaction,
 * so the COMMIT and its fsync block this thread, not the event loop. The event loop sends one
 * batch at a time and waits for its answer, so batches commit in call order. Checkpoints are
 * not run here: a PASSIVE pass (copy pages, fsync the database) would hold up every batch
 * behind it, while on the checkpoint worker's thread it overlaps the commits (ADR 0005).
 */

const port = parentPort;
if (port === null) throw new Error('append-worker must run in a worker thread');
const data = workerData as AppendWorkerData;
const db = new BetterSqlite3(data.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('foreign_keys = ON');
// The checkpoint worker checkpoints; a commit here must not.
db.pragma('wal_autocheckpoint = 0');
db.pragma(`journal_size_limit = ${String(data.journalSizeLimit)}`);
// Sleeping in SQLite's busy handler is harmless here: nothing else runs on this thread.
db.pragma(`busy_timeout = ${String(data.busyTimeoutMs)}`);

/**
 * How many nice levels this thread runs above the rest of the process, where it may (root,
 * `CAP_SYS_NICE`, or an `RLIMIT_NICE` that allows it; otherwise it stays level). On a server with
 * fewer cores than busy threads, the event loop and this thread share a core, and every ack
 * waits for a commit: with the same priority the scheduler lets the event loop run out its
 * slice first, so a commit's few hundred microseconds of CPU are spread over milliseconds. A
 * commit takes a bounded share of the CPU (it only runs for messages the event loop handed
 * over), so it cannot starve the event loop (docs/adr/0010, docs/performance.md).
 */
const PRIORITY_BOOST = 5;

function raisePriority(): boolean {
  // Linux applies a `setpriority(PRIO_PROCESS, 0)` to the calling thread alone; elsewhere it
  // would change the whole process, so the thread stays level there.
  if (process.platform !== 'linux') return false;
  try {
    setPriority(getPriority() - PRIORITY_BOOST);
    return true;
  } catch {
    return false;
  }
}
const priorityRaised = raisePriority();

let commitBatch: CommitBatch | undefined;
const post = (message: FromWorker): void => port.postMessage(message);

function runBatch(batch: ToWorker & { type: 'batch' }): void {
  try {
    // Prepared on first use: the tables exist only after `migrate()`.
    // Nothing else writes on this connection, so the batch may keep what it read (see there).
    commitBatch ??= compileAppendBatch(db, false, true);
    const outcomes = commitBatch(unpackItems(batch.items));
    // Without retryBusy the batch never returns BUSY: a taken lock is waited for, then thrown.
    if (!Array.isArray(outcomes)) throw new Error('append batch returned busy');
    post({ type: 'done', outcomes: packOutcomes(outcomes) });
  } catch (error) {
    post({ type: 'failed', error: toWire(error) });
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'batch') {
    runBatch(message);
    return;
  }
  // The checkpoint worker died: commits here must then checkpoint by themselves.
  if (message.type === 'autocheckpoint') {
    db.pragma(`wal_autocheckpoint = ${String(message.pages)}`);
    return;
  }
  db.close();
  port.close();
});
post({ type: 'ready', priorityRaised });
