import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { presentMessage } from '../domain/presenters.js';
import { at, expectOk, newMessage, uid } from './contract/fixtures.js';
import { CLIENT_ID_INDEX, runMigrations } from './migrations.js';
import { openPostgresStorage } from './postgres/postgres-storage.js';
import { openSqliteStorage } from './sqlite/sqlite-storage.js';
import type { Storage, UserRecord } from './storage.js';

/*
 * Upgrades: a database written by the 0001 schema, with messages sent under client ids, is
 * migrated by a storage opened on it, and keeps every message and its idempotency.
 */

const dir = await mkdtemp(join(tmpdir(), 'parley-migrations-'));
const pgUrl = process.env.PARLEY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const pgSchema = `parley_migr_${randomBytes(6).toString('hex')}`;
const pgChangesSchema = `${pgSchema}_changes`;

async function pgReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
// CI must have PostgreSQL; elsewhere its half is skipped with a warning.
const withPg = process.env.CI === 'true' || (await pgReachable());
if (!withPg) console.warn(`Skipping the PostgreSQL upgrade test: ${pgUrl} is unreachable.`);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  if (!withPg) return;
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`drop schema if exists "${pgSchema}" cascade`);
  await client.query(`drop schema if exists "${pgChangesSchema}" cascade`);
  await client.end();
});

/** A SQLite file named `name` seeded by `seed01`, then opened as storage and migrated to the latest schema. */
async function upgradedSqlite(name: string) {
  const file = join(dir, name);
  const seeded = await seed01(sqliteKysely(file));
  const storage = await openSqliteStorage({ file });
  await storage.migrate();
  return { file, storage, ...seeded };
}

/** Kysely over a SQLite file, with no migration run. */
const sqliteKysely = (file: string): Kysely<any> => new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });

/** Writes, with 0001's schema only, one conversation of ada's holding one message sent as client id 'kept'. */
async function seed01(db: Kysely<any>, schema?: string) {
  await runMigrations(db, schema, '0001_initial');
  const ada: UserRecord = { id: uid('US'), username: uid('ada').toLowerCase(), passwordHash: 'x', createdAt: at(0) };
  const conversationId = uid('CH');
  await db.insertInto('users').values({ id: ada.id, username: ada.username, password_hash: 'x', created_at: at(0) }).execute();
  await db
    .insertInto('conversations')
    .values({
      id: conversationId, title: 't', subject: '', attributes: '{}', invite_policy: 'members', created_by: ada.id,
      created_at: at(0), updated_at: at(0), last_activity_at: at(1), last_message_index: 1,
    })
    .execute();
  await db
    .insertInto('participants')
    .values({ conversation_id: conversationId, user_id: ada.id, role: 'admin', status: 'joined', last_read_index: 0, invited_by: null, created_at: at(0), updated_at: at(0) })
    .execute();
  await db
    .insertInto('messages')
    .values({ conversation_id: conversationId, idx: 1, id: uid('IM'), author_id: ada.id, body: 'original', client_id: 'kept', attributes: '{}', created_at: at(1) })
    .execute();
  await db.destroy();
  return { ada, conversationId };
}

/** What the upgraded storage must still do with the data `seed01` wrote. */
async function expectUpgraded(storage: Storage, ada: UserRecord, conversationId: string): Promise<void> {
  const [original] = (await storage.listMessages(conversationId, { limit: 10 })).messages;
  expect(original?.body).toBe('original');
  const retry = expectOk(await storage.appendMessage(newMessage(conversationId, ada, { clientId: 'kept', body: 'retry' })));
  expect(retry).toEqual({ kind: 'ok', duplicate: true, message: original });
  const next = expectOk(await storage.appendMessage(newMessage(conversationId, ada, { clientId: 'new' })));
  expect(next.duplicate).toBe(false);
  expect(next.message.index).toBe(2);
  expect((await storage.listMessages(conversationId, { limit: 10 })).messages.map((m) => m.body)).toEqual(['original', 'hello']);
}

