import { describe, expect, it } from 'vitest';
import { uuid7 } from './uuid7.js';

describe('uuid7', () => {
  it('is a version 7, variant 1 UUID in lowercase text', () => {
    expect(uuid7()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('starts with the time in milliseconds, so later ids sort after earlier ones', () => {
    const t = Date.UTC(2026, 11, 1, 22, 0, 0, 5);
    expect(uuid7(t).replace(/-/g, '').slice(0, 12)).toBe(t.toString(16).padStart(12, '0'));
    const earlier = Array.from({ length: 30 }, () => uuid7(t));
    const later = Array.from({ length: 30 }, () => uuid7(t + 1));
    for (const a of earlier) for (const b of later) expect(a < b).toBe(true);
  });

  it('never repeats within one millisecond and varies every random digit', () => {
    const ids = Array.from({ length: 2000 }, () => uuid7(1_700_000_000_000).replace(/-/g, ''));
    expect(new Set(ids).size).toBe(ids.length);
    // Digits 13-15 and 17-31 are random (12 is the version, 16 carries the variant's 2 bits).
    for (const i of [13, 14, 15, 17, 20, 25, 31]) expect(new Set(ids.map((id) => id[i])).size).toBeGreaterThan(8);
  });
});
