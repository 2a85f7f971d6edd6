import { createServer } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Client } from '@parley/sdk';
import { startInProcessServer, type InProcessServer } from '../helpers/in-process-server.js';
import { spawnServer, type SpawnedServer } from '../helpers/spawned-server.js';
import { openClient, signUp } from '../helpers/users.js';
import { createApiKey, parleyCli, type ApiKey } from '../helpers/api-keys.js';
import { signatureValid, startReceiver, type Received, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * SPEC 2.8: webhooks for message and membership events, signed with the key secret. A site's
 * key sets one receiver URL (`PUT /api/webhook`); every conversation created through the key
 * then has its events POSTed there, in order, retried until the receiver takes them, and kept
 * across a crash of the server.
 */
let server: InProcessServer;
let sends = 0;
let receiver: WebhookReceiver;
const clients: Client[] = [];

const basic = (key: ApiKey): string => `Basic ${Buffer.from(`${key.id}:${key.secret}`).toString('base64')}`;

async function call(base: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : JSON.parse(text) };
}

/** A site backend with a key: calls as one of its users, or as the key itself. */
function site(base: () => string, key: ApiKey) {
  return {
    as: (identity: string, method: string, path: string, body?: unknown) =>
      call(base(), method, path, { authorization: basic(key), 'x-parley-identity': identity }, body),
    /** `POST .../messages` as `identity`; the answer's status. */
    send: async (identity: string, conversationId: string, body: string) =>
      (await call(base(), 'POST', `/api/conversations/${conversationId}/messages`, { authorization: basic(key), 'x-parley-identity': identity }, { body, clientId: `c-${++sends}` })).status,
    key: (method: string, path: string, body?: unknown) => call(base(), method, path, { authorization: basic(key) }, body),
  };
}

const of = (conversationId: string) => receiver.received.filter((r) => r.body.conversationId === conversationId);
const summary = (r: Received): string => {
  const d = r.body.data;
  return d.message ? `${r.body.type} ${d.message.index} ${d.message.body}` : `${r.body.type} ${d.participant.username} ${d.participant.status}`;
};

beforeAll(async () => {
  server = await startInProcessServer({ PARLEY_WEBHOOK_RETRY_MAX_MS: '200' });
  receiver = await startReceiver();
});
afterAll(async () => {
  for (const c of clients) await c.shutdown();
  await server?.close();
  await receiver?.close();
});
afterEach(() => {
  receiver.recover(); // nothing planned carries over
});

describe('webhooks: setting one up', () => {
  it('is the key’s own call: Basic with the key alone, a clear 4xx for anything else', async () => {
    const key = await createApiKey({ dataDir: server.dataDir }, 'webhook set-up');
    const shop = site(() => server.baseUrl, key);
    expect(await shop.key('GET', '/api/webhook')).toMatchObject({ status: 404, json: { error: { code: 'webhook_not_found' } } });
    expect(await call(server.baseUrl, 'PUT', '/api/webhook', {}, { url: receiver.url })).toMatchObject({ status: 401, json: { error: { code: 'invalid_api_key' } } });
    const user = await signUp(server.baseUrl, 'whuser');
    clients.push(user.client);
    // A user's valid token is not the key.
    const token = await user.auth.getToken();
    expect((await call(server.baseUrl, 'GET', '/api/me', { authorization: `Bearer ${token}` })).status).toBe(200);
    expect(await call(server.baseUrl, 'PUT', '/api/webhook', { authorization: `Bearer ${token}` }, { url: receiver.url })).toMatchObject({
      status: 401,
      json: { error: { code: 'invalid_api_key', message: expect.stringContaining('Basic') } },
    });
    const wrong = { ...key, secret: 'not-the-secret' };
    expect(await call(server.baseUrl, 'PUT', '/api/webhook', { authorization: basic(wrong) }, { url: receiver.url })).toMatchObject({ status: 401 });

    for (const [body, named] of [
      [{ url: 'ftp://example.com/hook' }, 'http:// or https://'],
      [{ url: 'not a url' }, 'absolute'],
      [{ url: 'http://user:pw@example.com/hook' }, 'password'],
      [{ url: '' }, 'url'],
      [{}, 'url'],
      [{ url: receiver.url, events: ['messageExploded'] }, 'events'],
      [{ url: receiver.url, events: [] }, 'events'],
      [{ url: receiver.url, events: ['messageAdded', 'messageAdded'] }, 'events'],
      [{ url: receiver.url, secret: 'x' }, 'secret'],
    ] as const) {
      const refused = await shop.key('PUT', '/api/webhook', body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.json.error.code).toBe('validation_failed');
      expect(refused.json.error.message).toContain(named);
    }

    const set = await shop.key('PUT', '/api/webhook', { url: receiver.url });
    expect(set).toMatchObject({
      status: 200,
      json: { webhook: { url: receiver.url, events: expect.arrayContaining(['messageAdded', 'participantLeft']), failing: 0, lastError: null } },
    });
    expect(set.json.webhook.events).toHaveLength(6);
    const narrowed = await shop.key('PUT', '/api/webhook', { url: receiver.url, events: ['messageAdded'] });
    expect(narrowed.json.webhook).toMatchObject({ events: ['messageAdded'], createdAt: set.json.webhook.createdAt });
    expect((await shop.key('GET', '/api/webhook')).json.webhook.events).toEqual(['messageAdded']);
    expect((await shop.key('DELETE', '/api/webhook')).status).toBe(204);
    expect(await shop.key('DELETE', '/api/webhook')).toMatchObject({ status: 404, json: { error: { code: 'webhook_not_found' } } });
  });
});

