import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../schema.js';
import type { AppendResult } from '../storage.js';
import { storageOver } from '../contract/batcher-storage.js';
import { expectOk, makeConversation, makeUser, newMessage } from '../contract/fixtures.js';
import { AppendBatcher, type WithConnection } from './append-batcher.js';
import { startAppendWorker } from './worker-append-batcher.js';

const dir = await mkdtemp(join(tmpdir(), 'parley-append-worker-'));
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const later = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function setUp(name: string) {
  const file = join(dir, `${name}.sqlite`);
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('wal_autocheckpoint = 0');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const withConnection: WithConnection = (fn) => db.connection().execute(async () => fn());
  const inThread = new AppendBatcher(sqlite, withConnection);
  const fellBack: unknown[] = [];
  const appends = await startAppendWorker({ file, fallBack: (error) => (fellBack.push(error), inThread) });
  const storage = storageOver(db, appends);
  await storage.migrate();
  const ada = await makeUser(storage);
  const c = await makeConversation(storage, ada);
  // Another connection holding the write lock keeps the worker's batch in flight.
  const other = new BetterSqlite3(file);
  const count = (): unknown => other.prepare('select count(*) from messages').pluck().get();
  return { file, appends, storage, ada, c, other, count, fellBack };
}

/** Whether a thread of this process may lower its nice value (root, CAP_SYS_NICE, RLIMIT_NICE), asked of a throwaway thread. */
function mayRaisePriority(): Promise<boolean> {
  const probe = `const os = require('node:os'); let ok = true; try { os.setPriority(os.getPriority() - 1); } catch { ok = false; } require('node:worker_threads').parentPort.postMessage(ok);`;
  const worker = new Worker(probe, { eval: true });
  return new Promise((resolve, reject) => {
    worker.once('message', (ok: boolean) => void worker.terminate().then(() => resolve(ok)));
    worker.once('error', reject);
  });
}

