import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles the cap from minMs up to maxMs', () => {
    const b = new Backoff({ minMs: 250, maxMs: 10_000, random: () => 0.999999 });
    const delays = Array.from({ length: 8 }, () => b.next());
    expect(delays).toEqual([249, 499, 999, 1999, 3999, 7999, 9999, 9999]);
  });

  it('uses full jitter: anywhere from 0 to the cap', () => {
    const low = new Backoff({ random: () => 0 });
    expect(low.next()).toBe(0);
    const mid = new Backoff({ minMs: 100, random: () => 0.5 });
    expect([mid.next(), mid.next(), mid.next()]).toEqual([50, 100, 200]);
  });

  it('stays within bounds with the real random source', () => {
    const b = new Backoff({ minMs: 10, maxMs: 80 });
    for (let i = 0; i < 100; i++) {
      const cap = b.cap(b.attempts);
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(cap);
      expect(cap).toBeLessThanOrEqual(80);
    }
  });

  it('starts over after reset', () => {
    const b = new Backoff({ minMs: 100, random: () => 0.999 });
    b.next();
    b.next();
    b.next();
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(99);
  });

  it('does not overflow after a very long outage', () => {
    const b = new Backoff({ minMs: 250, maxMs: 10_000, random: () => 0.5 });
    for (let i = 0; i < 5000; i++) b.next();
    expect(b.next()).toBe(5000);
  });
});