describe('migration 0002_client_id_first', () => {
  it('upgrades a SQLite 0001 database: messages kept, client ids still idempotent, the index keyed client id first', async () => {
    const { file, storage, ada, conversationId } = await upgradedSqlite('upgrade.sqlite');
    await expectUpgraded(storage, ada, conversationId);
    await storage.close();

    const check = new BetterSqlite3(file, { readonly: true });
    const columns = check.prepare(`select name from pragma_index_info(?) order by seqno`).pluck().all(CLIENT_ID_INDEX);
    const old = check.prepare(`select count(*) from sqlite_master where type = 'index' and name = 'messages_client_id'`).pluck().get();
    check.close();
    expect(columns).toEqual(['client_id', 'conversation_id', 'author_id']);
    expect(old).toBe(0);
  });

  it.skipIf(!withPg)('upgrades a PostgreSQL 0001 schema the same way', async () => {
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`create schema "${pgSchema}"`);
    await admin.end();
    const pool = new pg.Pool({ connectionString: pgUrl, options: `-c search_path=${pgSchema}` });
    const { ada, conversationId } = await seed01(new Kysely<any>({ dialect: new PostgresDialect({ pool }) }), pgSchema);
    const storage = await openPostgresStorage({ connectionString: pgUrl, schema: pgSchema });
    await storage.migrate();
    await expectUpgraded(storage, ada, conversationId);
    await storage.close();

    const check = new pg.Client({ connectionString: pgUrl });
    await check.connect();
    const { rows } = await check.query<{ indexname: string; indexdef: string }>(
      'select indexname, indexdef from pg_indexes where schemaname = $1 and tablename = $2',
      [pgSchema, 'messages'],
    );
    await check.end();
    const def = rows.find((r) => r.indexname === CLIENT_ID_INDEX)?.indexdef ?? '';
    expect(def).toMatch(/UNIQUE INDEX .*\(client_id, conversation_id, author_id\)/);
    expect(rows.map((r) => r.indexname)).not.toContain('messages_client_id');
  });
});

describe('migration 0003_conversation_heads', () => {
  it('reads the counter from the messages, leaves the stored row alone on SQLite appends, and writes it back on the way down', async () => {
    const { file, storage, ada, conversationId } = await upgradedSqlite('heads.sqlite');
    expect(await storage.getConversation(conversationId)).toMatchObject({ lastMessageIndex: 1, lastActivityAt: at(1) });
    await storage.appendMessage(newMessage(conversationId, ada, { createdAt: at(5) }));
    await storage.appendMessage(newMessage(conversationId, ada, { createdAt: at(6) }));
    expect(await storage.getConversation(conversationId)).toMatchObject({ lastMessageIndex: 3, lastActivityAt: at(6) });
    await storage.close();

    const stored = (): unknown => {
      const check = new BetterSqlite3(file, { readonly: true });
      const row = check.prepare('select last_message_index, last_activity_at from conversations where id = ?').get(conversationId);
      check.close();
      return row;
    };
    // What 0001 wrote: the appends after 0003 did not touch the row.
    expect(stored()).toEqual({ last_message_index: 1, last_activity_at: at(1) });
    const db = sqliteKysely(file);
    await runMigrations(db, undefined, '0002_client_id_first');
    await db.destroy();
    expect(stored()).toEqual({ last_message_index: 3, last_activity_at: at(6) });
  });
});

describe('migration 0004_message_json', () => {
  it('stores each new message as its wire JSON, renders older rows from their columns, and drops the column on the way down', async () => {
    const { file, storage, ada, conversationId } = await upgradedSqlite('message-json.sqlite');
    const body = 'quote " backslash \\ tab \t é 😀 \u2028 </script>';
    const sent = expectOk(
      await storage.appendMessage(newMessage(conversationId, ada, { body, clientId: 'c "1"', attributes: { nested: { list: [1, 'x"y', null] } } })),
    );
    const page = await storage.listMessages(conversationId, { limit: 10 });
    expect(page.messages.map((m) => m.body)).toEqual(['original', body]);
    // The row written under 0001 (no stored text) and the new one read as the same page.
    const json = await storage.listMessagesJson(conversationId, { limit: 10 });
    expect({ messages: JSON.parse(json.messagesJson) as unknown, hasMore: json.hasMore }).toEqual(page);
    await storage.close();

    const stored = (): (string | null)[] => {
      const check = new BetterSqlite3(file, { readonly: true });
      const rows = check.prepare('select message_json from messages where conversation_id = ? order by idx').pluck().all(conversationId) as (string | null)[];
      check.close();
      return rows;
    };
    expect(stored()).toEqual([null, JSON.stringify(presentMessage(sent.message))]);

    const db = sqliteKysely(file);
    await runMigrations(db, undefined, '0003_conversation_heads');
    await db.destroy();
    expect(() => stored()).toThrow(/no such column: message_json/);
  });
});

