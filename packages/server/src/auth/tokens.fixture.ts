import { createHmac } from 'node:crypto';
import { SignJWT } from 'jose';

/*
 * Tokens for the tests of hs256.ts and TokenService: a site key's secret, hand-signed tokens
 * (headers, payloads and algorithms jose would not emit) and one jose builds, all in Twilio's
 * AccessToken layout. Test-only: excluded from the build.
 */

export const SECRET = 'site-secret-0123456789abcdef';
export const HEADER = { alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' };

export const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A token signed by hand with HMAC `alg`. */
export function signRaw(header: unknown, payload: unknown, secret = SECRET, alg: 'sha256' | 'sha384' | 'sha512' = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(alg, secret).update(input).digest('base64url')}`;
}

/** Claims of a token for `grace`, signed by key `SKsite`, expiring at `exp`; `extra` overrides. */
export const claims = (exp: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  jti: 'SKsite-1',
  iss: 'SKsite',
  sub: 'ACaccount',
  exp,
  grants: { identity: 'grace', chat: { service_sid: 'IS1' } },
  ...extra,
});

/** The same token as jose's SignJWT builds it, as a site using the Twilio library would. */
export function joseToken(exp: number): Promise<string> {
  return new SignJWT({ jti: 'SKsite-1', grants: { identity: 'grace', chat: { service_sid: 'IS1' } } })
    .setProtectedHeader(HEADER)
    .setIssuer('SKsite')
    .setSubject('ACaccount')
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(SECRET));
}
