import { describe, expect, it } from 'vitest';
import { newEventId, newId, newMessageId, newSecret } from './ids.js';

describe('newId', () => {
  it('is the prefix and 32 lowercase hex characters', () => {
    expect(newId('IM')).toMatch(/^IM[0-9a-f]{32}$/);
    expect(newId('US')).toMatch(/^US[0-9a-f]{32}$/);
  });

  it('never repeats across several refills of the random pool', () => {
    // 4 KiB pool = 256 ids per refill; 2,000 ids cross it 7 times.
    const ids = Array.from({ length: 2000 }, () => newId('IM').slice(2));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('uses all 128 bits: every hex digit position varies', () => {
    const ids = Array.from({ length: 300 }, () => newId('CH').slice(2));
    for (let i = 0; i < 32; i += 1) {
      expect(new Set(ids.map((id) => id[i])).size).toBeGreaterThan(8);
    }
  });
});

describe('newSecret', () => {
  it('is base64url of the requested size', () => {
    expect(newSecret()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newSecret(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('newMessageId', () => {
  it('has the shape of newId: IM and 32 lowercase hex characters', () => {
    expect(newMessageId()).toMatch(/^IM[0-9a-f]{32}$/);
  });

  it('starts with the time in milliseconds, so later ids sort after earlier ones', () => {
    const t = Date.UTC(2026, 11, 1, 21, 0, 0, 123);
    expect(newMessageId(t).slice(2, 14)).toBe(t.toString(16).padStart(12, '0'));
    const earlier = Array.from({ length: 50 }, () => newMessageId(t));
    const later = Array.from({ length: 50 }, () => newMessageId(t + 1));
    for (const a of earlier) for (const b of later) expect(a < b).toBe(true);
  });

  it('never repeats within one millisecond, across refills of the pool', () => {
    const ids = Array.from({ length: 2000 }, () => newMessageId(1_700_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('uses all 80 random bits: every digit after the time varies', () => {
    const ids = Array.from({ length: 300 }, () => newMessageId(1_700_000_000_000).slice(14));
    for (let i = 0; i < 20; i += 1) {
      expect(new Set(ids.map((id) => id[i])).size).toBeGreaterThan(8);
    }
  });
});

describe('newEventId', () => {
  it('sorts in the order made, within one millisecond and when the clock steps back', () => {
    const t = 1_700_000_000_000;
    const ids = [newEventId(t), newEventId(t), newEventId(t), newEventId(t + 5), newEventId(t + 1), newEventId(t + 6)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toMatch(/^EV[0-9a-f]{32}$/);
  });
});
