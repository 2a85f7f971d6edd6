import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { assertNoNul, nulPath } from './nul-text.js';

describe('nulPath', () => {
  it('finds the first NUL in strings, keys, arrays and nested objects', () => {
    expect(nulPath('a\u0000')).toBe('');
    expect(nulPath({ a: 'x', b: { c: ['ok', 'n\u0000'] } })).toBe('.b.c[1]');
    expect(nulPath({ ['k\u0000']: 1 })).toBe('.k\u0000');
    expect(nulPath([{ x: '\u0000' }])).toBe('[0].x');
  });

  it('passes everything else, including other control characters and the text \\u0000', () => {
    for (const value of [undefined, null, 0, true, 'plain', '\u0001\u001f\u007f', '\\u0000', { a: ['b', { c: 1 }] }, []]) {
      expect(nulPath(value)).toBeNull();
    }
  });
});

describe('assertNoNul', () => {
  it('throws validation_failed naming the field', () => {
    expect(() => assertNoNul('body', { title: 'a\u0000' })).toThrow(AppError);
    expect(() => assertNoNul('body', { title: 'a\u0000' })).toThrow('body.title must not contain the NUL character (U+0000)');
    expect(() => assertNoNul('body', { title: 'fine' })).not.toThrow();
  });
});
