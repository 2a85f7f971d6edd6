import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

/** The machine's shared PostgreSQL and Redis (SPEC 1); each test file isolates itself inside them. */
export const PG_URL = process.env.PARLEY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const HOW_TO_START = [
  'PostgreSQL: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  'Redis: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
].join('; ');

async function pgReachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (err) {
    return `PostgreSQL unreachable at ${PG_URL} (${err instanceof Error ? err.message : String(err)})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function redisReachable(): Promise<string | null> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return null;
  } catch (err) {
    return `Redis unreachable at ${REDIS_URL} (${err instanceof Error ? err.message : String(err)})`;
  } finally {
    probe.disconnect();
  }
}

/**
 * True when PostgreSQL and Redis both answer. Under `CI=true` an unreachable service is an
 * error (the suites must never silently skip there); elsewhere it warns how to start them.
 */
export async function servicesAvailable(suite: string): Promise<boolean> {
  const problems = (await Promise.all([pgReachable(), redisReachable()])).filter((p): p is string => p !== null);
  if (problems.length === 0) return true;
  const text = `${suite}: ${problems.join('; ')}. Start them with: ${HOW_TO_START}`;
  if (process.env.CI === 'true') throw new Error(text);
  console.warn(`Skipping ${text}`);
  return false;
}

/** A fresh PostgreSQL schema for one test file, and the DATABASE_URL that selects it. */
export interface TestSchema {
  name: string;
  /** DATABASE_URL whose connections use this schema (libpq `options=-c search_path=...`). */
  url: string;
  drop(): Promise<void>;
}

/** Appends libpq query parameters to a postgres:// URL. */
export function withParams(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [key, value] of Object.entries(params)) u.searchParams.set(key, value);
  return u.toString();
}

/**
 * Creates `parley_mp_<random>`; `drop()` removes it with everything in it. The schema is
 * selected through the connection URL, so the server needs no schema setting of its own.
 */
export async function createSchema(base = PG_URL): Promise<TestSchema> {
  const name = `parley_mp_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: base });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create schema "${name}"`);
  return {
    name,
    url: withParams(base, { options: `-c search_path=${name}` }),
    drop: () => admin(`drop schema if exists "${name}" cascade`),
  };
}

/** A Redis channel no other test run uses. */
export function uniqueChannel(): string {
  return `parley:test:${randomBytes(6).toString('hex')}`;
}
