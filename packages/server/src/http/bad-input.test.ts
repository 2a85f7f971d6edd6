import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer } from '../test-support.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;
let server: Server;

async function signUp(username: string): Promise<{ cookie: string; token: string; id: string }> {
  const res = await server.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { username, password: 'password123' } });
  expect(res.statusCode).toBe(201);
  const cookie = `parley_session=${res.cookies.find((c) => c.name === 'parley_session')!.value}`;
  const token = (await server.app.inject({ method: 'POST', url: '/api/token', headers: { cookie } })).json().token as string;
  return { cookie, token, id: res.json().user.id as string };
}

function expectError(res: { statusCode: number; json(): any; body: string }, status: number, code: string, messagePart?: string) {
  expect(res.statusCode).toBe(status);
  const body = res.json();
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  if (messagePart) expect(body.error.message).toContain(messagePart);
  expect(res.body).not.toMatch(/at .*\.(js|ts):\d+/); // never a stack trace
}

let alice: Awaited<ReturnType<typeof signUp>>;
let bob: Awaited<ReturnType<typeof signUp>>;
let conversationId: string;

beforeAll(async () => {
  server = await startTestServer();
  alice = await signUp('alice');
  bob = await signUp('bob');
  const res = await server.app.inject({
    method: 'POST',
    url: '/api/conversations',
    headers: { authorization: `Bearer ${alice.token}` },
    payload: { title: 'Secret plans' },
  });
  conversationId = res.json().conversation.conversation.id;
});
afterAll(() => server.close());