describe('migration 0005_message_edits', () => {
  it('lets a message written under 0001 be edited and removed, and drops both columns on the way down', async () => {
    const { file, storage, ada, conversationId } = await upgradedSqlite('message-edits.sqlite');
    const [old] = (await storage.listMessages(conversationId, { limit: 1, after: 0 })).messages;
    if (old === undefined) throw new Error('the seed has a message');
    const sent = expectOk(await storage.appendMessage(newMessage(conversationId, ada, { body: 'new' }))).message;
    const edited = await storage.changeMessage(conversationId, old.id, { kind: 'edit', body: 'edited "old"', at: at(900) });
    expect(edited?.message).toEqual({ ...old, body: 'edited "old"', editedAt: at(900), changeIndex: 1 });
    await storage.changeMessage(conversationId, sent.id, { kind: 'remove', at: at(901) });
    const page = await storage.listMessages(conversationId, { limit: 10 });
    expect(page.messages.map((m) => [m.body, m.editedAt, m.removedAt])).toEqual([
      ['edited "old"', at(900), undefined],
      ['', undefined, at(901)],
    ]);
    // The row that had no stored text now has it, and both read back as the same page.
    const json = await storage.listMessagesJson(conversationId, { limit: 10 });
    expect({ messages: JSON.parse(json.messagesJson) as unknown, hasMore: json.hasMore }).toEqual(page);
    await storage.close();

    const check = new BetterSqlite3(file, { readonly: true });
    const stored = check.prepare('select message_json from messages where conversation_id = ? order by idx').pluck().all(conversationId);
    check.close();
    expect(stored).toEqual(page.messages.map((m) => JSON.stringify(presentMessage(m))));

    const db = sqliteKysely(file);
    await runMigrations(db, undefined, '0004_message_json');
    await db.destroy();
    const after = new BetterSqlite3(file, { readonly: true });
    const columns = after.prepare("select name from pragma_table_info('messages')").pluck().all();
    const bodies = after.prepare('select body from messages where conversation_id = ? order by idx').pluck().all(conversationId);
    after.close();
    expect(columns).not.toContain('edited_at');
    expect(columns).not.toContain('removed_at');
    expect(bodies).toEqual(['edited "old"', '']);
  });
});

/**
 * Writes, under 0005, three more messages after seed01's and changes three of the four as the
 * 0005 code did (SQLite stores each changed message's wire JSON), in an order unlike their
 * indexes: index 1 removed, then 3 edited, then 2 edited.
 */
async function seedChangesUnder0005(db: Kysely<any>, schema: string | undefined, ada: UserRecord, conversationId: string) {
  await runMigrations(db, schema, '0005_message_edits');
  for (const idx of [2, 3, 4]) {
    await db
      .insertInto('messages')
      .values({ conversation_id: conversationId, idx, id: uid('IM'), author_id: ada.id, body: `m${idx}`, client_id: null, attributes: '{}', created_at: at(idx) })
      .execute();
  }
  const changes = [
    { idx: 1, body: '', removed_at: at(40) },
    { idx: 3, body: 'm3 edited', edited_at: at(50) },
    { idx: 2, body: 'm2 edited', edited_at: at(60) },
  ];
  for (const { idx, ...change } of changes) {
    const row = await db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId).where('idx', '=', idx).executeTakeFirstOrThrow();
    const message: Record<string, unknown> = {
      id: row.id, conversationId, index: idx, authorId: ada.id, author: ada.username, body: change.body,
      clientId: row.client_id, attributes: {}, createdAt: row.created_at,
    };
    if (change.edited_at !== undefined) message.editedAt = change.edited_at;
    if (change.removed_at !== undefined) message.removedAt = change.removed_at;
    await db
      .updateTable('messages')
      .set({ ...change, message_json: JSON.stringify(message) })
      .where('conversation_id', '=', conversationId)
      .where('idx', '=', idx)
      .execute();
  }
  await db.destroy();
}

/** What storage migrated past 0006 must read from `seedChangesUnder0005`'s data. */
async function expectChangesNumbered(storage: Storage, ada: UserRecord, conversationId: string): Promise<void> {
  const changed = await storage.listChangedMessages(conversationId, { afterChange: 0, upTo: 10, limit: 10 });
  expect(changed.messages.map((m) => [m.index, m.changeIndex, m.body])).toEqual([
    [1, 1, ''],
    [3, 2, 'm3 edited'],
    [2, 3, 'm2 edited'],
  ]);
  expect((await storage.getConversation(conversationId))?.lastChangeIndex).toBe(3);
  const page = await storage.listMessages(conversationId, { limit: 10 });
  expect(page.messages.map((m) => m.changeIndex)).toEqual([1, 3, 2, undefined]);
  const json = await storage.listMessagesJson(conversationId, { limit: 10 });
  expect(JSON.parse(json.messagesJson)).toEqual(page.messages);
  // The next change takes the next number.
  const [, , , fourth] = page.messages;
  const next = await storage.changeMessage(conversationId, fourth?.id ?? '', { kind: 'edit', body: 'm4 edited', at: at(70) });
  expect(next?.message).toMatchObject({ changeIndex: 4, authorId: ada.id });
}

