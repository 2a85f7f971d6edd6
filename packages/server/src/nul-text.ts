import { AppError } from './errors.js';

/**
 * Where the first string holding U+0000 is inside a parsed JSON value (`.title`,
 * `.attributes.tags[2]`), or null. Keys are checked as well as values.
 *
 * @example
 * nulPath({ body: 'a\u0000b' }) // '.body'
 * nulPath({ body: 'fine' })     // null
 */
export function nulPath(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (typeof value !== 'object' || value === null) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = nulPath(value[i], `${path}[${String(i)}]`);
      if (found !== null) return found;
    }
    return null;
  }
  for (const key in value) {
    const where = `${path}.${key}`;
    if (key.includes('\u0000')) return where;
    const found = nulPath((value as Record<string, unknown>)[key], where);
    if (found !== null) return found;
  }
  return null;
}

function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(hasNul);
  for (const key in value) if (key.includes('\u0000') || hasNul((value as Record<string, unknown>)[key])) return true;
  return false;
}

/**
 * Text in Parley never holds the NUL character: PostgreSQL cannot store it in a text column,
 * so it is refused at the edges (REST and WebSocket) for both databases alike, with a 400
 * naming the field, instead of a database error.
 *
 * @example
 * assertNoNul('body', request.body); // throws validation_failed "body.title must not contain..."
 */
export function assertNoNul(where: string, value: unknown): void {
  // Nearly no request holds a NUL: look without building paths, and name the place only on a hit.
  if (!hasNul(value)) return;
  const path = nulPath(value);
  if (path !== null) throw new AppError('validation_failed', `${where}${path} must not contain the NUL character (U+0000)`);
}