/** The nice value of each thread of this process (Linux). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    // Fields after the command's closing parenthesis; nice is field 19 of the line, 17 of these.
    const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return Number(fields[16]);
  });
}

describe('WorkerAppendBatcher', () => {
  it.runIf(process.platform === 'linux')('commits on a thread five nice levels above the event loop where the system allows it, level otherwise', async () => {
    const permitted = await mayRaisePriority();
    const { appends, storage } = await setUp('priority');
    expect(appends.priorityRaised).toBe(permitted);
    const raised = threadNiceValues().filter((nice) => nice === getPriority() - 5);
    if (permitted) expect(raised.length).toBeGreaterThanOrEqual(1);
    else expect(raised).toEqual([]);
    await storage.close();
  });

  it('sees what another connection committed between batches: a message written elsewhere, then a removal', async () => {
    const { storage, ada, c, other, count } = await setUp('elsewhere');
    expect(expectOk(await storage.appendMessage(newMessage(c.id, ada))).message.index).toBe(1);
    // Another process appends index 2 the way any writer must: the row and the counter.
    other
      .prepare(
        `insert into messages (conversation_id, idx, id, author_id, body, client_id, attributes, created_at)
         values (?, 2, ?, ?, 'elsewhere', null, '{}', '2026-01-01T00:00:00.000Z')`,
      )
      .run(c.id, `IM-elsewhere-${c.id}`, ada.id);
    other.prepare('update conversations set last_message_index = 2 where id = ?').run(c.id);
    expect(expectOk(await storage.appendMessage(newMessage(c.id, ada))).message.index).toBe(3);
    other.prepare(`update participants set status = 'removed' where conversation_id = ? and user_id = ?`).run(c.id, ada.id);
    expect(await storage.appendMessage(newMessage(c.id, ada))).toEqual({ kind: 'not_participant' });
    expect(count()).toBe(3);
    await storage.close();
  });

  it('keeps appending gaplessly over many batches with nothing written elsewhere', async () => {
    const { storage, ada, c, count } = await setUp('kept-state');
    for (let round = 0; round < 5; round += 1) {
      const sent = await Promise.all([1, 2, 3].map(() => storage.appendMessage(newMessage(c.id, ada))));
      expect(sent.map((r) => expectOk(r).message.index)).toEqual([1, 2, 3].map((n) => round * 3 + n));
    }
    expect((await storage.getConversation(c.id))?.lastMessageIndex).toBe(15);
    expect(count()).toBe(15);
    await storage.close();
  });

  it('fails an append whose attributes cannot be serialised alone, committing the rest of its turn', async () => {
    const { storage, ada, c, count } = await setUp('unserialisable');
    const sends = [
      storage.appendMessage(newMessage(c.id, ada, { body: 'before' })),
      storage.appendMessage({ ...newMessage(c.id, ada), attributes: { n: 1n } }),
      storage.appendMessage(newMessage(c.id, ada, { body: 'after' })),
    ];
    const [before, bad, after] = await Promise.allSettled(sends);
    expect(bad?.status).toBe('rejected');
    expect(before?.status === 'fulfilled' && expectOk(before.value).message.index).toBe(1);
    expect(after?.status === 'fulfilled' && expectOk(after.value).message.index).toBe(2);
    expect(count()).toBe(2);
    await storage.close();
  });

  it('resolves only after the commit, while the event loop keeps running', async () => {
    const { appends, storage, ada, c, other, count, fellBack } = await setUp('commit');
    other.exec('begin immediate');
    let settled = false;
    const sent = storage.appendMessage(newMessage(c.id, ada)).then((r) => ((settled = true), r));
    let turns = 0;
    const spin = setInterval(() => (turns += 1), 1);
    await later(50);
    clearInterval(spin);
    expect(turns).toBeGreaterThan(5);
    expect(settled).toBe(false);
    expect(appends.batches).toBe(1);
    other.exec('rollback');
    expect(expectOk(await sent).message.index).toBe(1);
    expect(count()).toBe(1);
    expect(fellBack).toEqual([]);
    other.close();
    await storage.close();
  });

  it('sends what accumulated during a commit as the next batch, in call order', async () => {
    const { appends, storage, ada, c, other } = await setUp('accumulate');
    other.exec('begin immediate');
    const first = storage.appendMessage(newMessage(c.id, ada, { body: 'm1' }));
    await later(20);
    const rest: Promise<AppendResult>[] = [];
    for (const n of [2, 3, 4]) {
      rest.push(storage.appendMessage(newMessage(c.id, ada, { body: `m${n}` })));
      await new Promise((r) => setImmediate(r));
    }
    expect(appends.batches).toBe(1);
    other.exec('rollback');
    const results = await Promise.all([first, ...rest]);
    expect(results.map((r) => expectOk(r).message.index)).toEqual([1, 2, 3, 4]);
    expect(appends.batches).toBe(2);
    expect((await storage.listMessages(c.id, { limit: 10 })).messages.map((m) => m.body)).toEqual(['m1', 'm2', 'm3', 'm4']);
    other.close();
    await storage.close();
  });

  it('holds batches while paused, and grants a pause only once the batch in flight is done', async () => {
    const { storage, ada, c, other, appends } = await setUp('pause');
    other.exec('begin immediate');
    const first = storage.appendMessage(newMessage(c.id, ada));
    await later(20);
    let paused = false;
    const pausing = appends.pause().then((resume) => ((paused = true), resume));
    await later(20);
    expect(paused).toBe(false);
    other.exec('rollback');
    const resume = await pausing;
    expect(expectOk(await first).message.index).toBe(1);
    let settled = false;
    const held = storage.appendMessage(newMessage(c.id, ada)).then((r) => ((settled = true), r));
    await later(20);
    expect(settled).toBe(false);
    expect(appends.batches).toBe(1);
    resume();
    resume(); // a second call is harmless
    expect(expectOk(await held).message.index).toBe(2);
    other.close();
    await storage.close();
  });

  it('fails one bad item alone with the SQLite error code, as in-thread', async () => {
    const { storage, ada, c, other } = await setUp('bad-item');
    const good = newMessage(c.id, ada);
    const results = await Promise.allSettled([storage.appendMessage(good), storage.appendMessage({ ...good, clientId: 'other' })]);
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { kind: 'ok', message: { index: 1 } } });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: expect.stringMatching(/^SQLITE_CONSTRAINT/) } });
    expect(expectOk(await storage.appendMessage(newMessage(c.id, ada))).message.index).toBe(2);
    other.close();
    await storage.close();
  });

  it('lets event-loop writes through between batches', async () => {
    const { storage, ada, c, other } = await setUp('main-writes');
    const sends = Array.from({ length: 200 }, () => storage.appendMessage(newMessage(c.id, ada)));
    const creates = Array.from({ length: 20 }, () => makeConversation(storage, ada));
    await Promise.all([...sends, ...creates]);
    expect(await storage.getConversation(c.id)).toMatchObject({ lastMessageIndex: 200 });
    other.close();
    await storage.close();
  });

  it('fails the in-flight batch when the worker dies, then appends in-thread without a gap', async () => {
    const { appends, storage, ada, c, other, fellBack } = await setUp('death');
    other.exec('begin immediate');
    const lost = storage.appendMessage(newMessage(c.id, ada));
    await later(20);
    const terminated = appends.terminateWorker();
    other.exec('rollback');
    await expect(lost).rejects.toThrow(/worker died/);
    await terminated;
    expect(fellBack).toHaveLength(1);
    const next = expectOk(await storage.appendMessage(newMessage(c.id, ada))).message;
    const stored = (await storage.listMessages(c.id, { limit: 10 })).messages.map((m) => m.index);
    expect(stored).toEqual(Array.from({ length: next.index }, (_, i) => i + 1));
    other.close();
    await storage.close();
  });

  it('drains on close: settles the batch in flight and the queued ones, then stops the worker', async () => {
    const { file, storage, ada, c, other, count } = await setUp('drain');
    other.exec('begin immediate');
    const first = storage.appendMessage(newMessage(c.id, ada));
    await later(20);
    const second = storage.appendMessage(newMessage(c.id, ada));
    const closing = storage.close();
    await expect(storage.appendMessage(newMessage(c.id, ada))).rejects.toThrow(/closed/);
    other.exec('rollback');
    await closing;
    expect([expectOk(await first).message.index, expectOk(await second).message.index]).toEqual([1, 2]);
    expect(count()).toBe(2);
    other.close();
    // The worker's connection closed before the main one, and `other` last: no WAL is left.
    expect(existsSync(`${file}-wal`)).toBe(false);
  });
});
