import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startWalCheckpointer } from './wal-checkpointer.js';

const dir = await mkdtemp(join(tmpdir(), 'parley-ckpt-'));
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function writer(file: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('wal_autocheckpoint = 0');
  // Trim the WAL to the frames of one commit whenever it restarts.
  db.pragma('journal_size_limit = 0');
  db.exec('create table if not exists t (n integer primary key, s text)');
  return db;
}

const insertMany = (db: BetterSqlite3.Database, commits: number): void => {
  const insert = db.prepare('insert into t (s) values (?)');
  for (let i = 0; i < commits; i += 1) insert.run('x'.repeat(2000));
};

const walSize = (file: string): number => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);

describe('startWalCheckpointer', () => {
  it('copies the WAL into the database off the thread, so the next commit restarts the log', async () => {
    const file = join(dir, 'restart.sqlite');
    const db = writer(file);
    insertMany(db, 300);
    const grown = walSize(file);
    expect(grown).toBeGreaterThan(300 * 2000);
    const checkpointer = await startWalCheckpointer({ file, intervalMs: 10 });
    let size = grown;
    for (let i = 0; i < 200 && size >= grown / 10; i += 1) {
      await new Promise((r) => setTimeout(r, 10));
      insertMany(db, 1);
      size = walSize(file);
    }
    expect(size).toBeLessThan(grown / 10);
    await checkpointer.stop();
    expect(db.prepare('select count(*) from t').pluck().get()).toBeGreaterThanOrEqual(301);
    db.close();
  });

  it('without it the WAL only grows (the control for the test above)', () => {
    const file = join(dir, 'control.sqlite');
    const db = writer(file);
    insertMany(db, 100);
    const grown = walSize(file);
    insertMany(db, 1);
    expect(walSize(file)).toBeGreaterThan(grown);
    db.close();
  });

  it('closes its connection on stop, so closing the last connection removes the WAL', async () => {
    const file = join(dir, 'stop.sqlite');
    const db = writer(file);
    const checkpointer = await startWalCheckpointer({ file, intervalMs: 10 });
    insertMany(db, 5);
    await checkpointer.stop();
    await checkpointer.stop();
    db.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
    const reopened = new BetterSqlite3(file, { readonly: true });
    expect(reopened.prepare('select count(*) from t').pluck().get()).toBe(5);
    reopened.close();
  });

  it('restarts a WAL that grew past its limit, holding writers around it', async () => {
    const file = join(dir, 'restart-limit.sqlite');
    const db = writer(file);
    insertMany(db, 200); // ~200 frames, four times the limit below
    const grown = walSize(file);
    const calls: string[] = [];
    const pauseWrites = async (): Promise<() => void> => {
      calls.push('pause');
      return () => calls.push('resume');
    };
    const checkpointer = await startWalCheckpointer({ file, intervalMs: 10, restartFrames: 50, pauseWrites });
    for (let i = 0; i < 200 && calls.length < 2; i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(calls.slice(0, 2)).toEqual(['pause', 'resume']);
    // After a RESTART the next commit writes from the start of the log (and journal_size_limit
    // trims the file), though the writer never let the WAL go idle.
    insertMany(db, 1);
    expect(walSize(file)).toBeLessThan(grown / 10);
    await checkpointer.stop();
    db.close();
  });

  it('with flushFd, flushes the database after each pass that copied pages, and not after one that copied none', async () => {
    const file = join(dir, 'flush.sqlite');
    const db = writer(file);
    insertMany(db, 50);
    const fd = openSync(file, 'r+');
    const waitFor = async (check: () => boolean): Promise<void> => {
      for (let i = 0; i < 300 && !check(); i += 1) await new Promise((r) => setTimeout(r, 10));
    };
    const checkpointer = await startWalCheckpointer({ file, intervalMs: 10, flushFd: fd });
    await waitFor(() => checkpointer.flushes > 0);
    expect(checkpointer.flushes).toBe(1);
    // Nothing new to copy: ten more passes, no flush.
    await new Promise((r) => setTimeout(r, 100));
    expect(checkpointer.flushes).toBe(1);
    // One commit, so that one pass copies all of it (a pass may fall between separate commits).
    db.transaction(() => insertMany(db, 5))();
    await waitFor(() => checkpointer.flushes > 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(checkpointer.flushes).toBe(2);
    await checkpointer.stop();
    db.close();
    closeSync(fd);
  });

  it('without flushFd, leaves the flush to SQLite', async () => {
    const file = join(dir, 'no-flush.sqlite');
    const db = writer(file);
    insertMany(db, 50);
    const checkpointer = await startWalCheckpointer({ file, intervalMs: 10 });
    const grown = walSize(file);
    // The pass copies the whole log, so the next commit starts it over.
    for (let i = 0; i < 200 && walSize(file) >= grown / 10; i += 1) {
      await new Promise((r) => setTimeout(r, 10));
      insertMany(db, 1);
    }
    expect(walSize(file)).toBeLessThan(grown / 10);
    expect(checkpointer.flushes).toBe(0);
    await checkpointer.stop();
    db.close();
  });
});
