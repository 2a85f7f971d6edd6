import { createHmac } from 'node:crypto';

/** The header carrying a delivery's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'x-parley-signature';

/**
 * The signature header's value for `body` sent at `unixSeconds`: HMAC-SHA256 keyed with the API
 * key's secret over `<unixSeconds>.<body>`, in hex. The time is signed too, so a receiver can
 * refuse an old delivery replayed to it (docs/integrators.md shows the check in a few lines).
 *
 * @example
 * signWebhook('s3cret', '{"id":"..."}', 1733300000) // 't=1733300000,v1=5d41...'
 */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmac(secret, `${unixSeconds}.${body}`)}`;
}

function hmac(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}
