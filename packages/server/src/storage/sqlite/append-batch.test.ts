import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../schema.js';
import { storageOver } from '../contract/batcher-storage.js';
import { at, makeConversation, makeUser, newMessage } from '../contract/fixtures.js';
import type { UserRecord } from '../storage.js';
import { AppendBatcher, type WithConnection } from './append-batcher.js';
import { BUSY, compileAppendBatch, toBatchItem, type CommitBatch, type Outcome } from './append-batch.js';

const dir = await mkdtemp(join(tmpdir(), 'parley-append-batch-'));
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A migrated file with one conversation; `main` is the connection storage (Kysely) writes on. */
async function setUp(name: string) {
  const file = join(dir, `${name}.sqlite`);
  const main = new BetterSqlite3(file);
  main.pragma('journal_mode = WAL');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: main }) });
  const withConnection: WithConnection = (fn) => db.connection().execute(async () => fn());
  const storage = storageOver(db, new AppendBatcher(main, withConnection));
  await storage.migrate();
  const ada = await makeUser(storage);
  const c = await makeConversation(storage, ada);
  return { file, main, storage, ada, c };
}

const indexes = (outcomes: ReturnType<CommitBatch>): (number | string)[] => {
  if (!Array.isArray(outcomes)) throw new Error('busy');
  return outcomes.map((o: Outcome) => (o.ok && o.result.kind === 'appended' ? o.result.index : o.ok ? o.result.kind : 'failed'));
};

describe('compileAppendBatch', () => {
  it('with keepState, reads once while only it writes, and afresh after another connection removed the author', async () => {
    const { file, storage, ada, c } = await setUp('kept');
    const own = new BetterSqlite3(file);
    const commit = compileAppendBatch(own, false, true);
    const two = (author: UserRecord) => [1, 2].map(() => toBatchItem(newMessage(c.id, author)));
    expect(indexes(commit(two(ada)))).toEqual([1, 2]);
    expect(indexes(commit(two(ada)))).toEqual([3, 4]);
    expect(indexes(commit(two(ada)))).toEqual([5, 6]);
    expect(commit.freshReads).toBe(1);
    expect((await storage.getConversation(c.id))?.lastMessageIndex).toBe(6);

    await storage.setParticipantStatus(c.id, ada.id, { status: 'removed', now: at(9) });
    expect(indexes(commit(two(ada)))).toEqual(['not_participant', 'not_participant']);
    expect(commit.freshReads).toBe(2);
    own.close();
    await storage.close();
  });

  it('without keepState, reads afresh every batch, so writes on its own connection are seen', async () => {
    const { main, storage, ada, c } = await setUp('shared');
    const commit = compileAppendBatch(main, false);
    const one = () => [toBatchItem(newMessage(c.id, ada))];
    expect(indexes(commit(one()))).toEqual([1]);
    expect(indexes(commit(one()))).toEqual([2]);
    expect(commit.freshReads).toBe(2);
    // data_version does not move for a connection's own commits: only a fresh read sees this.
    main.prepare(`update participants set status = 'removed' where conversation_id = ? and user_id = ?`).run(c.id, ada.id);
    expect(indexes(commit(one()))).toEqual(['not_participant']);
    await storage.close();
  });

  it('does not trust the state after a batch that did not commit, even with nothing committed elsewhere', async () => {
    const { file, storage, ada, c } = await setUp('failed');
    const own = new BetterSqlite3(file);
    const commit = compileAppendBatch(own, true, true);
    expect(indexes(commit([toBatchItem(newMessage(c.id, ada))]))).toEqual([1]);
    const other = new BetterSqlite3(file);
    other.exec('begin immediate');
    expect(commit([toBatchItem(newMessage(c.id, ada))])).toBe(BUSY);
    other.exec('rollback');
    expect(indexes(commit([toBatchItem(newMessage(c.id, ada))]))).toEqual([2]);
    expect(commit.freshReads).toBe(2);
    other.close();
    own.close();
    await storage.close();
  });
});
