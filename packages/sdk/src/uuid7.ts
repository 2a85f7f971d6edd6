/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix time in milliseconds, then the version, 74
 * random bits and the variant, as the usual 36-character lowercase text. Ids made later sort
 * after earlier ones, which is why the SDK uses them as client ids: the server's idempotency
 * index is keyed by client id first, so time-ordered ids are inserted at its right edge,
 * sharing one page per commit instead of dirtying one per message (server ADR 0006). Random
 * bits come from `crypto.getRandomValues`, in browsers and Node alike.
 *
 * @example
 * uuid7() // '019ad4c5-e1f0-7a3b-9c2d-4e5f60718293'
 */
export function uuid7(nowMs: number = Date.now()): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let time = Math.floor(nowMs);
  for (let i = 5; i >= 0; i -= 1) {
    bytes[i] = time % 256;
    time = Math.floor(time / 256);
  }
  bytes[6] = 0x70 | ((bytes[6] ?? 0) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
