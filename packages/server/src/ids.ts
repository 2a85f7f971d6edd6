import { randomBytes } from 'node:crypto';

/**
 * Twilio-style ids: a two-letter prefix and 32 hex characters (128 random bits), so a
 * Twilio-compatible surface can expose them as SIDs later.
 *
 * @example
 * newId('CH') // 'CH3f2a...'
 */
export function newId(prefix: 'US' | 'CH' | 'IM' | 'IV' | 'SK' | 'CN'): string {
  return prefix + randomBytes(16).toString('hex');
}

/**
 * A URL-safe secret of `bytes` random bytes (default 32 = 256 bits).
 *
 * @example
 * newSecret() // 'q3Vh...'
 */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
