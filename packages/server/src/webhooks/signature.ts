import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header carrying a delivery's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'x-parley-signature';

/**
 * The signature header's value for `body` sent at `unixSeconds`: HMAC-SHA256 keyed with the API
 * key's secret over `<unixSeconds>.<body>`, in hex. The time is signed too, so a receiver can
 * refuse an old delivery replayed to it.
 *
 * @example
 * signWebhook('s3cret', '{"id":"..."}', 1733300000) // 't=1733300000,v1=5d41...'
 */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmac(secret, `${unixSeconds}.${body}`)}`;
}

/**
 * Whether `header` is a valid signature of `body` with `secret`, made at most `toleranceSeconds`
 * from `nowSeconds`. What a receiver runs (docs/integrators.md has the same in a few lines).
 *
 * @example
 * verifyWebhook('s3cret', rawBody, request.headers['x-parley-signature'], Date.now() / 1000)
 */
export function verifyWebhook(secret: string, body: string, header: string | undefined, nowSeconds: number, toleranceSeconds = 300): boolean {
  if (header === undefined) return false;
  const parts = new Map(header.split(',').map((part) => part.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1');
  if (!Number.isInteger(t) || v1 === undefined || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(hmac(secret, `${t}.${body}`), 'hex');
  const given = Buffer.from(v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function hmac(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}
