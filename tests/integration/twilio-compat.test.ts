import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Client, Message } from '@parley/sdk';
import { createApiKey, type ApiKey } from '../helpers/api-keys.js';
import { startInProcessServer, type InProcessServer } from '../helpers/in-process-server.js';
import { openClient } from '../helpers/users.js';

/**
 * SPEC 2.8: a backend written against the official `twilio` package, as the tutorial's is, runs
 * against Parley's `/v1` by giving the package an `httpClient` that sends its requests to
 * Parley instead of conversations.twilio.com. Nothing else in the backend changes.
 */
let server: InProcessServer;
let key: ApiKey;
const clients: Client[] = [];

beforeAll(async () => {
  server = await startInProcessServer();
  key = await createApiKey({ dataDir: server.dataDir }, 'tutorial backend');
});
afterAll(async () => {
  for (const c of clients) await c.shutdown();
  await server?.close();
});

interface TwilioRequest {
  method: string;
  uri: string;
  username?: string;
  password?: string;
  headers?: Record<string, string>;
  params?: Record<string, unknown>;
  data?: Record<string, unknown>;
}

/** The whole change a backend makes: an httpClient that sends Twilio's requests to Parley. */
function parleyHttpClient(baseUrl: string) {
  const form = (values: Record<string, unknown> | undefined): URLSearchParams => {
    const out = new URLSearchParams();
    for (const [name, value] of Object.entries(values ?? {})) {
      for (const one of Array.isArray(value) ? value : [value]) if (one !== undefined) out.append(name, String(one));
    }
    return out;
  };
  return {
    async request(opts: TwilioRequest) {
      const url = new URL(opts.uri);
      const target = new URL(url.pathname + url.search, url.hostname.endsWith('twilio.com') ? baseUrl : url.origin);
      for (const [name, value] of form(opts.params)) target.searchParams.append(name, value);
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.username !== undefined) headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
      const method = opts.method.toUpperCase();
      const res = await fetch(target, { method, headers, ...(method === 'POST' ? { body: form(opts.data) } : {}) });
      const responseHeaders: Record<string, string> = {};
      res.headers.forEach((value, name) => {
        responseHeaders[name] = value;
      });
      return { statusCode: res.status, body: await res.text(), headers: responseHeaders };
    },
  };
}

const twilioClient = (secret = key.secret) =>
  twilio(key.id, secret, { accountSid: `AC${'0'.repeat(32)}`, httpClient: parleyHttpClient(server.baseUrl) as never });

