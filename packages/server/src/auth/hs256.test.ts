import { createHmac } from 'node:crypto';
import { decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeSegment, parseJwt, verifyHs256 } from './hs256.js';
import { HEADER, SECRET, b64, claims as tokenClaims, joseToken, signRaw } from './tokens.fixture.js';

/*
 * Differential test: every token goes through the jose calls TokenService used before
 * (decodeJwt for iss, then jwtVerify with algorithms ['HS256']) and through hs256.ts, and
 * both verdicts must be the expected one.
 */

const NOW = 1_900_000_000;
const key = Buffer.from(SECRET);

beforeAll(() => vi.useFakeTimers({ now: NOW * 1000 + 500, toFake: ['Date'] }));
afterAll(() => vi.useRealTimers());

const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => tokenClaims(NOW + 60, extra);

/** What TokenService.verify decided with jose, minus the key lookup. */
async function joseVerdict(token: string): Promise<string> {
  let iss: unknown;
  try {
    iss = decodeJwt(token).iss;
  } catch {
    return 'not-jwt';
  }
  if (typeof iss !== 'string') return 'no-iss';
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRET), { algorithms: ['HS256'] });
    const identity = (payload as { grants?: { identity?: unknown } }).grants?.identity;
    if (typeof identity !== 'string' || identity === '') return 'no-identity';
    return `ok:${identity}`;
  } catch (err) {
    return err instanceof joseErrors.JWTExpired ? 'expired' : 'invalid';
  }
}

function hs256Verdict(token: string): string {
  const jwt = parseJwt(token);
  if (!jwt) return 'not-jwt';
  if (typeof jwt.claims.iss !== 'string') return 'no-iss';
  const failure = verifyHs256(jwt, key, Math.floor(Date.now() / 1000));
  if (failure) return failure;
  const identity = (jwt.claims as { grants?: { identity?: unknown } }).grants?.identity;
  if (typeof identity !== 'string' || identity === '') return 'no-identity';
  return `ok:${identity}`;
}

async function expectBoth(token: string, verdict: string): Promise<void> {
  expect(await joseVerdict(token)).toBe(verdict);
  expect(hs256Verdict(token)).toBe(verdict);
}

const valid = signRaw(HEADER, claims());
const [validHeader = '', validPayload = '', validSignature = ''] = valid.split('.');

