import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageContract } from '../storage.contract.js';
import { at, expectOk, makeConversation, makeUser, newMessage, uid } from '../contract/fixtures.js';
import { openStorage } from '../open-storage.js';
import type { AppendResult, Storage, UserRecord } from '../storage.js';
import { openPostgresStorage } from './postgres-storage.js';
import { appendBatchPg } from './postgres-append-batch.js';

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
    const open = async (connectionString = url, appendBatches?: number): Promise<Storage> => {
      const storage = await openPostgresStorage({ connectionString, schema, max: 5, ...(appendBatches === undefined ? {} : { appendBatches }) });
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

    /**
     * Opens a storage whose connections carry their own application_name, holds the new
     * conversation's row lock so the appends `start` makes are provably in flight, then kills
     * those connections and returns how each append settled.
     */
    async function killAppendsInFlight(appendBatches: number | undefined, start: (storage: Storage, conversationId: string, ada: UserRecord) => Promise<unknown>[]) {
      const appName = `parley_kill_${randomBytes(4).toString('hex')}`;
      const sep = url.includes('?') ? '&' : '?';
      const storage = await open(`${url}${sep}application_name=${appName}`, appendBatches);
      const ada = await makeUser(storage);
      const c = await makeConversation(storage, ada);
      const locker = new pg.Client({ connectionString: url });
      await locker.connect();
      try {
        await locker.query('begin');
        await locker.query(`select 1 from "${schema}".conversations where id = $1 for update`, [c.id]);
        const inFlight = start(storage, c.id, ada);
        inFlight.forEach((p) => p.catch(() => undefined));
        await waitFor(async () => (await countWaiting(locker, appName)) > 0);
        await locker.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [appName]);
        const settled = await Promise.allSettled(inFlight);
        await locker.query('rollback');
        return { storage, c, ada, settled };
      } finally {
        await locker.end();
      }
    }

    it('fails in-flight requests catchably when connections die, then recovers', async () => {
      const { storage, c, ada, settled } = await killAppendsInFlight(undefined, (st, id, author) => [st.appendMessage(newMessage(id, author))]);
      expect(settled.map((r) => r.status)).toEqual(['rejected']);
      await waitFor(async () => storage.ping().then(() => true, () => false));
      expect(expectOk(await storage.appendMessage(newMessage(c.id, ada))).message.index).toBe(1);
    });

    it('rejects a whole in-flight batch when its connection dies, acknowledges none of it, then recovers', async () => {
      const { storage, c, ada, settled } = await killAppendsInFlight(1, (st, id, author) =>
        [1, 2, 3].map(() => st.appendMessage(newMessage(id, author))),
      );
      expect(settled.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect((await storage.getConversation(c.id))?.lastMessageIndex).toBe(0);
      const again = await Promise.all([1, 2].map(() => storage.appendMessage(newMessage(c.id, ada))));
      expect(again.map((r) => expectOk(r).message.index)).toEqual([1, 2]);
    });

    appendBatchSuite({
      open: (options) => open(url, options?.appendBatches),
      async connect() {
        const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
        await client.connect();
        return client;
      },
    });

    it('is what openStorage picks for a postgres:// URL', async () => {
      const storage = await openStorage({ databaseUrl: url, dataDir: '/nonexistent' });
      expect(storage.kind).toBe('postgres');
      await storage.ping();
      await storage.close();
    });
  });
}

/** What the batch suite needs from the PostgreSQL test file. */
interface BatchSuiteSetup {
  /** A migrated Storage on its own pool (as another process would have). */
  open(options?: { appendBatches?: number }): Promise<Storage>;
  /** A connection on the suite's schema, for calling the batch statement directly. */
  connect(): Promise<pg.Client>;
}

