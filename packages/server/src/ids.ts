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
  return prefix + randomHex(ID_BYTES);
}

// 48 bits of milliseconds: 12 hex digits, enough until the year 10889.
const TIME_HEX = 12;
const ORDERED_RANDOM_BYTES = ID_BYTES - TIME_HEX / 2;

/**
 * A message id of the same shape as `newId('IM')` ('IM' and 32 hex characters), whose first 12
 * hex digits are the creation time in milliseconds and the other 20 random (80 bits, from the
 * same pool). Ids made later sort after earlier ones, so the unique index on `messages.id`
 * grows at its right edge: a batch's new entries share its last leaf, where random ids would
 * dirty one leaf per message, each written to the WAL at commit and again by the checkpoint
 * (ADR 0006). 80 random bits per millisecond keep ids unguessable and collisions out of reach;
 * the index still refuses one.
 *
 * @example
 * newMessageId() // 'IM019ad4c5e1f0' + 20 random hex digits
 */
export function newMessageId(nowMs: number = Date.now()): string {
  return `IM${Math.floor(nowMs).toString(16).padStart(TIME_HEX, '0')}${randomHex(ORDERED_RANDOM_BYTES)}`;
}

let lastEventMs = 0;
let eventSeq = 0;

/**
 * An event id ('EV' and 32 hex characters) that sorts after every one this process made before:
 * 12 hex digits of milliseconds, 8 of a counter within the millisecond, 12 random. Webhook
 * outbox rows are delivered in this order, so two changes in one millisecond keep theirs.
 *
 * @example
 * newEventId() // 'EV019ad4c5e1f0' + '00000000' + 12 random hex digits
 */
export function newEventId(nowMs: number = Date.now()): string {
  const ms = Math.max(Math.floor(nowMs), lastEventMs);
  eventSeq = ms === lastEventMs ? eventSeq + 1 : 0;
  lastEventMs = ms;
  return `EV${ms.toString(16).padStart(TIME_HEX, '0')}${eventSeq.toString(16).padStart(8, '0')}${randomHex(6)}`;
}

/** `bytes` bytes from the pool as hex; each call uses its own bytes, never shared or reused. */
function randomHex(bytes: number): string {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset += bytes;
  return pool.toString('hex', start, start + bytes);
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