describe('verifyHs256 agrees with jose', () => {
  it('accepts a token jose SignJWT builds in the Twilio layout', async () => {
    await expectBoth(await joseToken(NOW + 60), 'ok:grace');
    await expectBoth(valid, 'ok:grace');
  });

  it('rejects other secrets, alg none and other algorithms', async () => {
    await expectBoth(signRaw(HEADER, claims(), 'not-the-secret'), 'invalid');
    await expectBoth(`${b64({ alg: 'none' })}.${validPayload}.`, 'invalid');
    await expectBoth(`${b64({ alg: 'none', typ: 'JWT' })}.${validPayload}.${validSignature}`, 'invalid');
    await expectBoth(signRaw({ alg: 'HS512' }, claims(), SECRET, 'sha512'), 'invalid');
    await expectBoth(signRaw({ alg: 'HS384' }, claims(), SECRET, 'sha384'), 'invalid');
    await expectBoth(signRaw({ alg: 'hs256' }, claims()), 'invalid');
    await expectBoth(signRaw({ typ: 'JWT' }, claims()), 'invalid');
    await expectBoth(signRaw({ alg: '' }, claims()), 'invalid');
  });

  it('rejects a tampered payload, header or signature', async () => {
    const forged = b64(claims({ grants: { identity: 'admin' } }));
    await expectBoth(`${validHeader}.${forged}.${validSignature}`, 'invalid');
    await expectBoth(`${b64({ ...HEADER, kid: 'x' })}.${validPayload}.${validSignature}`, 'invalid');
    await expectBoth(`${validHeader}.${validPayload}.${validSignature.slice(0, -2)}`, 'invalid');
    await expectBoth(`${validHeader}.${validPayload}.${validSignature}AAAA`, 'invalid');
    await expectBoth(`${validHeader}.${validPayload}.${validSignature.replace(/[A-Za-z]/, (c) => (c === 'A' ? 'B' : 'A'))}`, 'invalid');
    await expectBoth(`${validHeader}.${validPayload}.`, 'invalid');
    await expectBoth(`${validHeader}.${validPayload}.${validSignature}+`, 'invalid');
  });

  it('checks exp, nbf and iat as jose does, with no clock tolerance', async () => {
    await expectBoth(signRaw(HEADER, claims({ exp: NOW - 10 })), 'expired');
    await expectBoth(signRaw(HEADER, claims({ exp: NOW })), 'expired');
    await expectBoth(signRaw(HEADER, claims({ exp: NOW + 1 })), 'ok:grace');
    await expectBoth(signRaw(HEADER, claims({ exp: NOW - 10 }), 'wrong'), 'invalid');
    await expectBoth(signRaw(HEADER, claims({ exp: String(NOW + 60) })), 'invalid');
    await expectBoth(signRaw(HEADER, claims({ exp: null })), 'invalid');
    await expectBoth(signRaw(HEADER, claims({ nbf: NOW + 10 })), 'invalid');
    await expectBoth(signRaw(HEADER, claims({ nbf: NOW + 1 })), 'invalid');
    await expectBoth(signRaw(HEADER, claims({ nbf: NOW + 10, exp: NOW - 10 })), 'invalid');
    await expectBoth(signRaw(HEADER, claims({ nbf: NOW })), 'ok:grace');
    await expectBoth(signRaw(HEADER, claims({ nbf: 'soon' })), 'invalid');
    await expectBoth(signRaw(HEADER, claims({ iat: 'today' })), 'invalid');
    await expectBoth(signRaw(HEADER, claims({ iat: NOW + 3600 })), 'ok:grace');
    // No exp at all passes the signature layer (jose does not require it); TokenService refuses it.
    await expectBoth(signRaw(HEADER, { iss: 'SKsite', grants: { identity: 'grace' } }), 'ok:grace');
  });

  it('reports a missing grants.identity only for an otherwise valid token', async () => {
    await expectBoth(signRaw(HEADER, claims({ grants: { chat: {} } })), 'no-identity');
    await expectBoth(signRaw(HEADER, claims({ grants: { identity: '' } })), 'no-identity');
    await expectBoth(signRaw(HEADER, claims({ grants: { identity: 7 } })), 'no-identity');
    await expectBoth(signRaw(HEADER, claims({ grants: null })), 'no-identity');
    await expectBoth(signRaw(HEADER, claims({ grants: 'identity' })), 'no-identity');
    await expectBoth(signRaw(HEADER, claims({ grants: undefined })), 'no-identity');
    await expectBoth(signRaw(HEADER, claims({ grants: {}, exp: NOW - 1 })), 'expired');
    await expectBoth(signRaw(HEADER, claims({ iss: 7 })), 'no-iss');
    await expectBoth(signRaw(HEADER, claims({ iss: undefined })), 'no-iss');
  });

  it('handles the crit and b64 header parameters as jose does', async () => {
    await expectBoth(signRaw({ ...HEADER, crit: ['b64'], b64: true }, claims()), 'ok:grace');
    await expectBoth(signRaw({ ...HEADER, crit: ['b64'], b64: false }, claims()), 'invalid');
    await expectBoth(signRaw({ ...HEADER, crit: ['b64'] }, claims()), 'invalid');
    await expectBoth(signRaw({ ...HEADER, crit: ['b64'], b64: 'yes' }, claims()), 'invalid');
    await expectBoth(signRaw({ ...HEADER, crit: ['exp'], exp: 1 }, claims()), 'invalid');
    await expectBoth(signRaw({ ...HEADER, crit: [] }, claims()), 'invalid');
    await expectBoth(signRaw({ ...HEADER, crit: 'b64', b64: true }, claims()), 'invalid');
    await expectBoth(signRaw({ ...HEADER, b64: false }, claims()), 'ok:grace');
  });

  it('refuses garbage the way jose did', async () => {
    for (const junk of ['', 'a', 'a.b', 'a.b.c', 'a.b.c.d', 'a.b.c.d.e', '..', '...', 'not a jwt', 'é.é.é', `${validHeader}..${validSignature}`]) {
      await expectBoth(junk, 'not-jwt');
    }
    for (const payload of ['[1,2]', 'null', '"text"', '42', '{bad json', '']) {
      await expectBoth(`${validHeader}.${b64(payload)}.${validSignature}`, 'not-jwt');
    }
    await expectBoth(`${validHeader}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.${validSignature}`, 'not-jwt');
    await expectBoth(`${validHeader}.${validPayload}x.${validSignature}`, 'not-jwt');
    await expectBoth(signRaw('[1]', claims()), 'invalid');
    await expectBoth(signRaw('{"alg":"HS256"', claims()), 'invalid');
    await expectBoth(`.${validPayload}.${validSignature}`, 'invalid');
    await expectBoth(`${Buffer.from([0xff, 0xfe]).toString('base64url')}.${validPayload}.${validSignature}`, 'invalid');
  });

  it('decodes base64url leniently exactly where jose does', async () => {
    // Padding and whitespace in the signature are tolerated by atob; '+' and '/' are not.
    await expectBoth(`${valid}=`, 'ok:grace');
    await expectBoth(`${validHeader}.${validPayload}.${validSignature.slice(0, 10)} ${validSignature.slice(10)}`, 'ok:grace');
    await expectBoth(`${validHeader}.${validPayload}.${validSignature}==`, 'invalid');
    // A padded payload segment, signed as sent.
    const jti = ['a', 'ab', 'abc'].find((j) => JSON.stringify(claims({ jti: j })).length % 3 !== 0) ?? 'a';
    const paddedPayload = Buffer.from(JSON.stringify(claims({ jti }))).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    expect(paddedPayload.endsWith('=')).toBe(true);
    const padded = `${b64(HEADER)}.${paddedPayload}`;
    await expectBoth(`${padded}.${createHmac('sha256', SECRET).update(padded).digest('base64url')}`, 'ok:grace');
    // A byte-order mark before the claims is dropped by the UTF-8 decoder in both.
    await expectBoth(signRaw(HEADER, `\uFEFF${JSON.stringify(claims())}`), 'ok:grace');
    expect(decodeSegment('abcde')).toBeUndefined();
    expect(decodeSegment('ab+c')).toBeUndefined();
    expect(decodeSegment('YQ==')?.toString()).toBe('a');
    expect(decodeSegment('YQ')?.toString()).toBe('a');
  });

  it('never accepts an empty secret, as WebCrypto refused a zero-length HMAC key', () => {
    const jwt = parseJwt(signRaw(HEADER, claims(), ''));
    expect(jwt).toBeDefined();
    expect(verifyHs256(jwt!, Buffer.alloc(0), NOW)).toBe('invalid');
  });
});