describe('the official twilio package against /v1', () => {
  it("runs the tutorial's backend: create a conversation, add participants by identity, mint their tokens, chat", async () => {
    const client = twilioClient();
    const conversation = await client.conversations.v1.conversations.create({ friendlyName: 'Tutorial room', attributes: JSON.stringify({ topic: 'lunch' }) });
    expect(conversation.sid).toMatch(/^CH/);
    expect(conversation.friendlyName).toBe('Tutorial room');
    expect(JSON.parse(conversation.attributes)).toEqual({ topic: 'lunch' });
    expect(conversation.chatServiceSid).toMatch(/^IS/);
    expect(conversation.dateCreated).toBeInstanceOf(Date);

    const fetched = await client.conversations.v1.conversations(conversation.sid).fetch();
    expect(fetched.friendlyName).toBe('Tutorial room');
    const ada = await client.conversations.v1.conversations(conversation.sid).participants.create({ identity: 'tutorial.ada' });
    const bob = await client.conversations.v1.conversations(conversation.sid).participants.create({ identity: 'tutorial.bob' });
    expect(ada).toMatchObject({ identity: 'tutorial.ada', conversationSid: conversation.sid });
    expect(ada.sid).toMatch(/^MB/);
    const listed = await client.conversations.v1.conversations(conversation.sid).participants.list();
    expect(listed.map((p) => p.identity).sort()).toEqual(['tutorial.ada', 'tutorial.bob']);
    expect((await client.conversations.v1.conversations(conversation.sid).participants(bob.sid).fetch()).identity).toBe('tutorial.bob');

    // The tutorial mints each user's token with twilio's AccessToken and a ChatGrant.
    const tokenFor = (identity: string): string => {
      const token = new twilio.jwt.AccessToken(`AC${'0'.repeat(32)}`, key.id, key.secret, { identity, ttl: 3600 });
      token.addGrant(new twilio.jwt.AccessToken.ChatGrant({ serviceSid: conversation.chatServiceSid }));
      return token.toJwt();
    };
    const adaClient = await openClient(server.baseUrl, tokenFor('tutorial.ada'));
    const bobClient = await openClient(server.baseUrl, tokenFor('tutorial.bob'));
    clients.push(adaClient, bobClient);
    const seen: Message[] = [];
    bobClient.on('messageAdded', (m) => seen.push(m));
    const adaConversation = await adaClient.getConversation(conversation.sid);
    await adaConversation.sendMessage('hello from the SDK');

    // The backend posts as a participant and as the system, and reads the history back.
    const posted = await client.conversations.v1.conversations(conversation.sid).messages.create({ author: 'tutorial.bob', body: 'hello from the backend' });
    expect(posted).toMatchObject({ author: 'tutorial.bob', body: 'hello from the backend', index: 1, participantSid: bob.sid });
    await client.conversations.v1.conversations(conversation.sid).messages.create({ body: 'a notice' });
    await vi.waitFor(() => expect(seen.map((m) => m.body)).toEqual(['hello from the SDK', 'hello from the backend', 'a notice']));
    const history = await client.conversations.v1.conversations(conversation.sid).messages.list();
    expect(history.map((m) => [m.index, m.author, m.body])).toEqual([
      [0, 'tutorial.ada', 'hello from the SDK'],
      [1, 'tutorial.bob', 'hello from the backend'],
      [2, history[2]?.author, 'a notice'],
    ]);
    expect(history[2]?.author).toMatch(/^api\./);
    const newestFirst = await client.conversations.v1.conversations(conversation.sid).messages.list({ order: 'desc', limit: 2 });
    expect(newestFirst.map((m) => m.index)).toEqual([2, 1]);

    // Edits and removals made through /v1 reach the SDK clients live.
    const changed = vi.fn();
    bobClient.on('messageUpdated', changed);
    await client.conversations.v1.conversations(conversation.sid).messages(posted.sid).update({ body: 'hello (edited)' });
    await vi.waitFor(() => expect(changed).toHaveBeenCalledWith(expect.objectContaining({ body: 'hello (edited)' })));
    await client.conversations.v1.conversations(conversation.sid).messages(posted.sid).remove();
    expect((await client.conversations.v1.conversations(conversation.sid).messages(posted.sid).fetch()).body).toBeNull();

    // Removing a participant and deleting the conversation, as Twilio's API does them.
    const gone = vi.fn();
    bobClient.on('conversationRemoved', gone);
    await client.conversations.v1.conversations(conversation.sid).participants(bob.sid).remove();
    await vi.waitFor(() => expect(gone).toHaveBeenCalledWith(expect.objectContaining({ conversationId: conversation.sid, reason: 'removed' })));
    await client.conversations.v1.conversations(conversation.sid).update({ friendlyName: 'Renamed' });
    expect((await client.conversations.v1.conversations(conversation.sid).fetch()).friendlyName).toBe('Renamed');
    await client.conversations.v1.conversations(conversation.sid).remove();
    await expect(client.conversations.v1.conversations(conversation.sid).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
  });

  it('names a conversation by its unique name wherever a sid goes, as Twilio does', async () => {
    const client = twilioClient();
    const room = await client.conversations.v1.conversations.create({ friendlyName: 'Order 1042', uniqueName: 'order-1042' });
    expect(room.uniqueName).toBe('order-1042');
    expect((await client.conversations.v1.conversations('order-1042').fetch()).sid).toBe(room.sid);
    await client.conversations.v1.conversations('order-1042').participants.create({ identity: 'shop.ann' });
    await client.conversations.v1.conversations('order-1042').messages.create({ author: 'shop.ann', body: 'where is my order?' });
    expect((await client.conversations.v1.conversations(room.sid).messages.list()).map((m) => m.body)).toEqual(['where is my order?']);
    const renamed = await client.conversations.v1.conversations('order-1042').update({ uniqueName: 'order-1042-done' });
    expect(renamed.uniqueName).toBe('order-1042-done');
    await expect(client.conversations.v1.conversations('order-1042').fetch()).rejects.toMatchObject({ status: 404 });
    // The SDK sees the same conversation, unique name and all.
    const token = new twilio.jwt.AccessToken(`AC${'0'.repeat(32)}`, key.id, key.secret, { identity: 'shop.ann' });
    token.addGrant(new twilio.jwt.AccessToken.ChatGrant({}));
    const ann = await openClient(server.baseUrl, token.toJwt());
    clients.push(ann);
    expect((await ann.getConversation(room.sid)).uniqueName).toBe('order-1042-done');
  });

  it('pages a long history and the conversation list the way the package follows them', async () => {
    const client = twilioClient();
    const room = await client.conversations.v1.conversations.create({ friendlyName: 'Long' });
    for (let i = 0; i < 7; i += 1) await client.conversations.v1.conversations(room.sid).messages.create({ body: `m${i}` });
    const all = await client.conversations.v1.conversations(room.sid).messages.list({ pageSize: 3 });
    expect(all.map((m) => m.body)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    const desc = await client.conversations.v1.conversations(room.sid).messages.list({ pageSize: 2, order: 'desc' });
    expect(desc.map((m) => m.index)).toEqual([6, 5, 4, 3, 2, 1, 0]);
    for (let i = 0; i < 3; i += 1) await client.conversations.v1.conversations.create({ friendlyName: `Extra ${i}` });
    const rooms = await client.conversations.v1.conversations.list({ pageSize: 2 });
    expect(rooms.map((c) => c.friendlyName)).toEqual(expect.arrayContaining(['Long', 'Extra 0', 'Extra 1', 'Extra 2']));
    expect(new Set(rooms.map((c) => c.sid)).size).toBe(rooms.length);
  });

  it('answers bad input and bad credentials with Twilio-shaped 4xx errors the package raises', async () => {
    const client = twilioClient();
    const room = await client.conversations.v1.conversations.create({ friendlyName: 'Errors' });
    const refused = (promise: Promise<unknown>) => expect(promise).rejects;
    await refused(twilioClient('wrong-secret').conversations.v1.conversations.list()).toMatchObject({ status: 401, code: 20003 });
    await refused(client.conversations.v1.conversations.create({ attributes: 'not json' })).toMatchObject({ status: 400, message: 'Attributes must be JSON text of an object' });
    await client.conversations.v1.conversations.create({ uniqueName: 'errors-taken' });
    await refused(client.conversations.v1.conversations.create({ uniqueName: 'errors-taken' })).toMatchObject({ status: 409, code: 20409 });
    await refused(client.conversations.v1.conversations.create({ uniqueName: 'CH0123abcd' })).toMatchObject({ status: 400, message: expect.stringMatching(/UniqueName/) });
    await refused(client.conversations.v1.conversations.create({ messagingServiceSid: 'MG123' })).toMatchObject({ status: 400, message: expect.stringMatching(/MessagingServiceSid/) });
    await refused(client.conversations.v1.conversations('CHnope').fetch()).toMatchObject({ status: 404, code: 20404 });
    await refused(client.conversations.v1.conversations(room.sid).participants.create({ identity: 'no spaces allowed' })).toMatchObject({ status: 400 });
    await refused(client.conversations.v1.conversations(room.sid).messages.create({ author: 'stranger', body: 'hi' })).toMatchObject({
      status: 400,
      message: 'Author stranger is not a participant of this conversation',
    });
    await refused(client.conversations.v1.conversations(room.sid).messages.create({ body: '' })).toMatchObject({ status: 400 });
    await refused(client.conversations.v1.conversations(room.sid).participants('MBnope').fetch()).toMatchObject({ status: 404 });

    // Another key's service user does not see this key's conversations.
    const other = await createApiKey({ dataDir: server.dataDir }, 'another site');
    const stranger = twilio(other.id, other.secret, { accountSid: `AC${'1'.repeat(32)}`, httpClient: parleyHttpClient(server.baseUrl) as never });
    await expect(stranger.conversations.v1.conversations(room.sid).fetch()).rejects.toMatchObject({ status: 404 });
    expect((await stranger.conversations.v1.conversations.list()).map((c) => c.sid)).not.toContain(room.sid);
    // Nor its unique names: the other site has its own, and learns nothing from a clash.
    await expect(stranger.conversations.v1.conversations('errors-taken').fetch()).rejects.toMatchObject({ status: 404 });
    const theirs = await stranger.conversations.v1.conversations.create({ uniqueName: 'errors-taken' });
    expect((await stranger.conversations.v1.conversations('errors-taken').fetch()).sid).toBe(theirs.sid);
    expect((await client.conversations.v1.conversations('errors-taken').fetch()).sid).not.toBe(theirs.sid);

    // Without credentials, and a route /v1 does not have, in the same shape.
    const bare = await fetch(`${server.baseUrl}/v1/Conversations`);
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ code: 20003, status: 401, parley_code: 'unauthenticated' });
    const unknown = await fetch(`${server.baseUrl}/v1/Services`, { headers: { authorization: `Basic ${Buffer.from(`${key.id}:${key.secret}`).toString('base64')}` } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 20404, parley_code: 'route_not_found' });
  });
});