describe('migration 0006_change_index', () => {
  it('numbers the changes made under 0005 in the order they were made on SQLite, and drops the counter on the way down', async () => {
    const file = join(dir, 'change-index.sqlite');
    const { ada, conversationId } = await seed01(sqliteKysely(file));
    await seedChangesUnder0005(sqliteKysely(file), undefined, ada, conversationId);
    const storage = await openSqliteStorage({ file });
    await storage.migrate();
    await expectChangesNumbered(storage, ada, conversationId);
    await storage.close();

    const db = sqliteKysely(file);
    await runMigrations(db, undefined, '0005_message_edits');
    await db.destroy();
    const check = new BetterSqlite3(file, { readonly: true });
    const columns = check.prepare("select name from pragma_table_info('messages')").pluck().all();
    const heads = check.prepare('select * from conversation_heads where id = ?').get(conversationId) as Record<string, unknown>;
    const stored = check.prepare('select message_json from messages where conversation_id = ? and message_json is not null').pluck().all(conversationId) as string[];
    check.close();
    expect(columns).not.toContain('change_index');
    expect(heads).toMatchObject({ last_message_index: 4 });
    expect(heads).not.toHaveProperty('last_change_index');
    expect(stored).toHaveLength(4);
    for (const text of stored) expect(JSON.parse(text)).not.toHaveProperty('changeIndex');
  });

  it.skipIf(!withPg)('numbers them the same way on PostgreSQL', async () => {
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`create schema "${pgChangesSchema}"`);
    await admin.end();
    const kysely = () =>
      new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: pgUrl, options: `-c search_path=${pgChangesSchema}` }) }) });
    const { ada, conversationId } = await seed01(kysely(), pgChangesSchema);
    await seedChangesUnder0005(kysely(), pgChangesSchema, ada, conversationId);
    const storage = await openPostgresStorage({ connectionString: pgUrl, schema: pgChangesSchema });
    await storage.migrate();
    await expectChangesNumbered(storage, ada, conversationId);
    await storage.close();

    const db = kysely();
    await runMigrations(db, pgChangesSchema, '0005_message_edits');
    const heads = (await db.selectFrom('conversation_heads').selectAll().where('id', '=', conversationId).executeTakeFirstOrThrow()) as Record<string, unknown>;
    await db.destroy();
    expect(heads).not.toHaveProperty('last_change_index');
    expect(Number(heads.last_message_index)).toBe(4);
  });
});

describe('0008: webhooks and unique names per key', () => {
  it('gives the conversations /v1 created before it their key, so their unique names stay theirs, and goes back down', async () => {
    const file = join(dir, 'api-key.sqlite');
    const { ada } = await seed01(sqliteKysely(file));
    const db = sqliteKysely(file);
    await runMigrations(db, undefined, '0007_unique_name');
    const keyId = `SK${randomBytes(16).toString('hex')}`;
    const service = { id: uid('US'), username: `api.${keyId.toLowerCase()}`.slice(0, 32) };
    await db.insertInto('api_keys').values({ id: keyId, secret: 's', name: 'shop', created_at: at(0), revoked_at: null }).execute();
    await db.insertInto('users').values({ id: service.id, username: service.username, password_hash: 'external', created_at: at(0) }).execute();
    const row = (id: string, createdBy: string, uniqueName: string | null) => ({
      id, title: 't', subject: '', attributes: '{}', invite_policy: 'members', created_by: createdBy,
      created_at: at(0), updated_at: at(0), last_activity_at: at(0), last_message_index: 0, last_change_index: 0, unique_name: uniqueName,
    });
    const [byKey, byAda] = [uid('CH'), uid('CH')];
    await db.insertInto('conversations').values([row(byKey, service.id, 'order-1'), row(byAda, ada.id, 'book-club')]).execute();
    await db.destroy();

    const storage = await openSqliteStorage({ file });
    await storage.migrate();
    expect(await storage.findConversationByUniqueName('order-1', keyId)).toBe(byKey);
    expect(await storage.findConversationByUniqueName('order-1', null)).toBeUndefined();
    expect(await storage.findConversationByUniqueName('book-club', null)).toBe(byAda);
    await storage.close();

    const down = sqliteKysely(file);
    await runMigrations(down, undefined, '0007_unique_name');
    await down.destroy();
    const check = new BetterSqlite3(file, { readonly: true });
    const columns = check.prepare("select name from pragma_table_info('conversations')").pluck().all();
    const tables = check.prepare("select name from sqlite_master where type = 'table' and name like 'webhook%'").pluck().all();
    check.close();
    expect(columns).not.toContain('api_key_id');
    expect(tables).toEqual([]);
  });
});
