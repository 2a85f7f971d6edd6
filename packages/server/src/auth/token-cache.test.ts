import { describe, expect, it } from 'vitest';
import { TokenCache } from './token-cache.js';

const entry = (value: string, exp = 200, keyId = 'SK1', nbf?: number) => ({ value, keyId, exp, nbf });

describe('TokenCache', () => {
  it('answers only while exp is in the future and nbf is not', () => {
    const cache = new TokenCache<string>(10);
    cache.set('t', entry('ada', 200));
    expect(cache.get('t', 199)).toBe('ada');
    expect(cache.get('t', 200)).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.set('n', entry('bob', 200, 'SK1', 150));
    expect(cache.get('n', 149)).toBeUndefined();
  });

  it('stays within its bound by dropping the oldest entry', () => {
    const cache = new TokenCache<string>(2);
    cache.set('a', entry('1'));
    cache.set('b', entry('2'));
    cache.set('b', entry('2'));
    expect(cache.size).toBe(2);
    cache.set('c', entry('3'));
    expect(cache.size).toBe(2);
    expect(cache.get('a', 0)).toBeUndefined();
    expect(cache.get('b', 0)).toBe('2');
    expect(cache.get('c', 0)).toBe('3');
  });

  it('drops the tokens of one key', () => {
    const cache = new TokenCache<string>(10);
    cache.set('a', entry('1', 200, 'SK1'));
    cache.set('b', entry('2', 200, 'SK2'));
    cache.dropKey('SK1');
    expect(cache.get('a', 0)).toBeUndefined();
    expect(cache.get('b', 0)).toBe('2');
  });
});
