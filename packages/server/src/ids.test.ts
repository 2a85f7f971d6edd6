import { describe, expect, it } from 'vitest';
import { newId, newSecret } from './ids.js';

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
