import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchema, servicesAvailable, type TestSchema } from '../multiprocess/support/services.js';
import { createApiKey } from '../helpers/api-keys.js';
import { startInProcessServer, type InProcessServer } from '../helpers/in-process-server.js';

/**
 * Garbage thrown at every REST route, on both databases: odd path segments, and every body field
 * set to every kind of wrong value. Whatever the route makes of it, the answer is a JSON error
 * below 500 (or a success): never a database error leaking out as a 500. This is how the NUL
 * character and out-of-range indexes were found to fail on PostgreSQL.
 */
const WEIRD = [
  '', ' ', 'x'.repeat(70), 'x'.repeat(5000), '😀', '\ud800', 'é', '%', '..', "'; drop table users; --", '\\', '"', '\u2028', '\u0001', '\u0000',
  '0', '-1', '1e999', 'null', '[]', `CH${'a'.repeat(62)}`,
];
const VALUES: unknown[] = [null, true, 0, -1, 1.5, 2 ** 31, 2 ** 53, -(2 ** 63), 1e308, [], {}, [1], { a: { b: [null] } }, ...WEIRD];
const FIELDS = ['title', 'subject', 'body', 'clientId', 'attributes', 'index', 'username', 'userId', 'role', 'invitePolicy', 'expiresInSeconds', 'maxUses', 'password', 'participants'];

function segment(value: string): string {
  try {
    return encodeURIComponent(value) || '%20';
  } catch {
    return '%ED%A0%80'; // a lone surrogate, as a client could send it
  }
}

function routes(conversationId: string, messageId: string): Array<[method: string, path: (id: string) => string]> {
  return [
    ['GET', (id) => `/api/conversations/${id}`],
    ['PATCH', (id) => `/api/conversations/${id}`],
    ['DELETE', (id) => `/api/conversations/${id}`],
    ['GET', (id) => `/api/conversations/${id}/messages`],
    ['POST', (id) => `/api/conversations/${id}/messages`],
    ['POST', (id) => `/api/conversations/${id}/read`],
    ['PATCH', (id) => `/api/conversations/${conversationId}/messages/${id}`],
    ['PATCH', (id) => `/api/conversations/${id}/messages/${messageId}`],
    ['DELETE', (id) => `/api/conversations/${conversationId}/messages/${id}`],
    ['DELETE', (id) => `/api/conversations/${id}/messages/${messageId}`],
    ['GET', (id) => `/api/conversations/${id}/participants`],
    ['POST', (id) => `/api/conversations/${id}/participants`],
    ['PATCH', (id) => `/api/conversations/${conversationId}/participants/${id}`],
    ['DELETE', (id) => `/api/conversations/${conversationId}/participants/${id}`],
    ['POST', (id) => `/api/conversations/${id}/leave`],
    ['POST', (id) => `/api/conversations/${id}/invites`],
    ['DELETE', (id) => `/api/conversations/${conversationId}/invites/${id}`],
    ['GET', (id) => `/api/invites/${id}`],
    ['POST', (id) => `/api/invites/${id}/join`],
    ['POST', (id) => `/api/invitations/${id}/accept`],
    ['GET', (id) => `/api/conversations?limit=${id}`],
    ['GET', (id) => `/api/conversations/${conversationId}/messages?before=${id}&after=${id}&limit=${id}`],
  ];
}

