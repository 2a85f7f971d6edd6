import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { runMigrations } from '../migrations.js';
import { sqliteReads } from './sqlite-reads.js';
import type { WithConnection } from './append-batcher.js';

async function migrated(): Promise<BetterSqlite3.Database> {
  const sqlite = new BetterSqlite3(':memory:');
  await runMigrations(new Kysely({ dialect: new SqliteDialect({ database: sqlite }) }));
  const now = '2026-01-01T00:00:00.000Z';
  sqlite.prepare('insert into users (id, username, password_hash, created_at) values (?, ?, ?, ?)').run('US1', 'ada', 'x', now);
  sqlite
    .prepare(
      `insert into conversations (id, title, invite_policy, created_by, created_at, updated_at, last_activity_at, last_message_index)
       values ('CH1', 't', 'members', 'US1', ?, ?, ?, 1)`,
    )
    .run(now, now, now);
  sqlite
    .prepare(`insert into participants (conversation_id, user_id, role, status, created_at, updated_at) values ('CH1', 'US1', 'admin', 'joined', ?, ?)`)
    .run(now, now);
  const insert = sqlite.prepare(`insert into messages (conversation_id, idx, id, author_id, body, created_at) values ('CH1', ?, ?, 'US1', ?, ?)`);
  insert.run(1, 'IM1', 'committed', now);
  return sqlite;
}

describe('sqliteReads', () => {
  it('reads at once when no transaction is open, and waits for the connection while one is', async () => {
    const sqlite = await migrated();
    const queued: string[] = [];
    let release = (): void => undefined;
    const connectionFree = new Promise<void>((resolve) => (release = resolve));
    const withConnection: WithConnection = async (fn) => {
      queued.push('waiting');
      await connectionFree;
      return fn();
    };
    const reads = sqliteReads(sqlite, withConnection);
    expect((await reads.listMessages('CH1', { limit: 10 })).messages.map((m) => m.body)).toEqual(['committed']);
    expect(await reads.getParticipant('CH1', 'US1')).toMatchObject({ username: 'ada', status: 'joined' });
    expect(await reads.listJoinedConversationIds('US1')).toEqual(['CH1']);
    expect(queued).toEqual([]);

    // Another caller's transaction is open on the handle, between two of its statements.
    sqlite.exec('begin');
    sqlite.prepare(`insert into messages (conversation_id, idx, id, author_id, body, created_at) values ('CH1', 2, 'IM2', 'US1', 'uncommitted', 'x')`).run();
    sqlite.prepare(`update participants set status = 'removed' where conversation_id = 'CH1'`).run();
    const page = reads.listMessagesJson('CH1', { limit: 10 });
    const participant = reads.getParticipant('CH1', 'US1');
    const joined = reads.listJoinedConversationIds('US1');
    expect(queued).toEqual(['waiting', 'waiting', 'waiting']);
    sqlite.exec('rollback');
    release();
    expect((JSON.parse((await page).messagesJson) as { body: string }[]).map((m) => m.body)).toEqual(['committed']);
    expect(await participant).toMatchObject({ username: 'ada', status: 'joined' });
    expect(await joined).toEqual(['CH1']);
  });

  it('reads pages of every size, each with its own LIMIT, and refuses a size that is not a whole number', async () => {
    const sqlite = await migrated();
    const insert = sqlite.prepare(`insert into messages (conversation_id, idx, id, author_id, body, created_at) values ('CH1', ?, ?, 'US1', ?, ?)`);
    for (let i = 2; i <= 300; i += 1) insert.run(i, `IM${i}`, `m${i}`, '2026-01-01T00:00:00.000Z');
    const reads = sqliteReads(sqlite, (fn) => Promise.resolve(fn()));
    const indexes = async (page: { before?: number; after?: number; limit: number }) => {
      const { messages, hasMore } = await reads.listMessages('CH1', page);
      return { first: messages[0]?.index, last: messages.at(-1)?.index, count: messages.length, hasMore };
    };
    // The same statements read different positions, and other sizes get statements of their own.
    expect(await indexes({ before: 101, limit: 50 })).toEqual({ first: 51, last: 100, count: 50, hasMore: true });
    expect(await indexes({ before: 51, limit: 50 })).toEqual({ first: 1, last: 50, count: 50, hasMore: false });
    expect(await indexes({ after: 290, limit: 5 })).toEqual({ first: 291, last: 295, count: 5, hasMore: true });
    expect(await indexes({ after: 10, before: 20, limit: 100 })).toEqual({ first: 11, last: 19, count: 9, hasMore: false });
    expect(await indexes({ limit: 0 })).toEqual({ first: undefined, last: undefined, count: 0, hasMore: true });
    // Larger than any page a caller asks for today: prepared for this read alone.
    expect(await indexes({ limit: 250 })).toEqual({ first: 51, last: 300, count: 250, hasMore: true });
    expect(JSON.parse((await reads.listMessagesJson('CH1', { before: 3, limit: 200 })).messagesJson)).toHaveLength(2);
    await expect(reads.listMessages('CH1', { limit: Number.NaN })).rejects.toThrow(RangeError);
  });

  it('rejects, rather than throws, when a read fails', async () => {
    const sqlite = await migrated();
    const reads = sqliteReads(sqlite, (fn) => Promise.resolve(fn()));
    sqlite.close();
    await expect(reads.listMessagesJson('CH1', { limit: 10 })).rejects.toThrow(/not open/);
  });
});
