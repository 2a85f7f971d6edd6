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

  it('rejects, rather than throws, when a read fails', async () => {
    const sqlite = await migrated();
    const reads = sqliteReads(sqlite, (fn) => Promise.resolve(fn()));
    sqlite.close();
    await expect(reads.listMessagesJson('CH1', { limit: 10 })).rejects.toThrow(/not open/);
  });
});
