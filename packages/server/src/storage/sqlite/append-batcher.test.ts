import { describe, expect, it } from 'vitest';
import { at, expectOk, makeConversation, makeUser, newMessage } from '../contract/fixtures.js';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../schema.js';
import { storageOver } from '../contract/batcher-storage.js';
import { AppendBatcher, type WithConnection } from './append-batcher.js';

async function setUp() {
  const sqlite = new BetterSqlite3(':memory:');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const withConnection: WithConnection = (fn) => db.connection().execute(async () => fn());
  const batcher = new AppendBatcher(sqlite, withConnection);
  const storage = storageOver(db, batcher);
  await storage.migrate();
  const ada = await makeUser(storage);
  const c = await makeConversation(storage, ada);
  return { batcher, storage, ada, c, db };
}

describe('AppendBatcher', () => {
  it('holds batches while paused and commits them, in call order, once resumed', async () => {
    const { batcher, storage, ada, c } = await setUp();
    const resume = await batcher.pause();
    let settled = 0;
    const sends = [1, 2, 3].map((n) => batcher.append(newMessage(c.id, ada, { body: `p${n}`, createdAt: at(n) })).then((r) => ((settled += 1), r)));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(0);
    expect((await storage.getConversation(c.id))?.lastMessageIndex).toBe(0);
    resume();
    resume(); // a second call is harmless
    expect((await Promise.all(sends)).map((r) => expectOk(r).message.index)).toEqual([1, 2, 3]);
    expect(await storage.getConversation(c.id)).toMatchObject({ lastMessageIndex: 3, lastActivityAt: at(3) });
    await storage.close();
  });

  it('resolves a pause only after the batch in flight is done', async () => {
    const { batcher, storage, ada, c, db } = await setUp();
    // A Kysely transaction holds the only connection, so the batch waits in flight.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const holder = db.transaction().execute(() => gate);
    const first = batcher.append(newMessage(c.id, ada));
    await new Promise((r) => setTimeout(r, 10));
    let paused = false;
    const pausing = batcher.pause().then((resume) => ((paused = true), resume));
    await new Promise((r) => setTimeout(r, 10));
    expect(paused).toBe(false);
    release();
    await holder;
    const resume = await pausing;
    expect(expectOk(await first).message.index).toBe(1);
    resume();
    expect(expectOk(await batcher.append(newMessage(c.id, ada))).message.index).toBe(2);
    await storage.close();
  });
});
