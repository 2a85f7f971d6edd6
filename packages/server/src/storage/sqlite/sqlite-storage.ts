import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Storage } from '../storage.js';
import type { Database } from '../schema.js';
import { runMigrations } from '../migrations.js';
import { createKyselyStorage } from '../common/kysely-storage.js';
import { AppendBatcher, type WithConnection } from './append-batcher.js';

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

  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  // Kysely's SQLite driver has one connection behind a mutex; holding it keeps the batch's
  // raw transaction from interleaving with a Kysely transaction on the same handle.
  const withConnection: WithConnection = (fn) => db.connection().execute(async () => fn());
  const batcher = new AppendBatcher(sqlite, withConnection);

  return createKyselyStorage(db, {
    kind: 'sqlite',
    isUniqueViolation: isSqliteUniqueViolation,
    migrate: () => runMigrations(db),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await batcher.drain();
      await db.destroy();
    },
    appendMessage: (message) => batcher.append(message),
  });
}

function isSqliteUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