/** Batched appends: ordering across processes, and a batch whose items fail or repeat one another. */
function appendBatchSuite(setup: BatchSuiteSetup): void {
  describe('PostgreSQL batched appends', () => {
    it('keeps each conversation gapless and in call order when two processes batch into it at once', async () => {
      const [a, b] = await Promise.all([setup.open({ appendBatches: 2 }), setup.open({ appendBatches: 3 })]);
      const users = await Promise.all([1, 2, 3].map(() => makeUser(a)));
      const [creator, ...members] = users as [(typeof users)[number], ...typeof users];
      const conversations = await Promise.all([1, 2, 3].map(() => makeConversation(a, creator, { members })));
      // Waves over several turns, so batches overlap on both pools and lock the same rows.
      const sends: { storage: 'a' | 'b'; body: string; result: Promise<AppendResult> }[] = [];
      for (let wave = 0; wave < 6; wave += 1) {
        for (let i = 0; i < 100; i += 1) {
          const storage = i % 2 === 0 ? 'a' : 'b';
          const conversation = conversations[(i + wave) % conversations.length];
          const author = users[i % users.length];
          if (conversation === undefined || author === undefined) throw new Error('fixture');
          const body = `w${wave}-${i}`;
          const message = newMessage(conversation.id, author, { body });
          sends.push({ storage, body, result: (storage === 'a' ? a : b).appendMessage(message) });
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      const settled = await Promise.all(sends.map(async (s) => ({ ...s, message: expectOk(await s.result).message })));
      for (const conversation of conversations) {
        const mine = settled.filter((s) => s.message.conversationId === conversation.id);
        const indexes = mine.map((s) => s.message.index).sort((x, y) => x - y);
        expect(indexes).toEqual(Array.from({ length: mine.length }, (_, k) => k + 1));
        // One process's appends to one conversation commit in the order they were made.
        for (const storage of ['a', 'b'] as const) {
          const order = mine.filter((s) => s.storage === storage).map((s) => s.message.index);
          expect(order).toEqual([...order].sort((x, y) => x - y));
        }
        const page = await b.listMessages(conversation.id, { after: 0, limit: 1000 });
        const bodyAt = new Map(mine.map((s) => [s.message.index, s.body]));
        expect(page.messages.map((m) => m.body)).toEqual(page.messages.map((m) => bodyAt.get(m.index)));
        expect((await a.getConversation(conversation.id))?.lastMessageIndex).toBe(mine.length);
      }
    });

    it('fails only the bad items of a batch spanning several conversations', async () => {
      const s = await setup.open({ appendBatches: 1 });
      const [ada, bob, eve] = await Promise.all([makeUser(s), makeUser(s), makeUser(s)]);
      const one = await makeConversation(s, ada, { members: [bob] });
      const two = await makeConversation(s, bob, { others: [{ userId: eve.id, role: 'member', status: 'invited', invitedBy: bob.id }] });
      const stored = expectOk(await s.appendMessage(newMessage(one.id, ada, { clientId: 'sent-before' }))).message;
      const taken = stored.id;
      const results = await Promise.allSettled([
        s.appendMessage(newMessage(one.id, bob, { body: 'b1' })),
        s.appendMessage(newMessage(one.id, ada, { clientId: 'sent-before', body: 'retry' })),
        s.appendMessage(newMessage(two.id, eve, { body: 'not joined' })),
        s.appendMessage(newMessage(two.id, bob, { body: 'b2', createdAt: at(500) })),
        s.appendMessage(newMessage(uid('CH'), ada, { body: 'nowhere' })),
        s.appendMessage(newMessage(one.id, ada, { id: taken, body: 'taken id' })),
        s.appendMessage(newMessage(one.id, ada, { body: 'a2' })),
      ]);
      const value = (i: number): AppendResult => {
        const r = results[i];
        if (r?.status !== 'fulfilled') throw new Error(`item ${i} rejected`);
        return r.value;
      };
      expect(expectOk(value(0)).message).toMatchObject({ index: 2, body: 'b1' });
      expect(value(1)).toEqual({ kind: 'ok', duplicate: true, message: stored });
      expect(value(2)).toEqual({ kind: 'not_participant' });
      expect(expectOk(value(3)).message).toMatchObject({ index: 1, body: 'b2' });
      expect(value(4)).toEqual({ kind: 'not_participant' });
      expect(results[5]?.status).toBe('rejected');
      expect(expectOk(value(6)).message).toMatchObject({ index: 3, body: 'a2' });
      expect(await s.getConversation(one.id)).toMatchObject({ lastMessageIndex: 3 });
      expect(await s.getConversation(two.id)).toMatchObject({ lastMessageIndex: 1, lastActivityAt: at(500) });
    });

    it('answers a batch of retries, strangers and new messages in one transaction', async () => {
      const s = await setup.open();
      const [ada, bob, eve] = await Promise.all([makeUser(s), makeUser(s), makeUser(s)]);
      const one = await makeConversation(s, ada, { members: [bob] });
      const two = await makeConversation(s, bob);
      const stored = expectOk(await s.appendMessage(newMessage(one.id, ada, { clientId: 'old' }))).message;
      const client = await setup.connect();
      try {
        const results = await appendBatchPg(client, [
          newMessage(one.id, ada, { clientId: 'old' }),
          newMessage(one.id, ada, { clientId: 'twice', body: 'first' }),
          newMessage(two.id, eve),
          newMessage(two.id, bob, { clientId: 'twice' }),
          newMessage(one.id, ada, { clientId: 'twice', body: 'second' }),
          newMessage(one.id, bob, { clientId: null }),
        ]);
        const [retry, first, stranger, other, again, last] = results;
        expect(retry).toEqual({ kind: 'ok', duplicate: true, message: stored });
        expect(first).toMatchObject({ kind: 'ok', duplicate: false, message: { index: 2, body: 'first' } });
        expect(stranger).toEqual({ kind: 'not_participant' });
        expect(other).toMatchObject({ kind: 'ok', duplicate: false, message: { index: 1 } });
        // The same client id twice in one batch is one message; the second gets the first back.
        expect(again).toEqual({ ...first, duplicate: true });
        expect(last).toMatchObject({ kind: 'ok', duplicate: false, message: { index: 3, author: bob.username } });
      } finally {
        await client.end();
      }
      const page = await s.listMessages(one.id, { after: 0, limit: 10 });
      expect(page.messages.map((m) => [m.index, m.body])).toEqual([[1, 'hello'], [2, 'first'], [3, 'hello']]);
      expect((await s.getConversation(one.id))?.lastMessageIndex).toBe(3);
    });

    it('matches client ids with quotes, backslashes and array syntax in a batch', async () => {
      const s = await setup.open();
      const ada = await makeUser(s);
      const c = await makeConversation(s, ada);
      const odd = [`a"b\\c'd`, '{x,y}', 'NULL', ' spaced ', '', 'é\u2028'];
      const stored = await Promise.all(odd.map((clientId) => s.appendMessage(newMessage(c.id, ada, { clientId }))));
      const client = await setup.connect();
      try {
        const retried = await appendBatchPg(client, [...odd, 'null'].map((clientId) => newMessage(c.id, ada, { clientId })));
        expect(retried.slice(0, odd.length)).toEqual(stored.map((r) => ({ ...expectOk(r), duplicate: true })));
        expect(retried[odd.length]).toMatchObject({ kind: 'ok', duplicate: false, message: { index: odd.length + 1, clientId: 'null' } });
      } finally {
        await client.end();
      }
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
