import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { compileAppendBatch, type CommitBatch } from './append-batch.js';
import { outcomeToWire, toWire, type AppendWorkerData, type FromWorker, type ToWorker } from './append-wire.js';

/*
 * The append worker: its own connection to the database file runs each batch's transaction,
 * so the COMMIT and its fsync block this thread, not the event loop. The event loop sends one
 * batch at a time and waits for its answer, so batches commit in call order. Between batches
 * it also runs the WAL checkpoints (the connections have `wal_autocheckpoint = 0`): PASSIVE
 * on a timer, and RESTART once the log passes `restartFrames`. RESTART needs no writer
 * active; since this thread is the one that writes batches, a moment between two batches is
 * such a gap, and the event loop's own writes are short (a briefly waiting busy handler).
 * RESTART rather than TRUNCATE: the next commits overwrite the file's existing blocks from the
 * start, instead of paying block allocation in every fsync (ADR 0005).
 */

const port = parentPort;
if (port === null) throw new Error('append-worker must run in a worker thread');
const data = workerData as AppendWorkerData;
const db = new BetterSqlite3(data.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('foreign_keys = ON');
db.pragma('wal_autocheckpoint = 0');
db.pragma(`journal_size_limit = ${String(data.journalSizeLimit)}`);
// Sleeping in SQLite's busy handler is harmless here: nothing else runs on this thread.
db.pragma(`busy_timeout = ${String(data.busyTimeoutMs)}`);

let commitBatch: CommitBatch | undefined;
const post = (message: FromWorker): void => port.postMessage(message);

function runBatch(messages: ToWorker & { type: 'batch' }): void {
  try {
    // Prepared on first use: the tables exist only after `migrate()`.
    commitBatch ??= compileAppendBatch(db, false);
    const outcomes = commitBatch(messages.messages);
    // Without retryBusy the batch never returns BUSY: a taken lock is waited for, then thrown.
    if (!Array.isArray(outcomes)) throw new Error('append batch returned busy');
    post({ type: 'done', outcomes: outcomes.map(outcomeToWire) });
  } catch (error) {
    post({ type: 'failed', error: toWire(error) });
  }
}

function checkpoint(): void {
  db.pragma(`busy_timeout = ${String(data.checkpointBusyTimeoutMs)}`);
  try {
    const passive = db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
    if ((passive[0]?.log ?? 0) >= data.restartFrames) db.pragma('wal_checkpoint(RESTART)');
  } catch (error) {
    // A lock still taken after the wait: the next pass tries again.
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== 'SQLITE_BUSY' && code !== 'SQLITE_LOCKED') throw error;
  } finally {
    db.pragma(`busy_timeout = ${String(data.busyTimeoutMs)}`);
  }
}

const timer = setInterval(checkpoint, data.checkpointIntervalMs);
port.on('message', (message: ToWorker) => {
  if (message.type === 'batch') {
    runBatch(message);
    return;
  }
  clearInterval(timer);
  db.close();
  port.close();
});
post({ type: 'ready' });
