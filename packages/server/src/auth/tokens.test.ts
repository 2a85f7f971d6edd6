import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import type { Storage } from '../storage/storage.js';
import { TokenService } from './tokens.js';

let storage: Storage;
beforeAll(async () => {
  storage = await openSqliteStorage({ file: ':memory:' });
  await storage.migrate();
});
afterAll(() => storage.close());

describe('TokenService', () => {
  it('mints tokens in the Twilio AccessToken layout and verifies them', async () => {
    const tokens = await TokenService.open(storage, 60);
    const { token } = await tokens.mint('ada');
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(payload.grants.identity).toBe('ada');
    expect(payload.grants.chat).toBeDefined();
    expect(payload.iss).toMatch(/^SK/);
    expect((await tokens.verify(token)).identity).toBe('ada');
  });

  it('accepts a token an integrator signed with a Parley API key, as the twilio library would', async () => {
    await storage.createApiKey({ id: 'SKsite', secret: 'site-secret-0123456789abcdef', name: 'site', createdAt: new Date().toISOString(), revokedAt: null });
    const tokens = await TokenService.open(storage, 60);
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ jti: `SKsite-${now}`, grants: { identity: 'grace', chat: { service_sid: 'IS1' } } })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' })
      .setIssuer('SKsite')
      .setSubject('ACaccount')
      .setExpirationTime(now + 60)
      .sign(new TextEncoder().encode('site-secret-0123456789abcdef'));
    expect((await tokens.verify(token)).identity).toBe('grace');
  });

  it('rejects a token signed with the wrong secret, an unknown key, or none', async () => {
    const tokens = await TokenService.open(storage, 60);
    const wrong = await new SignJWT({ grants: { identity: 'eve' } })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('SKsite')
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode('not-the-secret'));
    await expect(tokens.verify(wrong)).rejects.toMatchObject({ code: 'invalid_token' });
    const unknown = await new SignJWT({ grants: { identity: 'eve' } })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('SKunknown')
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode('x'));
    await expect(tokens.verify(unknown)).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(tokens.verify('a.b.c')).rejects.toMatchObject({ code: 'invalid_token' });
  });
});
