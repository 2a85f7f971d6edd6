import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { storageContract } from '../storage.contract.js';
import { appendMany, at, expectOk, makeConversation, makeUser, newMessage } from '../contract/fixtures.js';
import { openStorage } from '../open-storage.js';
import { openSqliteStorage } from './sqlite-storage.js';
import { presentMessage } from '../../domain/presenters.js';

const dir = await mkdtemp(join(tmpdir(), 'parley-sqlite-'));
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

storageContract('sqlite (file)', () => openSqliteStorage({ file: join(dir, 'nested', 'contract.sqlite') }));
storageContract('sqlite (:memory:)', () => openSqliteStorage({ file: ':memory:' }));

/** A migrated SQLite storage (`file`: a name under the temp dir, or ':memory:') with one user in one conversation. */
async function withConversation(file: string) {
  const storage = await openSqliteStorage({ file });
  await storage.migrate();
  const ada = await makeUser(storage);
  const c = await makeConversation(storage, ada);
  return { storage, ada, c };
}

describe('SQLite storage', () => {
  it('keeps committed data across a close and reopen', async () => {
    const file = join(dir, 'reopen.sqlite');
    const first = await openSqliteStorage({ file });
    await first.migrate();
    const ada = await makeUser(first);
    const c = await makeConversation(first, ada);
    const sent = expectOk(await first.appendMessage(newMessage(c.id, ada, { body: 'kept', createdAt: at(7) })));
    await first.close();

    const second = await openSqliteStorage({ file });
    await second.migrate();
    expect(await second.getUserByUsername(ada.username)).toEqual(ada);
    expect((await second.listMessages(c.id, { limit: 10 })).messages).toEqual([sent.message]);
    expect(expectOk(await second.appendMessage(newMessage(c.id, ada))).message.index).toBe(2);
    await second.close();
  });

  it('commits appends queued just before close', async () => {
    const { storage, ada, c } = await withConversation(join(dir, 'drain.sqlite'));
    const pending = [1, 2, 3].map(() => storage.appendMessage(newMessage(c.id, ada)));
    await storage.close();
    expect((await Promise.all(pending)).map((r) => expectOk(r).message.index)).toEqual([1, 2, 3]);
    await expect(storage.appendMessage(newMessage(c.id, ada))).rejects.toThrow(/closed/);
  });

  it('stops its checkpoint worker on close, so the last connection folds the WAL away', async () => {
    const file = join(dir, 'wal.sqlite');
    const { storage, ada, c } = await withConversation(file);
    await Promise.all([1, 2, 3].map(() => storage.appendMessage(newMessage(c.id, ada))));
    expect(existsSync(`${file}-wal`)).toBe(true);
    await storage.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('assigns indexes in call order within one batch, across conversations', async () => {
    const storage = await openSqliteStorage({ file: ':memory:' });
    await storage.migrate();
    const ada = await makeUser(storage);
    const [one, two] = [await makeConversation(storage, ada), await makeConversation(storage, ada)];
    const order = [one, two, one, one, two].map((c) => storage.appendMessage(newMessage(c.id, ada, { body: c.id })));
    const results = (await Promise.all(order)).map((r) => expectOk(r).message);
    expect(results.map((m) => m.index)).toEqual([1, 1, 2, 3, 2]);
    expect(await storage.getConversation(one.id)).toMatchObject({ lastMessageIndex: 3 });
    await storage.close();
  });

  it.each(['wire-json.sqlite', ':memory:'])('answers each new message with the wire JSON it stored (%s), exactly the JSON of its presented record', async (file) => {
    const { storage, ada, c } = await withConversation(file === ':memory:' ? file : join(dir, file));
    const sent = [
      expectOk(await storage.appendMessage(newMessage(c.id, ada, { body: 'plain', clientId: 'w1' }))),
      expectOk(await storage.appendMessage(newMessage(c.id, ada, { body: 'quote " \\ \u2028 😀', clientId: null, attributes: { a: [1, 'x'] } }))),
    ];
    for (const result of sent) expect(result.messageJson).toBe(JSON.stringify(presentMessage(result.message)));
    // A retry's answer is the stored message, which has no fresh JSON to hand over.
    const retry = expectOk(await storage.appendMessage(newMessage(c.id, ada, { body: 'plain', clientId: 'w1' })));
    expect(retry.duplicate).toBe(true);
    expect(retry.messageJson).toBeUndefined();
    await storage.close();
  });

  it('pages between two indexes when both before and after are given', async () => {
    const { storage, ada, c } = await withConversation(':memory:');
    await appendMany(storage, c.id, ada, 8);
    const between = await storage.listMessages(c.id, { after: 2, before: 6, limit: 10 });
    expect(between.messages.map((m) => m.index)).toEqual([3, 4, 5]);
    expect(between.hasMore).toBe(false);
    const capped = await storage.listMessages(c.id, { after: 2, before: 6, limit: 2 });
    expect(capped).toMatchObject({ hasMore: true });
    expect(capped.messages.map((m) => m.index)).toEqual([3, 4]);
    expect(capped.messages[0]).toEqual({ ...capped.messages[0], conversationId: c.id, author: ada.username, attributes: {}, clientId: expect.any(String) });
    await storage.close();
  });

  it('waits for a write lock held elsewhere without blocking the event loop, then commits in order', async () => {
    const file = join(dir, 'busy.sqlite');
    const { storage, ada, c } = await withConversation(file);
    const other = new BetterSqlite3(file);
    other.exec('begin immediate');
    const events: string[] = [];
    const sends = [1, 2].map((n) => storage.appendMessage(newMessage(c.id, ada, { body: `b${n}` })).then(() => events.push(`sent ${n}`)));
    await new Promise((r) => setTimeout(r, 30));
    events.push('timer ran');
    const third = storage.appendMessage(newMessage(c.id, ada, { body: 'b3' }));
    other.exec('rollback');
    other.close();
    await Promise.all(sends);
    expect(events).toEqual(['timer ran', 'sent 1', 'sent 2']);
    expect(expectOk(await third).message.index).toBe(3);
    expect((await storage.listMessages(c.id, { limit: 5 })).messages.map((m) => m.body)).toEqual(['b1', 'b2', 'b3']);
    await storage.close();
  });

  it('is what openStorage picks without a PostgreSQL URL', async () => {
    const storage = await openStorage({ dataDir: join(dir, 'data') });
    expect(storage.kind).toBe('sqlite');
    await storage.migrate();
    await storage.ping();
    await storage.close();
  });
});
