import { describe, expect, it } from 'vitest';
import { isoNow } from './clock.js';

describe('isoNow', () => {
  it('is toISOString of the given millisecond, also after another millisecond was asked for', () => {
    const t = Date.UTC(2026, 11, 1, 22, 30, 0, 123);
    expect(isoNow(t)).toBe('2026-12-01T22:30:00.123Z');
    expect(isoNow(t + 1)).toBe('2026-12-01T22:30:00.124Z');
    expect(isoNow(t)).toBe('2026-12-01T22:30:00.123Z');
  });

  it('reads the clock when called without an argument', () => {
    const before = Date.now();
    const now = Date.parse(isoNow());
    const after = Date.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(after);
  });
});
