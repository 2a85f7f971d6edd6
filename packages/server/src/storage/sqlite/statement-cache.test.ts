import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Generated } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StatementCache } from './statement-cache.js';

const open: BetterSqlite3.Database[] = [];
function database(): BetterSqlite3.Database {
  const db = new BetterSqlite3(':memory:');
  open.push(db);
  db.exec('create table t (n integer primary key, s text)');
  return db;
}
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
});

describe('StatementCache', () => {
  it('prepares each SQL text once and hands back the same statement', () => {
    const db = database();
    const prepare = vi.spyOn(db, 'prepare');
    const cache = new StatementCache(db);
    const first = cache.prepare('select n from t');
    expect(cache.prepare('select n from t')).toBe(first);
    expect(cache.prepare('select s from t')).not.toBe(first);
    expect(prepare).toHaveBeenCalledTimes(2);
    expect(cache.size).toBe(2);
  });

  it('evicts the least recently used text beyond its capacity', () => {
    const db = database();
    const cache = new StatementCache(db, 2);
    const a = cache.prepare('select 1');
    const b = cache.prepare('select 2');
    expect(cache.prepare('select 1')).toBe(a); // 'select 2' is now the oldest
    cache.prepare('select 3');
    expect(cache.size).toBe(2);
    expect(cache.prepare('select 1')).toBe(a);
    expect(cache.prepare('select 2')).not.toBe(b);
  });

  it('gives a fresh statement while the cached one is still iterating', () => {
    const db = database();
    db.exec("insert into t (s) values ('a'), ('b')");
    const cache = new StatementCache(db);
    const text = 'select s from t order by n';
    const iterating = cache.prepare(text);
    const rows = iterating.iterate([]);
    expect(rows.next().value).toEqual({ s: 'a' });
    const other = cache.prepare(text);
    expect(other).not.toBe(iterating);
    expect(other.all([])).toEqual([{ s: 'a' }, { s: 'b' }]);
    expect(rows.next().value).toEqual({ s: 'b' });
    expect(rows.next().done).toBe(true);
    expect(cache.prepare(text)).toBe(iterating);
  });

  it('serves Kysely reads, writes and streams with reused statements', async () => {
    const db = database();
    const prepare = vi.spyOn(db, 'prepare');
    const kysely = new Kysely<{ t: { n: Generated<number>; s: string } }>({ dialect: new SqliteDialect({ database: new StatementCache(db) }) });
    for (const s of ['x', 'y', 'z']) await kysely.insertInto('t').values({ s }).execute();
    const read = () => kysely.selectFrom('t').select('s').where('n', '>', 1).orderBy('n').execute();
    expect(await read()).toEqual([{ s: 'y' }, { s: 'z' }]);
    expect(await read()).toEqual([{ s: 'y' }, { s: 'z' }]);
    const streamed: string[] = [];
    for await (const row of kysely.selectFrom('t').select('s').orderBy('n').stream()) streamed.push(row.s);
    expect(streamed).toEqual(['x', 'y', 'z']);
    expect((await sql<{ c: number }>`select count(*) as c from t`.execute(kysely)).rows).toEqual([{ c: 3 }]);
    // One insert, one select, one stream, one count.
    expect(prepare).toHaveBeenCalledTimes(4);
    await kysely.destroy();
    expect(db.open).toBe(false);
  });
});
