import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageContract } from '../storage.contract.js';
import { expectOk, makeConversation, makeUser, newMessage } from '../contract/fixtures.js';
import { openStorage } from '../open-storage.js';
import type { Storage } from '../storage.js';
import { openPostgresStorage } from './postgres-storage.js';

// Tests are the one place outside config that reads the environment: they choose their database.
const url = process.env.PARLEY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const inCi = process.env.CI === 'true';
const schema = `parley_test_${randomBytes(6).toString('hex')}`;
const howToStart =
  'start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` ' +
  'or point PARLEY_TEST_PG_URL at a reachable server';

async function reachability(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const unreachable = await reachability();

if (unreachable !== undefined && inCi) {
  describe('PostgreSQL storage', () => {
    beforeAll(() => {
      throw new Error(`PostgreSQL at ${url} is unreachable (${unreachable}); CI requires it: ${howToStart}`);
    });
    it('needs PostgreSQL', () => undefined);
  });
} else if (unreachable !== undefined) {
  console.warn(`Skipping the PostgreSQL storage suite: ${url} is unreachable (${unreachable}); ${howToStart}.`);
  describe.skip('PostgreSQL storage', () => {
    it('needs PostgreSQL', () => undefined);
  });
} else {
  afterAll(async () => {
    await admin((c) => c.query(`drop schema if exists "${schema}" cascade`));
  });

  storageContract('postgres', () => openPostgresStorage({ connectionString: url, schema }));
  postgresOnlyTests();
}

function postgresOnlyTests(): void {
  describe('PostgreSQL storage', () => {
    const opened: Storage[] = [];
    const open = async (connectionString = url): Promise<Storage> => {
      const storage = await openPostgresStorage({ connectionString, schema, max: 5 });
      opened.push(storage);
      await storage.migrate();
      return storage;
    };
    afterAll(async () => {
      await Promise.all(opened.map((s) => s.close()));
    });

    it('keeps indexes 1..N gapless when two pools (two processes) send to one conversation', async () => {
      const [a, b] = await Promise.all([open(), open()]);
      if (a === undefined || b === undefined) throw new Error('pools');
      const users = await Promise.all([1, 2, 3].map(() => makeUser(a)));
      const [admin1, ...members] = users as [(typeof users)[number], ...typeof users];
      const c = await makeConversation(a, admin1, { members });
      const n = 120;
      const sends = Array.from({ length: n }, (_, i) => {
        const author = users[i % users.length];
        if (author === undefined) throw new Error('fixture');
        return (i % 2 === 0 ? a : b).appendMessage(newMessage(c.id, author));
      });
      const indexes = (await Promise.all(sends)).map((r) => expectOk(r).message.index);
      expect(indexes.sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, k) => k + 1));
      const page = await b.listMessages(c.id, { limit: 100, after: 20 });
      expect(page.messages.map((m) => m.index)).toEqual(Array.from({ length: 100 }, (_, k) => k + 21));
    });

    it('fails in-flight requests catchably when connections die, then recovers', async () => {
      const appName = `parley_kill_${randomBytes(4).toString('hex')}`;
      const sep = url.includes('?') ? '&' : '?';
      const storage = await open(`${url}${sep}application_name=${appName}`);
      const ada = await makeUser(storage);
      const c = await makeConversation(storage, ada);
      const locker = new pg.Client({ connectionString: url });
      await locker.connect();
      try {
        // Hold the conversation's row lock so the append is provably in flight when killed.
        await locker.query('begin');
        await locker.query(`select 1 from "${schema}".conversations where id = $1 for update`, [c.id]);
        const inFlight = storage.appendMessage(newMessage(c.id, ada));
        inFlight.catch(() => undefined);
        await waitFor(async () => (await countWaiting(locker, appName)) > 0);
        await locker.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [appName]);
        await expect(inFlight).rejects.toThrow();
        await locker.query('rollback');
      } finally {
        await locker.end();
      }
      await waitFor(async () => storage.ping().then(() => true, () => false));
      expect(expectOk(await storage.appendMessage(newMessage(c.id, ada))).message.index).toBe(1);
    });

    it('is what openStorage picks for a postgres:// URL', async () => {
      const storage = await openStorage({ databaseUrl: url, dataDir: '/nonexistent' });
      expect(storage.kind).toBe('postgres');
      await storage.ping();
      await storage.close();
    });
  });
}

async function countWaiting(client: pg.Client, appName: string): Promise<number> {
  const result = await client.query<{ n: string }>(
    `select count(*) as n from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'`,
    [appName],
  );
  return Number(result.rows[0]?.n ?? 0);
}

/** Polls a condition that an event outside our process (PostgreSQL) makes true. */
async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
