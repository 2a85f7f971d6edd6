import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { BatchItem, Outcome } from './append-batch.js';
import { packItems, packOutcomes, unpackItems, unpackOutcomes } from './append-wire.js';

const item = (n: number, clientId: string | null): BatchItem => ({
  id: `IM${String(n)}`,
  conversationId: 'CH1',
  authorId: 'US1',
  body: `body ${String(n)}`,
  clientId,
  attributes: n === 2 ? '{"k":[1,2]}' : '{}',
  createdAt: '2026-12-01T22:00:00.000Z',
});

describe('append wire', () => {
  it('carries a batch as strings only and gives back the same items, null client ids included', () => {
    const items = [item(1, 'c-1'), item(2, null), item(3, '')];
    const fields = structuredClone(packItems(items));
    expect(fields.every((f) => f === null || typeof f === 'string')).toBe(true);
    expect(unpackItems(fields)).toEqual(items);
  });

  it('gives back every kind of outcome in order, rebuilding a SQLite error with its code', () => {
    const duplicate = {
      kind: 'ok' as const,
      duplicate: true,
      message: { id: 'IM9', conversationId: 'CH1', index: 4, authorId: 'US1', author: 'ada', body: 'b', clientId: 'c', attributes: {}, createdAt: 't' },
    };
    const outcomes: Outcome[] = [
      { ok: true, result: { kind: 'appended', index: 7, author: 'ada', createdAt: 't1', json: '{"index":7}' } },
      { ok: true, result: { kind: 'not_participant' } },
      { ok: false, error: new BetterSqlite3.SqliteError('UNIQUE constraint failed: messages.id', 'SQLITE_CONSTRAINT_UNIQUE') },
      { ok: true, result: duplicate },
      { ok: true, result: { kind: 'appended', index: 8, author: 'bob', createdAt: 't2', json: '{"index":8}' } },
    ];
    const back = unpackOutcomes(structuredClone(packOutcomes(outcomes)));
    expect(back).toHaveLength(5);
    expect(back[0]).toEqual(outcomes[0]);
    expect(back[1]).toEqual(outcomes[1]);
    const failed = back[2];
    expect(failed?.ok).toBe(false);
    if (failed?.ok !== false) throw new Error('unreachable');
    expect(failed.error).toBeInstanceOf(BetterSqlite3.SqliteError);
    expect((failed.error as { code?: string }).code).toBe('SQLITE_CONSTRAINT_UNIQUE');
    expect(back[3]).toEqual(outcomes[3]);
    expect(back[4]).toEqual(outcomes[4]);
  });

  it('refuses a malformed answer instead of settling appends with the wrong outcomes', () => {
    expect(() => unpackOutcomes(['ada' as never])).toThrow(/malformed/);
  });
});