describe('webhooks: delivery', () => {
  it('POSTs every message and membership event of the key’s conversation, in order and signed with the key secret', async () => {
    const key = await createApiKey({ dataDir: server.dataDir }, 'webhook shop');
    const shop = site(() => server.baseUrl, key);
    expect((await shop.key('PUT', '/api/webhook', { url: receiver.url })).status).toBe(200);

    const created = await shop.as('wh.ann', 'POST', '/api/conversations', { title: 'Order 77' });
    const conversationId = created.json.conversation.conversation.id as string;
    expect((await shop.as('wh.ann', 'POST', `/api/conversations/${conversationId}/participants`, { username: 'wh.ben' })).status).toBe(201);
    expect((await shop.as('wh.ben', 'POST', `/api/invitations/${conversationId}/accept`)).status).toBe(200);

    // Ann chats over the WebSocket with a token her site minted, as the tutorial's front end does.
    const token = (await shop.as('wh.ann', 'POST', '/api/token')).json.token as string;
    const ann = await openClient(server.baseUrl, token);
    clients.push(ann);
    const conversation = (await ann.getSubscribedConversations()).find((c) => c.id === conversationId)!;
    const first = await conversation.sendMessage('Your parcel is on its way');
    await conversation.sendMessage('<b>not bold</b>');
    // Delivered live, as sent; the edit and removal follow as their own events.
    await vi.waitFor(() => expect(of(conversationId)).toHaveLength(5));
    await conversation.updateMessage(first.id, 'Your parcel arrives today');
    await conversation.removeMessage((await conversation.getMessages()).items[1]!.id);
    expect((await shop.as('wh.ben', 'POST', `/api/conversations/${conversationId}/leave`)).status).toBe(204);

    await vi.waitFor(() => expect(of(conversationId)).toHaveLength(8), { timeout: 10_000 });
    const got = of(conversationId);
    const membership = got.filter((r) => r.body.type.startsWith('participant')).map(summary);
    expect(membership).toEqual([
      'participantJoined wh.ann joined',
      'participantInvited wh.ben invited',
      'participantJoined wh.ben joined',
      'participantLeft wh.ben left',
    ]);
    const messages = got.filter((r) => r.body.type.startsWith('message')).map(summary);
    expect(messages).toEqual([
      'messageAdded 1 Your parcel is on its way',
      'messageAdded 2 <b>not bold</b>',
      'messageUpdated 1 Your parcel arrives today',
      'messageRemoved 2 ',
    ]);
    // Ben's leave came last, after every message event.
    expect(summary(got.at(-1)!)).toBe('participantLeft wh.ben left');
    for (const r of got) {
      expect(signatureValid(key.secret, r), r.raw).toBe(true);
      expect(signatureValid('another-secret', r)).toBe(false);
      expect(r.headers).toMatchObject({ 'content-type': 'application/json', 'x-parley-event': r.body.type, 'x-parley-event-id': r.body.id, 'x-parley-key': key.id });
      expect(r.body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    expect(new Set(got.map((r) => r.body.id)).size).toBe(8);
    // The data is the WebSocket event's: the message as it was stored, as text.
    expect(got.find((r) => r.body.type === 'messageRemoved')!.body.data).toMatchObject({ conversationId, index: 2, message: { body: '', removedAt: expect.any(String) } });
    const status = await shop.key('GET', '/api/webhook');
    expect(status.json.webhook).toMatchObject({ failing: 0, lastError: null });
  });

  it('retries a failing receiver with the same event until it answers 2xx, holding back what comes after', async () => {
    const key = await createApiKey({ dataDir: server.dataDir }, 'webhook flaky');
    const shop = site(() => server.baseUrl, key);
    await shop.key('PUT', '/api/webhook', { url: receiver.url, events: ['messageAdded'] });
    const conversationId = (await shop.as('wh.cat', 'POST', '/api/conversations', { title: 'Flaky' })).json.conversation.conversation.id as string;
    receiver.answer(500, 503, 404);
    for (const body of ['one', 'two']) expect(await shop.send('wh.cat', conversationId, body)).toBe(201);

    await vi.waitFor(async () => {
      const status = (await shop.key('GET', '/api/webhook')).json.webhook;
      expect(status).toMatchObject({ failing: 1, lastError: expect.stringMatching(/HTTP (500|503|404)/), nextAttemptAt: expect.any(String) });
    });
    await vi.waitFor(() => expect(of(conversationId).map((r) => r.body.data.message.body)).toEqual(['one', 'one', 'one', 'one', 'two']), { timeout: 10_000 });
    const ids = of(conversationId).map((r) => r.body.id);
    expect(new Set(ids.slice(0, 4)).size).toBe(1);
    await vi.waitFor(async () => expect((await shop.key('GET', '/api/webhook')).json.webhook).toMatchObject({ failing: 0, lastError: null }));
    // Operators see the same on /metrics.
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(Number(/parley_webhook_deliveries_total\{outcome="failed"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
    expect(Number(/parley_webhook_deliveries_total\{outcome="delivered"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
  });

  it('tells nobody of conversations not created through the key, and each key only of its own', async () => {
    const mine = await createApiKey({ dataDir: server.dataDir }, 'webhook mine');
    const theirs = await createApiKey({ dataDir: server.dataDir }, 'webhook theirs');
    const other = await startReceiver();
    try {
      await site(() => server.baseUrl, mine).key('PUT', '/api/webhook', { url: receiver.url });
      await site(() => server.baseUrl, theirs).key('PUT', '/api/webhook', { url: other.url });
      const theirConversation = (await site(() => server.baseUrl, theirs).as('wh.dan', 'POST', '/api/conversations', { title: 'Theirs' })).json.conversation
        .conversation.id as string;
      const user = await signUp(server.baseUrl, 'whplain');
      clients.push(user.client);
      const { conversation: plain } = await user.client.createConversation({ title: 'Not through a key' });
      const plainId = plain.id;
      await plain.sendMessage('private');
      expect(await site(() => server.baseUrl, theirs).send('wh.dan', theirConversation, 'theirs only')).toBe(201);

      await vi.waitFor(() => expect(other.received.map(summary)).toEqual(['participantJoined wh.dan joined', 'messageAdded 1 theirs only']));
      await server.parley.webhooks.poll();
      await server.parley.webhooks.idle();
      expect(of(theirConversation)).toEqual([]);
      expect(of(plainId)).toEqual([]);
      expect(other.received.every((r) => r.body.conversationId === theirConversation)).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('hears a conversation from when the webhook was set, not from its start, and stops when it is removed', async () => {
    const key = await createApiKey({ dataDir: server.dataDir }, 'webhook late');
    const shop = site(() => server.baseUrl, key);
    const conversationId = (await shop.as('wh.eve', 'POST', '/api/conversations', { title: 'Older' })).json.conversation.conversation.id as string;
    expect(await shop.send('wh.eve', conversationId, 'before the webhook')).toBe(201);
    await shop.key('PUT', '/api/webhook', { url: receiver.url });
    expect(await shop.send('wh.eve', conversationId, 'after it')).toBe(201);
    await vi.waitFor(() => expect(of(conversationId).map(summary)).toEqual(['messageAdded 2 after it']));

    expect((await shop.key('DELETE', '/api/webhook')).status).toBe(204);
    expect(await shop.send('wh.eve', conversationId, 'nobody listens')).toBe(201);
    await server.parley.webhooks.poll();
    await server.parley.webhooks.idle();
    expect(of(conversationId)).toHaveLength(1);
  });
});

describe('webhooks: back-off', () => {
  it('waits 1 s, then 2 s, then 4 s between attempts on a receiver that keeps failing', async () => {
    const slow = await startInProcessServer({ PARLEY_WEBHOOK_RETRY_MAX_MS: '60000' });
    const failing = await startReceiver();
    try {
      failing.answer(...Array<number>(100).fill(500));
      const key = await createApiKey({ dataDir: slow.dataDir }, 'webhook back-off');
      const shop = site(() => slow.baseUrl, key);
      await shop.key('PUT', '/api/webhook', { url: failing.url, events: ['messageAdded'] });
      const conversationId = (await shop.as('wh.hal', 'POST', '/api/conversations', { title: 'Back-off' })).json.conversation.conversation.id as string;
      expect(await shop.send('wh.hal', conversationId, 'again and again')).toBe(201);
      await vi.waitFor(() => expect(failing.received).toHaveLength(1));
      const start = Date.now();
      await vi.waitFor(() => expect(failing.received).toHaveLength(3), { timeout: 5000 });
      const elapsed = Date.now() - start;
      // Attempts at about 0, 1 and 3 s; the fourth is due at about 7 s.
      expect(elapsed).toBeGreaterThan(2700);
      expect(elapsed).toBeLessThan(4500);
      await new Promise((r) => setTimeout(r, 5500 - elapsed));
      expect(failing.received).toHaveLength(3);
      expect(new Set(failing.received.map((r) => r.body.id)).size).toBe(1);
    } finally {
      await slow.close();
      await failing.close();
    }
  }, 20_000);
});

describe('webhooks: a receiver that never answers', () => {
  it('counts as failed after PARLEY_WEBHOOK_TIMEOUT_MS, and is retried', async () => {
    const impatient = await startInProcessServer({ PARLEY_WEBHOOK_TIMEOUT_MS: '300', PARLEY_WEBHOOK_RETRY_MAX_MS: '200' });
    const hung: Array<() => void> = [];
    const silent = createServer((_req, res) => void hung.push(() => res.destroy()));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const key = await createApiKey({ dataDir: impatient.dataDir }, 'webhook hung');
      const shop = site(() => impatient.baseUrl, key);
      await shop.key('PUT', '/api/webhook', { url: `http://127.0.0.1:${(silent.address() as { port: number }).port}/hook`, events: ['messageAdded'] });
      const conversationId = (await shop.as('wh.ivy', 'POST', '/api/conversations', { title: 'Hung' })).json.conversation.conversation.id as string;
      expect(await shop.send('wh.ivy', conversationId, 'anyone there?')).toBe(201);
      await vi.waitFor(async () => expect((await shop.key('GET', '/api/webhook')).json.webhook).toMatchObject({ failing: 1, lastError: 'no answer within 300 ms' }));
      await vi.waitFor(() => expect(hung.length).toBeGreaterThanOrEqual(2));
    } finally {
      for (const end of hung) end();
      await impatient.close();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('webhooks: a revoked key', () => {
  it('stops sending: what happens after the revocation stays in Parley', async () => {
    const key = await createApiKey({ dataDir: server.dataDir }, 'webhook revoked');
    const shop = site(() => server.baseUrl, key);
    await shop.key('PUT', '/api/webhook', { url: receiver.url, events: ['messageAdded'] });
    const conversationId = (await shop.as('wh.gus', 'POST', '/api/conversations', { title: 'Revoked' })).json.conversation.conversation.id as string;
    expect(await shop.send('wh.gus', conversationId, 'before')).toBe(201);
    await vi.waitFor(() => expect(of(conversationId)).toHaveLength(1));
    await parleyCli({ dataDir: server.dataDir }, 'keys', 'revoke', key.id);
    // The key's own users can still chat with the tokens they hold; the site hears nothing more.
    const user = await server.parley.domain.ctx.storage.getUserByUsername('wh.gus');
    await server.parley.domain.messages.send(user!, conversationId, { body: 'after', clientId: 'after-revocation' });
    await server.parley.webhooks.poll();
    await server.parley.webhooks.idle();
    expect(of(conversationId).map((r) => r.body.data.message.body)).toEqual(['before']);
    expect(await shop.key('GET', '/api/webhook')).toMatchObject({ status: 401, json: { error: { code: 'invalid_api_key' } } });
  });
});

describe('webhooks: nothing acknowledged is lost', () => {
  let spawned: SpawnedServer | undefined;
  afterAll(async () => {
    await spawned?.kill('SIGKILL');
  });

  it('delivers the messages acknowledged while the receiver was down, after a SIGKILL and a restart', async () => {
    const env = { PARLEY_WEBHOOK_RETRY_MAX_MS: '200' };
    spawned = await spawnServer({ env });
    const key = await createApiKey({ dataDir: spawned.dataDir }, 'webhook crash');
    const shop = site(() => spawned!.baseUrl, key);
    await shop.key('PUT', '/api/webhook', { url: receiver.url, events: ['messageAdded'] });
    const conversationId = (await shop.as('wh.fay', 'POST', '/api/conversations', { title: 'Crash' })).json.conversation.conversation.id as string;
    receiver.answer(...Array<number>(1000).fill(503));
    const sent: string[] = [];
    for (let i = 1; i <= 20; i++) {
      expect(await shop.send('wh.fay', conversationId, `acked ${i}`)).toBe(201);
      sent.push(`acked ${i}`);
    }
    await vi.waitFor(() => expect(of(conversationId).length).toBeGreaterThan(0));
    await spawned.kill('SIGKILL');
    receiver.recover();

    spawned = await spawnServer({ dataDir: spawned.dataDir, env });
    await vi.waitFor(() => expect(uniqueBodies(of(conversationId))).toEqual(sent), { timeout: 15_000 });
    expect(await parleyCli({ dataDir: spawned.dataDir }, 'keys', 'list')).toContain(key.id);
  });
});

function uniqueBodies(received: Received[]): string[] {
  return [...new Map(received.map((r) => [r.body.id, r.body.data.message.body as string])).values()];
}
