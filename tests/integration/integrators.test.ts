import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Client, Message } from '@parley/sdk';
import { createSchema, servicesAvailable, type TestSchema } from '../multiprocess/support/services.js';
import { startInProcessServer, type InProcessServer } from '../helpers/in-process-server.js';
import { openClient } from '../helpers/users.js';
import { createApiKey, parleyCli, type ApiKey } from '../helpers/api-keys.js';

/**
 * SPEC 2.1: a site's backend holds a Parley API key (`parley keys create`) and makes
 * server-side calls with HTTP Basic `keyId:secret`, acting as one of its own users named in
 * `X-Parley-Identity`: mint access tokens for them, create conversations, add participants by
 * identity. Users are created on first sight, as Twilio does with identities.
 */
let server: InProcessServer;
let schema: TestSchema | undefined;
const clients: Client[] = [];

type Key = ApiKey;
const target = () => ({ dataDir: server.dataDir, databaseUrl: schema?.url });
const cli = (...args: string[]): Promise<string> => parleyCli(target(), ...args);
const createKey = (name: string): Promise<Key> => createApiKey(target(), name);

const basic = (key: Key, secret = key.secret): string => `Basic ${Buffer.from(`${key.id}:${secret}`).toString('base64')}`;

async function call(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(server.baseUrl + path, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function internalKey(): Promise<Key> {
  if (schema) {
    const client = new pg.Client({ connectionString: schema.url });
    await client.connect();
    try {
      return (await client.query<Key>(`select id, secret from api_keys where name = 'parley-internal'`)).rows[0]!;
    } finally {
      await client.end();
    }
  }
  const db = new Database(join(server.dataDir, 'parley.sqlite'), { readonly: true });
  try {
    return db.prepare(`select id, secret from api_keys where name = 'parley-internal'`).get() as Key;
  } finally {
    db.close();
  }
}

afterAll(async () => {
  for (const c of clients) await c.shutdown();
});

describe('integrators on SQLite: server-side calls with an API key', () => {
  beforeAll(async () => {
    server = await startInProcessServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("a site's backend mints tokens, creates a conversation and adds its users, who then chat live", async () => {
    const key = await createKey('shop backend');
    const as = (identity: string) => ({ authorization: basic(key), 'x-parley-identity': identity });

    const minted = await call('POST', '/api/token', as('shop.ann'));
    expect(minted.status).toBe(200);
    expect(minted.json).toMatchObject({ identity: 'shop.ann', token: expect.any(String) });

    const created = await call('POST', '/api/conversations', as('shop.ann'), { title: 'Order 1042' });
    expect(created.status).toBe(201);
    const conversationId = created.json.conversation.conversation.id as string;

    const added = await call('POST', `/api/conversations/${conversationId}/participants`, as('shop.ann'), { username: 'shop.ben' });
    expect(added.status).toBe(201);
    expect(added.json.participant).toMatchObject({ username: 'shop.ben', status: 'invited' });
    expect((await call('POST', `/api/invitations/${conversationId}/accept`, as('shop.ben'))).status).toBe(200);

    // Only an admin adds people, and a refused call creates nobody.
    const refused = await call('POST', `/api/conversations/${conversationId}/participants`, as('shop.ben'), { username: 'shop.nobody' });
    expect(refused).toMatchObject({ status: 403, json: { error: { code: 'not_admin' } } });
    expect(await server.parley.domain.ctx.storage.getUserByUsername('shop.nobody')).toBeUndefined();

    const tokenFor = async (identity: string): Promise<string> => (await call('POST', '/api/token', as(identity))).json.token as string;
    const ann = await openClient(server.baseUrl, await tokenFor('shop.ann'), { getToken: () => tokenFor('shop.ann') });
    const ben = await openClient(server.baseUrl, await tokenFor('shop.ben'), { getToken: () => tokenFor('shop.ben') });
    clients.push(ann, ben);
    const seen: Message[] = [];
    ben.on('messageAdded', (m) => seen.push(m));
    const conversation = (await ann.getSubscribedConversations()).find((c) => c.id === conversationId);
    await conversation!.sendMessage('Your parcel left the warehouse');
    await vi.waitFor(() => expect(seen.map((m) => [m.author, m.body])).toEqual([['shop.ann', 'Your parcel left the warehouse']]));

    // The users exist only through the site: no password signs them in.
    const signin = await call('POST', '/api/auth/signin', {}, { username: 'shop.ann', password: 'anything-at-all' });
    expect(signin).toMatchObject({ status: 401, json: { error: { code: 'invalid_credentials' } } });
  });

  it('accepts a token the site signed itself with its key, for an identity seen for the first time', async () => {
    const key = await createKey('self-signing backend');
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ grants: { identity: 'selfsigned.cara', chat: { service_sid: 'parley' } } })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' })
      .setIssuer(key.id)
      .setSubject('parley')
      .setJti(`${key.id}-${now}`)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(Buffer.from(key.secret, 'utf8'));
    const me = await call('GET', '/api/me', { authorization: `Bearer ${token}` });
    expect(me).toMatchObject({ status: 200, json: { user: { username: 'selfsigned.cara' } } });
    const badIdentity = await new SignJWT({ grants: { identity: 'not a username!', chat: { service_sid: 'parley' } } })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(key.id)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(Buffer.from(key.secret, 'utf8'));
    expect(await call('GET', '/api/me', { authorization: `Bearer ${badIdentity}` })).toMatchObject({
      status: 401,
      json: { error: { code: 'invalid_token', message: expect.stringContaining('is not a valid username') } },
    });
  });

  refusals();
});

describe('integrators on PostgreSQL: the same refusals, none of them a 500', () => {
  let available = true;
  beforeAll(async () => {
    available = await servicesAvailable('integrators on PostgreSQL');
    if (!available) return;
    schema = await createSchema();
    server = await startInProcessServer({ DATABASE_URL: schema.url });
  });
  afterAll(async () => {
    await server?.close();
    await schema?.drop();
    schema = undefined;
  });
  refusals(() => available);
});

function refusals(available: () => boolean = () => true): void {
  it('refuses a wrong secret, an unknown or revoked key, Parley’s own key, and a missing or invalid identity', async (ctx) => {
    if (!available()) ctx.skip();
    const key = await createKey('to be revoked');
    const identity = { 'x-parley-identity': 'shop.dan' };
    const refused = (res: { status: number; json: any }, status: number, code: string) => expect(res).toMatchObject({ status, json: { error: { code } } });
    refused(await call('POST', '/api/token', { authorization: basic(key, 'wrong'), ...identity }), 401, 'invalid_api_key');
    refused(await call('POST', '/api/token', { authorization: basic({ id: 'SKunknown', secret: key.secret }), ...identity }), 401, 'invalid_api_key');
    refused(await call('POST', '/api/token', { authorization: 'Basic not-base64-at-all', ...identity }), 401, 'invalid_api_key');
    refused(await call('POST', '/api/token', { authorization: basic({ id: 'SK\u0000x', secret: key.secret }), ...identity }), 401, 'invalid_api_key');
    refused(await call('POST', '/api/token', { authorization: basic({ id: 'x'.repeat(5000), secret: key.secret }), ...identity }), 401, 'invalid_api_key');
    refused(await call('POST', '/api/token', { authorization: basic(key), 'x-parley-identity': 'é'.repeat(10) }), 400, 'validation_failed');
    refused(await call('POST', '/api/token', { authorization: basic(key) }), 400, 'validation_failed');
    refused(await call('POST', '/api/token', { authorization: basic(key), 'x-parley-identity': 'no spaces allowed' }), 400, 'validation_failed');
    // Parley's own signing key, with its real secret, only signs tokens: it is no API key.
    const internal = await internalKey();
    refused(await call('GET', '/api/me', { authorization: basic(internal), ...identity }), 401, 'invalid_api_key');

    expect((await call('POST', '/api/token', { authorization: basic(key), ...identity })).status).toBe(200);
    expect(await cli('keys', 'revoke', key.id)).toContain(`revoked ${key.id}`);
    refused(await call('POST', '/api/token', { authorization: basic(key), ...identity }), 401, 'invalid_api_key');
  });
}
