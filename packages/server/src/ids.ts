import { randomBytes, randomFillSync } from 'node:crypto';

const ID_BYTES = 16;
const POOL_BYTES = 4096;
// One CSPRNG call fills 256 ids: `randomBytes(16)` per message was ~2 % of the ingest profile.
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/**
 * Twilio-style ids: a two-letter prefix and 32 hex characters (128 random bits), so a
 * Twilio-compatible surface can expose them as SIDs later. The bits come from a pooled
 * buffer refilled by the CSPRNG; each id uses its own 16 bytes, never shared or reused.
 *
 * @example
 * newId('CH') // 'CH3f2a...'
 */
export function newId(prefix: 'US' | 'CH' | 'IM' | 'IV' | 'SK' | 'CN'): string {
  if (offset + ID_BYTES > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset += ID_BYTES;
  return prefix + pool.toString('hex', start, start + ID_BYTES);
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
