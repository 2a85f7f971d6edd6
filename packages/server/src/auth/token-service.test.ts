import { ERRORS } from '@parley/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { openSqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import type { Storage } from '../storage/storage.js';
import { TokenService } from './tokens.js';
import { HEADER, SECRET, b64, claims as tokenClaims, joseToken, signRaw } from './tokens.fixture.js';

/* The acceptance rules of TokenService.verify, with the codes and messages it answers. */

let storage: Storage;
let tokens: TokenService;
beforeAll(async () => {
  storage = await openSqliteStorage({ file: ':memory:' });
  await storage.migrate();
  await storage.createApiKey({ id: 'SKsite', secret: SECRET, name: 'site', createdAt: new Date().toISOString(), revokedAt: null });
  tokens = await TokenService.open(storage, 60);
});
afterAll(() => storage.close());
afterEach(() => vi.useRealTimers());

const now = (): number => Math.floor(Date.now() / 1000);
const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => tokenClaims(now() + 60, { jti: `SKsite-${now()}`, ...extra });

async function refusal(token: string): Promise<{ code: string; message: string }> {
  const err = await tokens.verify(token).then(
    () => undefined,
    (e: unknown) => e as { code: string; message: string },
  );
  expect(err).toBeDefined();
  return { code: err!.code, message: err!.message };
}

const invalid = { code: 'invalid_token', message: ERRORS.invalid_token.message };

describe('TokenService.verify', () => {
  it('accepts a token built by jose SignJWT in the Twilio layout', async () => {
    const token = await joseToken(now() + 60);
    const verified = await tokens.verify(token);
    expect(verified).toMatchObject({ identity: 'grace', keyId: 'SKsite' });
    expect(verified.expiresAt.getTime()).toBe((now() + 60) * 1000);
  });

  it('refuses bad signatures and algorithms with invalid_token', async () => {
    expect(await refusal(signRaw(HEADER, claims(), 'another-secret'))).toEqual(invalid);
    const [, payload] = signRaw(HEADER, claims()).split('.');
    expect(await refusal(`${b64({ alg: 'none' })}.${payload}.`)).toEqual(invalid);
    expect(await refusal(signRaw({ alg: 'HS512' }, claims(), SECRET, 'sha512'))).toEqual(invalid);
    const [header, , signature] = signRaw(HEADER, claims()).split('.');
    expect(await refusal(`${header}.${b64(claims({ grants: { identity: 'admin' } }))}.${signature}`)).toEqual(invalid);
  });

  it('refuses expired and not-yet-valid tokens', async () => {
    expect(await refusal(signRaw(HEADER, claims({ exp: now() - 1 })))).toEqual({ code: 'token_expired', message: ERRORS.token_expired.message });
    expect(await refusal(signRaw(HEADER, claims({ nbf: now() + 30 })))).toEqual(invalid);
  });

  it('names what is missing: identity, iss, a known key, a JWT at all, an expiry', async () => {
    expect(await refusal(signRaw(HEADER, claims({ grants: { chat: {} } })))).toEqual({
      code: 'invalid_token',
      message: 'The access token has no grants.identity',
    });
    expect(await refusal(signRaw(HEADER, claims({ iss: undefined })))).toEqual({ code: 'invalid_token', message: 'The access token names no key (iss)' });
    expect(await refusal(signRaw(HEADER, claims({ iss: 'SKnobody' })))).toEqual({
      code: 'invalid_token',
      message: 'The access token was signed by an unknown key',
    });
    for (const junk of ['', 'garbage', 'a.b.c', 'a.b.c.d', '\u0000.\u0000.\u0000']) {
      expect(await refusal(junk)).toEqual({ code: 'invalid_token', message: 'The access token is not a JWT' });
    }
    expect(await refusal(signRaw(HEADER, claims({ exp: undefined })))).toEqual({
      code: 'invalid_token',
      message: 'The access token has no expiry (exp)',
    });
  });

  it('answers a token seen before from its cache, until the token expires', async () => {
    vi.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    const { token, expiresAt } = await tokens.mint('ada', 30);
    const first = await tokens.verify(token);
    expect(await tokens.verify(token)).toEqual(first);
    expect(first.expiresAt).toEqual(expiresAt);
    vi.setSystemTime(expiresAt.getTime() - 1000);
    expect((await tokens.verify(token)).identity).toBe('ada');
    vi.setSystemTime(expiresAt.getTime());
    expect(await refusal(token)).toEqual({ code: 'token_expired', message: ERRORS.token_expired.message });
  });

  it('never lets a variant of a cached token through', async () => {
    const token = signRaw(HEADER, claims());
    await tokens.verify(token);
    const [header, payload, signature = ''] = token.split('.');
    expect(await refusal(`${header}.${b64(claims({ grants: { identity: 'admin' } }))}.${signature}`)).toEqual(invalid);
    expect(await refusal(`${header}.${payload}.${signature.slice(0, -1)}`)).toEqual(invalid);
  });

  it('stops accepting tokens of a key it was told to forget once the key is revoked', async () => {
    await storage.createApiKey({ id: 'SKgone', secret: 'gone-secret', name: 'gone', createdAt: new Date().toISOString(), revokedAt: null });
    const token = signRaw(HEADER, claims({ iss: 'SKgone' }), 'gone-secret');
    expect((await tokens.verify(token)).keyId).toBe('SKgone');
    await storage.revokeApiKey('SKgone', new Date().toISOString());
    tokens.forgetKey('SKgone');
    expect(await refusal(token)).toEqual({ code: 'invalid_token', message: 'The access token was signed by an unknown key' });
    // Parley's own signing key is never forgotten: it still mints and verifies.
    const { token: own } = await tokens.mint('ada');
    tokens.forgetKey((await tokens.verify(own)).keyId);
    expect((await tokens.verify(own)).identity).toBe('ada');
  });
});
