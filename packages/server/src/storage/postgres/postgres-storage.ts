import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Storage } from '../storage.js';
import type { Database } from '../schema.js';
import { runMigrations } from '../migrations.js';
import { createKyselyStorage } from '../common/kysely-storage.js';
import { PgAppendBatcher } from './postgres-append-batcher.js';

/** Options for `openPostgresStorage`. */
export interface PostgresStorageOptions {
  connectionString: string;
  /** Schema to use (created if missing); isolates test runs. Defaults to the server's search_path. */
  schema?: string;
  /** Pool size; 10 by default. */
  max?: number;
  /** Append batches in flight at once, each holding a pooled connection; by default half the pool. */
  appendBatches?: number;
  /** Called with errors of idle pooled connections (e.g. a server restart); ignored by default. */
  onPoolError?: (error: Error) => void;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Connects to PostgreSQL through a `pg.Pool` and returns it as `Storage`.
 *
 * @example
 * const storage = await openPostgresStorage({ connectionString: process.env.DATABASE_URL! });
 * await storage.migrate();
 */
export async function openPostgresStorage(opts: PostgresStorageOptions): Promise<Storage> {
  if (opts.schema !== undefined) await ensureSchema(opts.connectionString, opts.schema);
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max ?? 10,
    ...(opts.schema === undefined ? {} : { options: `-c search_path=${opts.schema}` }),
  });
  // Without a listener, an idle client's error (server restart, network drop) is an
  // uncaught 'error' event that kills the process. The pool discards that client and
  // connects afresh on the next request.
  const onError = (error: Error): void => opts.onPoolError?.(error);
  pool.on('error', onError);
  // The pool only listens on idle clients; a checked-out client whose connection drops
  // would emit an unhandled 'error'. Its query still rejects, so callers see the failure.
  pool.on('connect', (client) => client.on('error', onError));

  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // Half the pool leaves connections for reads, so history pages never wait behind ingest.
  const max = opts.max ?? 10;
  const batcher = new PgAppendBatcher(pool, { maxInFlight: opts.appendBatches ?? Math.max(1, Math.floor(max / 2)) });
  let migrationSchema = opts.schema;

  return createKyselyStorage(db, {
    kind: 'postgres',
    storesMessageJson: false,
    isUniqueViolation: (error) => (error as { code?: unknown } | null)?.code === '23505',
    async migrate() {
      // Kysely looks for its bookkeeping tables in every schema unless told which one.
      migrationSchema ??= await currentSchema(pool);
      await runMigrations(db, migrationSchema);
    },
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

async function ensureSchema(connectionString: string, schema: string): Promise<void> {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name (lowercase letters, digits, _): ${schema}`);
  const client = new pg.Client({ connectionString });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`create schema if not exists "${schema}"`);
  } catch (error) {
    // Two processes creating it at once: one wins, the other sees a unique violation.
    const code = (error as { code?: unknown }).code;
    if (code !== '23505' && code !== '42P06') throw error;
  } finally {
    await client.end();
  }
}

async function currentSchema(pool: pg.Pool): Promise<string> {
  const result = await pool.query<{ schema: string | null }>('select current_schema() as schema');
  return result.rows[0]?.schema ?? 'public';
}