describe('REST bad input', () => {
  const auth = () => ({ authorization: `Bearer ${alice.token}` });

  it('rejects a missing field, naming it', async () => {
    const res = await server.app.inject({ method: 'POST', url: '/api/conversations', headers: auth(), payload: {} });
    expectError(res, 400, 'validation_failed', 'title');
  });

  it('rejects a wrong-typed field, naming it', async () => {
    const res = await server.app.inject({ method: 'POST', url: '/api/conversations', headers: auth(), payload: { title: 42 } });
    expectError(res, 400, 'validation_failed', 'title');
  });

  it('rejects an unknown field', async () => {
    const res = await server.app.inject({ method: 'POST', url: '/api/conversations', headers: auth(), payload: { title: 'x', admin: true } });
    expectError(res, 400, 'validation_failed', 'admin');
  });

  it('rejects a title over 100 characters', async () => {
    const res = await server.app.inject({ method: 'POST', url: '/api/conversations', headers: auth(), payload: { title: 'x'.repeat(101) } });
    expectError(res, 400, 'validation_failed', '100');
  });

  it('rejects a message body over 4000 characters and a blank one', async () => {
    const url = `/api/conversations/${conversationId}/messages`;
    const long = await server.app.inject({ method: 'POST', url, headers: auth(), payload: { body: 'x'.repeat(4001), clientId: 'a' } });
    expectError(long, 400, 'validation_failed', '4000');
    const blank = await server.app.inject({ method: 'POST', url, headers: auth(), payload: { body: '   ', clientId: 'b' } });
    expectError(blank, 400, 'validation_failed', 'blank');
  });

  it('rejects malformed JSON', async () => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/conversations',
      headers: { ...auth(), 'content-type': 'application/json' },
      payload: '{"title": ',
    });
    expectError(res, 400, 'malformed_json');
  });

  it('rejects a body over the size limit', async () => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/conversations',
      headers: { ...auth(), 'content-type': 'application/json' },
      payload: JSON.stringify({ title: 'x', attributes: { blob: 'x'.repeat(300 * 1024) } }),
    });
    expectError(res, 413, 'body_too_large');
  });

  it('rejects a non-JSON content type', async () => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/conversations',
      headers: { ...auth(), 'content-type': 'text/plain' },
      payload: 'title=x',
    });
    expectError(res, 415, 'unsupported_media_type');
  });

  it('rejects a page size over 100', async () => {
    const res = await server.app.inject({ method: 'GET', url: `/api/conversations/${conversationId}/messages?limit=101`, headers: auth() });
    expectError(res, 400, 'validation_failed', 'limit');
  });

  it('rejects the NUL character anywhere in a request, naming where', async () => {
    const nul = '\u0000';
    let sent = 0;
    const send = (payload: object) =>
      server.app.inject({ method: 'POST', url: `/api/conversations/${conversationId}/messages`, headers: auth(), payload: { clientId: `nul-${String((sent += 1))}`, ...payload } });
    expectError(await send({ body: `a${nul}b` }), 400, 'validation_failed', 'body.body must not contain the NUL character');
    expectError(await send({ body: 'ok', clientId: nul }), 400, 'validation_failed', 'body.clientId');
    expectError(await send({ body: 'ok', attributes: { tags: ['x', `y${nul}`] } }), 400, 'validation_failed', 'body.attributes.tags[1]');
    expectError(await send({ body: 'ok', attributes: { [`k${nul}`]: 1 } }), 400, 'validation_failed', 'body.attributes.k');
    const title = await server.app.inject({ method: 'POST', url: '/api/conversations', headers: auth(), payload: { title: nul } });
    expectError(title, 400, 'validation_failed', 'body.title');
    const param = await server.app.inject({ method: 'GET', url: '/api/conversations/CH%00x/messages', headers: auth() });
    expectError(param, 400, 'validation_failed', 'params.id');
    const query = await server.app.inject({ method: 'GET', url: `/api/conversations?x=%00`, headers: auth() });
    expectError(query, 400, 'validation_failed', 'querystring.x');
    const signup = await server.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { username: `eve${nul}`, password: 'password123' } });
    expectError(signup, 400, 'validation_failed', 'body.username');
    // A backslash followed by "u0000" is just text.
    const literal = await send({ body: 'the escape \\u0000 as text' });
    expect(literal.statusCode).toBe(201);
    expect(literal.json().message.body).toBe('the escape \\u0000 as text');
  });

  it('rejects message indexes beyond what the databases store, naming the field', async () => {
    const get = (query: string) => server.app.inject({ method: 'GET', url: `/api/conversations/${conversationId}/messages?${query}`, headers: auth() });
    expectError(await get('before=2147483648'), 400, 'validation_failed', 'before must be <= 2147483647');
    expectError(await get('after=99999999999999999999'), 400, 'validation_failed', 'after must be <= 2147483647');
    expect((await get('before=2147483647')).statusCode).toBe(200);
    const read = await server.app.inject({ method: 'POST', url: `/api/conversations/${conversationId}/read`, headers: auth(), payload: { index: 3_000_000_000 } });
    expectError(read, 400, 'validation_failed', 'index must be <= 2147483647');
  });

  it('rejects a malformed or overlong path segment in the usual error shape', async () => {
    const bad = await server.app.inject({ method: 'GET', url: '/api/conversations/%ED%A0%80', headers: auth() });
    expectError(bad, 400, 'validation_failed', 'not valid percent-encoded UTF-8');
    const long = await server.app.inject({ method: 'GET', url: `/api/conversations/${'x'.repeat(5000)}/messages`, headers: auth() });
    expectError(long, 400, 'validation_failed', 'longer than any id');
    expect(long.body.length).toBeLessThan(300); // the URL is not echoed back
  });

  it('returns 404 for an unknown conversation', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/conversations/CHnope', headers: auth() });
    expectError(res, 404, 'conversation_not_found');
  });

  it('returns 404, not 403, to a non-participant everywhere', async () => {
    const headers = { authorization: `Bearer ${bob.token}` };
    const base = `/api/conversations/${conversationId}`;
    const attempts = [
      server.app.inject({ method: 'GET', url: base, headers }),
      server.app.inject({ method: 'GET', url: `${base}/messages`, headers }),
      server.app.inject({ method: 'POST', url: `${base}/messages`, headers, payload: { body: 'hi', clientId: 'z' } }),
      server.app.inject({ method: 'GET', url: `${base}/participants`, headers }),
      server.app.inject({ method: 'POST', url: `${base}/invites`, headers, payload: {} }),
      server.app.inject({ method: 'PATCH', url: base, headers, payload: { title: 'mine now' } }),
      server.app.inject({ method: 'DELETE', url: base, headers }),
    ];
    for (const res of await Promise.all(attempts)) expectError(res, 404, 'conversation_not_found');
  });

  it('rejects requests without credentials', async () => {
    expectError(await server.app.inject({ method: 'GET', url: '/api/conversations' }), 401, 'unauthenticated');
  });

  it('rejects a bad token and an expired one', async () => {
    const bad = await server.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: 'Bearer not-a-jwt' } });
    expectError(bad, 401, 'invalid_token');
    const [header, , signature] = alice.token.split('.');
    const forged = await server.app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { authorization: `Bearer ${header}.${Buffer.from('{"iss":"SKnope","grants":{"identity":"alice"}}').toString('base64url')}.${signature}` },
    });
    expectError(forged, 401, 'invalid_token');
    const short = await startTestServer({ env: { PARLEY_TOKEN_TTL_SECONDS: '5' } });
    try {
      const res = await short.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { username: 'carol', password: 'password123' } });
      const cookie = `parley_session=${res.cookies[0]!.value}`;
      const token = (await short.app.inject({ method: 'POST', url: '/api/token', headers: { cookie } })).json().token as string;
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 10_000);
      try {
        const expired = await short.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } });
        expectError(expired, 401, 'token_expired');
      } finally {
        vi.useRealTimers();
      }
    } finally {
      await short.close();
    }
  });

  it('keeps conversation unique names unique: 409 unique_name_taken, a malformed one named, null clears it', async () => {
    const create = (payload: object) => server.app.inject({ method: 'POST', url: '/api/conversations', headers: auth(), payload });
    const made = await create({ title: 'Order', uniqueName: 'order-7' });
    expect(made.statusCode).toBe(201);
    const id = made.json().conversation.conversation.id as string;
    expect(made.json().conversation.conversation.uniqueName).toBe('order-7');
    expectError(await create({ title: 'Again', uniqueName: 'order-7' }), 409, 'unique_name_taken');
    expectError(await create({ title: 'Looks like an id', uniqueName: 'CH0a1b2c' }), 400, 'validation_failed', 'uniqueName');
    expectError(await create({ title: 'Empty', uniqueName: '' }), 400, 'validation_failed', 'uniqueName');
    const other = (await create({ title: 'Other' })).json().conversation.conversation.id as string;
    const patch = (target: string, payload: object) => server.app.inject({ method: 'PATCH', url: `/api/conversations/${target}`, headers: auth(), payload });
    expectError(await patch(other, { uniqueName: 'order-7' }), 409, 'unique_name_taken');
    expect((await patch(id, { uniqueName: null })).json().conversation.conversation.uniqueName).toBeNull();
    expect((await patch(other, { uniqueName: 'order-7' })).json().conversation.conversation.uniqueName).toBe('order-7');
  });

  it('rejects a duplicate username, case-insensitively', async () => {
    const res = await server.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { username: 'ALICE', password: 'password123' } });
    expectError(res, 409, 'username_taken', 'alice');
  });

  it('rejects an invalid username and a short password', async () => {
    const name = await server.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { username: 'no spaces!', password: 'password123' } });
    expectError(name, 400, 'validation_failed', 'username');
    const pass = await server.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { username: 'dave', password: 'short' } });
    expectError(pass, 400, 'validation_failed', 'password');
  });

  it('rejects a wrong password and an unknown user alike', async () => {
    const wrong = await server.app.inject({ method: 'POST', url: '/api/auth/signin', payload: { username: 'alice', password: 'wrong-password' } });
    expectError(wrong, 401, 'invalid_credentials');
    const unknown = await server.app.inject({ method: 'POST', url: '/api/auth/signin', payload: { username: 'nobody', password: 'whatever1' } });
    expectError(unknown, 401, 'invalid_credentials');
  });

  it('limits failed sign-ins per username', async () => {
    let last;
    for (let i = 0; i < 11; i += 1) {
      last = await server.app.inject({ method: 'POST', url: '/api/auth/signin', payload: { username: 'bob', password: `wrong-${i}` } });
    }
    expectError(last!, 429, 'rate_limited');
    expect(last!.headers['retry-after']).toBeDefined();
  });

  it('answers an unknown route with a JSON 404', async () => {
    expectError(await server.app.inject({ method: 'GET', url: '/api/nope' }), 404, 'route_not_found');
  });

  it('revokes the session on sign-out', async () => {
    const me = await signUp('erin');
    expect((await server.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: me.cookie } })).statusCode).toBe(200);
    expect((await server.app.inject({ method: 'POST', url: '/api/auth/signout', headers: { cookie: me.cookie } })).statusCode).toBe(204);
    expectError(await server.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: me.cookie } }), 401, 'unauthenticated');
  });
});
