import { closeSync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Storage } from '../storage.js';
import type { Database } from '../schema.js';
import { runMigrations } from '../migrations.js';
import { createKyselyStorage } from '../common/kysely-storage.js';
import { AppendBatcher, type WithConnection } from './append-batcher.js';
import { sqliteReads } from './sqlite-reads.js';
import { StatementCache } from './statement-cache.js';
import { startWalCheckpointer, type WalCheckpointer } from './wal-checkpointer.js';
import { startAppendWorker, type AppendSink } from './worker-append-batcher.js';

// SQLite's own default; what the connection falls back to if the checkpoint worker dies.
const AUTOCHECKPOINT_PAGES = 1000;
// After a checkpoint lets the WAL restart, the first commit trims the file back to this size.
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

/** Options for `openSqliteStorage`. */
export interface SqliteStorageOptions {
  /** Path of the database file (parent directories are created), or ':memory:'. */
  file: string;
}

/**
 * Opens (creating if needed) a SQLite database as `Storage`. WAL with `synchronous = FULL`:
 * a resolved write survives a crash or power loss.
 *
 * @example
 * const storage = await openSqliteStorage({ file: './data/parley.sqlite' });
 * await storage.migrate();
 */
export async function openSqliteStorage(opts: SqliteStorageOptions): Promise<Storage> {
  const inMemory = opts.file === ':memory:' || opts.file === '';
  if (!inMemory) await mkdir(dirname(opts.file), { recursive: true });
  const sqlite = new BetterSqlite3(opts.file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  // Another process (a CLI command, a second server) may hold the write lock briefly.
  sqlite.pragma('busy_timeout = 5000');

  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new StatementCache(sqlite) }) });
  // Kysely's SQLite driver has one connection behind a mutex; holding it keeps the batch's
  // raw transaction from interleaving with a Kysely transaction on the same handle.
  const withConnection: WithConnection = (fn) => db.connection().execute(async () => fn());
  const batcher = new AppendBatcher(sqlite, withConnection);
  const appends = inMemory ? batcher : await commitOffThread(opts.file, batcher);
  // Closed only after every connection below: closing a descriptor of the file drops this
  // process's POSIX locks on it, SQLite's included.
  const flushFd = inMemory ? undefined : openSync(opts.file, 'r+');
  const checkpointer = inMemory ? undefined : await moveCheckpointsOffThread(sqlite, opts.file, appends, flushFd);

  return createKyselyStorage(db, {
    kind: 'sqlite',
    storesMessageJson: true,
    isUniqueViolation: isSqliteUniqueViolation,
    migrate: () => runMigrations(db),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      // The checkpoint worker first: it releases a pause of the batcher. The main connection
      // must close last, so that its close checkpoints and removes the WAL.
      await checkpointer?.stop();
      await appends.drain();
      await db.destroy();
      if (flushFd !== undefined) closeSync(flushFd);
    },
    appendMessage: (message) => appends.append(message),
    reads: sqliteReads(sqlite, withConnection),
  });
}

/**
 * Moves the append transactions (and their fsyncs) to a worker thread with its own
 * connection. If it cannot start, appends run on this thread; if it dies later, the same.
 */
async function commitOffThread(file: string, inThread: AppendBatcher): Promise<AppendSink & Partial<AutoCheckpoint>> {
  try {
    return await startAppendWorker({ file, journalSizeLimit: JOURNAL_SIZE_LIMIT, fallBack: () => inThread });
  } catch {
    return inThread;
  }
}

/**
 * Turns off checkpoints inside commits (they fsync the database file on the event loop every
 * ~1,000 pages) and runs them from a worker thread instead. Falls back to autocheckpoints if
 * the worker cannot start or dies, so the WAL never grows without bound.
 */
async function moveCheckpointsOffThread(
  sqlite: BetterSqlite3.Database,
  file: string,
  appends: AppendSink & Partial<AutoCheckpoint>,
  flushFd: number | undefined,
): Promise<WalCheckpointer | undefined> {
  sqlite.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
  const fallBack = (): void => {
    if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    appends.autocheckpoint?.(AUTOCHECKPOINT_PAGES);
  };
  sqlite.pragma('wal_autocheckpoint = 0');
  try {
    return await startWalCheckpointer({ file, onFailure: fallBack, pauseWrites: () => appends.pause(), flushFd });
  } catch {
    fallBack();
    return undefined;
  }
}

/** The append worker's connection, told to checkpoint by itself. */
interface AutoCheckpoint {
  autocheckpoint(pages: number): void;
}

function isSqliteUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