function garbageSuite(kind: 'sqlite' | 'postgres'): void {
  describe(`garbage input (${kind})`, () => {
    let server: InProcessServer;
    let schema: TestSchema | undefined;
    let available = true;

    beforeAll(async () => {
      if (kind === 'postgres') {
        available = await servicesAvailable('garbage input on PostgreSQL');
        if (!available) return;
        schema = await createSchema();
      }
      server = await startInProcessServer(schema ? { DATABASE_URL: schema.url } : {});
    });
    afterAll(async () => {
      await server?.close();
      await schema?.drop();
    });

    it('never answers a 5xx, and every error is a JSON { error: { code, message } }', async (ctx) => {
      if (!available) ctx.skip();
      const base = server.baseUrl;
      const signup = await fetch(`${base}/api/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: `garbage_${kind}`, password: 'password123' }),
      });
      const cookie = signup.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
      const { token } = (await (await fetch(`${base}/api/token`, { method: 'POST', headers: { cookie } })).json()) as { token: string };
      const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const created = await fetch(`${base}/api/conversations`, { method: 'POST', headers: auth, body: JSON.stringify({ title: 'target' }) });
      const conversationId = ((await created.json()) as { conversation: { conversation: { id: string } } }).conversation.conversation.id;
      const post = async (clientId: string): Promise<string> => {
        const posted = await fetch(`${base}/api/conversations/${conversationId}/messages`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ body: 'to be edited', clientId }),
        });
        return ((await posted.json()) as { message: { id: string } }).message.id;
      };
      const messageId = await post('garbage-edit-1');

      const failures: string[] = [];
      let sent = 0;
      const send = async (method: string, path: string, body?: unknown): Promise<void> => {
        sent += 1;
        const res = await fetch(base + path, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
        const text = await res.text();
        const what = `${method} ${path.slice(0, 80)} ${body === undefined ? '' : JSON.stringify(body).slice(0, 60)}`;
        if (res.status >= 500) failures.push(`${res.status} ${what} -> ${text.slice(0, 120)}`);
        else if (res.status >= 400 && !(JSON.parse(text) as { error?: { code?: unknown } }).error?.code) failures.push(`no error code: ${what}`);
      };
      for (const [method, path] of routes(conversationId, messageId)) {
        for (const value of [...WEIRD, conversationId]) await send(method, path(segment(value)), method === 'GET' || method === 'DELETE' ? undefined : {});
      }
      const posts = ['/api/conversations', `/api/conversations/${conversationId}/messages`, `/api/conversations/${conversationId}/read`, `/api/conversations/${conversationId}/participants`, `/api/conversations/${conversationId}/invites`, '/api/auth/signin'];
      for (const path of posts) {
        for (const field of FIELDS) {
          for (const value of VALUES) await send('POST', path, { title: 't', body: 'b', clientId: `c${String(sent)}`, username: 'someone', [field]: value });
        }
      }
      for (const field of FIELDS) for (const value of VALUES) await send('PATCH', `/api/conversations/${conversationId}`, { [field]: value });
      // The routes above removed the first message (DELETE with the real conversation id).
      const message = `/api/conversations/${conversationId}/messages/${await post('garbage-edit-2')}`;
      for (const field of FIELDS) for (const value of VALUES) await send('PATCH', message, { body: 'b', [field]: value });
      expect(failures).toEqual([]);
      expect(sent).toBeGreaterThan(3000);
    }, 120_000);

    it('never answers a 5xx on /v1 either, and every error there is Twilio-shaped', async (ctx) => {
      if (!available) ctx.skip();
      const base = server.baseUrl;
      const key = await createApiKey({ dataDir: server.dataDir, databaseUrl: schema?.url }, `garbage ${kind}`);
      const headers = {
        authorization: `Basic ${Buffer.from(`${key.id}:${key.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      };
      const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
      const create = async (path: string, fields: Record<string, string>): Promise<string> =>
        ((await (await fetch(base + path, { method: 'POST', headers, body: form(fields) })).json()) as { sid: string }).sid;
      const sid = await create('/v1/Conversations', { FriendlyName: 'target' });
      const participant = await create(`/v1/Conversations/${sid}/Participants`, { Identity: `garbage.${kind}` });
      const message = await create(`/v1/Conversations/${sid}/Messages`, { Body: 'first' });

      const failures: string[] = [];
      let sent = 0;
      const send = async (method: string, path: string, fields?: Record<string, string>): Promise<void> => {
        sent += 1;
        let res: Response;
        try {
          res = await fetch(base + path, { method, headers, body: fields === undefined ? undefined : form(fields) });
        } catch (err) {
          failures.push(`no answer: ${method} ${path.slice(0, 80)} (${String(err)})`);
          return;
        }
        const text = await res.text();
        const what = `${method} ${path.slice(0, 80)} ${fields === undefined ? '' : JSON.stringify(fields).slice(0, 60)}`;
        if (res.status >= 500) failures.push(`${res.status} ${what} -> ${text.slice(0, 120)}`);
        else if (res.status >= 400) {
          const body = JSON.parse(text) as { code?: unknown; parley_code?: unknown };
          if (typeof body.code !== 'number' || typeof body.parley_code !== 'string') failures.push(`not Twilio-shaped: ${what} -> ${text.slice(0, 120)}`);
        }
      };
      const paths: Array<[method: string, path: (id: string) => string]> = [
        ['GET', (id) => `/v1/Conversations/${id}`],
        ['POST', (id) => `/v1/Conversations/${id}`],
        ['GET', (id) => `/v1/Conversations/${id}/Participants`],
        ['POST', (id) => `/v1/Conversations/${id}/Participants`],
        ['GET', (id) => `/v1/Conversations/${sid}/Participants/${id}`],
        ['GET', (id) => `/v1/Conversations/${id}/Messages`],
        ['POST', (id) => `/v1/Conversations/${id}/Messages`],
        ['GET', (id) => `/v1/Conversations/${sid}/Messages/${id}`],
        ['POST', (id) => `/v1/Conversations/${sid}/Messages/${id}`],
        ['GET', (id) => `/v1/Conversations?PageSize=${id}&PageToken=${id}&Page=${id}`],
        ['GET', (id) => `/v1/Conversations/${sid}/Messages?PageSize=${id}&PageToken=${id}&Order=${id}`],
        ['DELETE', (id) => `/v1/Conversations/${sid}/Participants/${id}`],
        ['DELETE', (id) => `/v1/Conversations/${sid}/Messages/${id}`],
        ['DELETE', (id) => `/v1/Conversations/${id}/Messages/${message}`],
      ];
      for (const [method, path] of paths) {
        for (const value of WEIRD) await send(method, path(segment(value)), method === 'POST' ? {} : undefined);
      }
      const strings = WEIRD.filter((w) => !w.includes('\ud800'));
      const fields = ['FriendlyName', 'Attributes', 'Identity', 'Body', 'Author', 'UniqueName', 'PageSize'];
      const creates = ['/v1/Conversations', `/v1/Conversations/${sid}`, `/v1/Conversations/${sid}/Participants`, `/v1/Conversations/${sid}/Messages`, `/v1/Conversations/${sid}/Messages/${message}`];
      for (const path of creates) {
        for (const field of fields) for (const value of strings) await send('POST', path, { Body: 'b', Identity: 'someone', [field]: value });
      }
      // Still there, still answering (none of the above removed the participant by its sid).
      expect((await fetch(`${base}/v1/Conversations/${sid}/Participants/${participant}`, { headers })).status).toBe(200);
      expect(failures).toEqual([]);
      expect(sent).toBeGreaterThan(800);
    }, 120_000);

    it('never answers a 5xx on /api/webhook, with the key or without it', async (ctx) => {
      if (!available) ctx.skip();
      const key = await createApiKey({ dataDir: server.dataDir, databaseUrl: schema?.url }, `garbage webhook ${kind}`);
      const failures: string[] = [];
      const send = async (method: string, headers: Record<string, string>, body?: unknown): Promise<void> => {
        const res = await fetch(`${server.baseUrl}/api/webhook`, {
          method,
          headers: { ...headers, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        const what = `${method} ${JSON.stringify(headers).slice(0, 60)} ${JSON.stringify(body)?.slice(0, 60)}`;
        if (res.status >= 500) failures.push(`${res.status} ${what} -> ${text.slice(0, 120)}`);
        else if (res.status >= 400 && !(JSON.parse(text) as { error?: { code?: unknown } }).error?.code) failures.push(`no error code: ${what}`);
      };
      const basic = (credentials: string) => ({ authorization: `Basic ${Buffer.from(credentials).toString('base64')}` });
      const auths = [basic(`${key.id}:${key.secret}`), basic(`${key.id}:wrong`), basic(':'), basic('SK:'), { authorization: 'Basic !!!' }, { authorization: 'Bearer x' }, {}];
      for (const headers of auths) {
        for (const field of ['url', 'events']) {
          for (const value of [...VALUES, ['messageAdded', 1], 'http://[::1', 'https://' + 'x'.repeat(3000)]) {
            await send('PUT', headers, { url: 'http://127.0.0.1:9/hook', [field]: value });
          }
        }
        await send('GET', headers);
      }
      await send('DELETE', auths[0]!);
      expect(failures).toEqual([]);
    }, 120_000);
  });
}

garbageSuite('sqlite');
garbageSuite('postgres');
