import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer } from '../test-support.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;
let server: Server;

interface Peer {
  token: string;
  ws: WebSocket;
  frames: any[];
  next(predicate: (f: any) => boolean, timeoutMs?: number): Promise<any>;
}

async function api(path: string, init: { method?: string; token?: string; cookie?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.cookie) headers.cookie = init.cookie;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(server.url + path, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, headers: res.headers };
}

async function signUp(username: string): Promise<string> {
  const res = await api('/api/auth/signup', { method: 'POST', body: { username, password: 'password123' } });
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  return (await api('/api/token', { method: 'POST', cookie })).json.token;
}

function connect(token: string): Promise<Peer> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?token=${encodeURIComponent(token)}`);
  const frames: any[] = [];
  const waiters: Array<{ predicate: (f: any) => boolean; resolve: (f: any) => void }> = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data));
    frames.push(frame);
    for (const w of [...waiters]) if (w.predicate(frame)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(frame));
  });
  const peer: Peer = {
    token,
    ws,
    frames,
    next(predicate, timeoutMs = 5000) {
      const seen = frames.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
        waiters.push({ predicate, resolve: (f) => (clearTimeout(timer), resolve(f)) });
      });
    },
  };
  return peer.next((f) => f.type === 'ready' || f.type === 'error').then(() => peer);
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

let aliceToken: string;
let bobToken: string;
let conversationId: string;

beforeAll(async () => {
  server = await startTestServer({ listen: true });
  aliceToken = await signUp('alice');
  bobToken = await signUp('bob');
  conversationId = (await api('/api/conversations', { method: 'POST', token: aliceToken, body: { title: 'Gateway' } })).json.conversation
    .conversation.id;
});
afterAll(() => server.close());

describe('WebSocket gateway', () => {
  it('refuses a missing or bad token with an error frame and close 4001', async () => {
    for (const token of ['', 'garbage']) {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?token=${token}`);
      const first = new Promise<any>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
      const code = closed(ws);
      expect(['unauthenticated', 'invalid_token']).toContain((await first).code);
      expect(await code).toBe(4001);
    }
  });

  it('answers invalid frames with named errors and keeps the connection', async () => {
    const alice = await connect(aliceToken);
    alice.ws.send('{not json');
    expect((await alice.next((f) => f.code === 'malformed_json')).message).toContain('JSON');
    alice.ws.send(JSON.stringify({ type: 'shout', ref: 'u1' }));
    expect((await alice.next((f) => f.ref === 'u1')).code).toBe('unknown_frame');
    alice.ws.send(JSON.stringify({ type: 'send', ref: 'v1', conversationId, clientId: 'c' }));
    const missing = await alice.next((f) => f.ref === 'v1');
    expect(missing.code).toBe('validation_failed');
    expect(missing.message).toContain('body');
    alice.ws.send(JSON.stringify({ type: 'send', ref: 'v2', conversationId, clientId: 'c', body: 'x'.repeat(4001) }));
    expect((await alice.next((f) => f.ref === 'v2')).code).toBe('validation_failed');
    alice.ws.send(JSON.stringify({ type: 'send', ref: 'v3', conversationId: 'CHnope', clientId: 'c', body: 'hi' }));
    expect((await alice.next((f) => f.ref === 'v3')).code).toBe('conversation_not_found');
    alice.ws.send(JSON.stringify({ type: 'ping', ref: 'p1' }));
    expect((await alice.next((f) => f.ref === 'p1')).type).toBe('pong');
    alice.ws.close();
  });

  it('does not let a non-participant send or hear a conversation', async () => {
    const bob = await connect(bobToken);
    bob.ws.send(JSON.stringify({ type: 'send', ref: 's1', conversationId, clientId: 'b1', body: 'let me in' }));
    expect((await bob.next((f) => f.ref === 's1')).code).toBe('conversation_not_found');
    const alice = await connect(aliceToken);
    alice.ws.send(JSON.stringify({ type: 'send', ref: 'a1', conversationId, clientId: 'a1', body: 'private' }));
    await alice.next((f) => f.type === 'ack' && f.ref === 'a1');
    bob.ws.send(JSON.stringify({ type: 'ping', ref: 'after' }));
    await bob.next((f) => f.ref === 'after');
    expect(bob.frames.some((f) => f.name === 'messageAdded')).toBe(false);
    alice.ws.close();
    bob.ws.close();
  });

  it('closes with 1009 on an oversize frame', async () => {
    const alice = await connect(aliceToken);
    const code = closed(alice.ws);
    alice.ws.send('x'.repeat(70 * 1024));
    expect(await code).toBe(1009);
  });

  it('closes with 1008 after repeated invalid frames', async () => {
    const alice = await connect(aliceToken);
    const code = closed(alice.ws);
    for (let i = 0; i < 25; i += 1) alice.ws.send('nope');
    expect(await code).toBe(1008);
  });

  it('acks after commit, fans out to every tab once, and never duplicates a retried clientId', async () => {
    const tab1 = await connect(aliceToken);
    const tab2 = await connect(aliceToken);
    const frame = { type: 'send', conversationId, clientId: 'retry-me', body: 'once only' };
    tab1.ws.send(JSON.stringify({ ...frame, ref: 'r1' }));
    const ack = await tab1.next((f) => f.ref === 'r1');
    tab1.ws.send(JSON.stringify({ ...frame, ref: 'r2' }));
    const again = await tab1.next((f) => f.ref === 'r2');
    expect(again.message.id).toBe(ack.message.id);
    expect(again.message.index).toBe(ack.message.index);
    await tab2.next((f) => f.name === 'messageAdded' && f.data.message.id === ack.message.id);
    tab2.ws.send(JSON.stringify({ type: 'ping', ref: 'sync' }));
    await tab2.next((f) => f.ref === 'sync');
    expect(tab2.frames.filter((f) => f.name === 'messageAdded' && f.data.message.clientId === 'retry-me')).toHaveLength(1);
    tab1.ws.close();
    tab2.ws.close();
  });

  it("writes the sender's own messageAdded before its ack, frame after frame, to every tab", async () => {
    const tab1 = await connect(aliceToken);
    const tab2 = await connect(aliceToken);
    for (let i = 0; i < 20; i += 1) {
      tab1.ws.send(JSON.stringify({ type: 'send', ref: `o${i}`, conversationId, clientId: `order-${i}`, body: `o${i}` }));
    }
    const acks = await Promise.all(Array.from({ length: 20 }, (_, i) => tab1.next((f) => f.ref === `o${i}`)));
    for (const ack of acks) {
      expect(ack.type).toBe('ack');
      const added = tab1.frames.findIndex((f) => f.name === 'messageAdded' && f.data.message.id === ack.message.id);
      expect(added).toBeGreaterThanOrEqual(0);
      expect(added).toBeLessThan(tab1.frames.indexOf(ack));
      expect(tab1.frames[added].data.message).toEqual(ack.message);
    }
    const last = acks.at(-1).message.id;
    await tab2.next((f) => f.name === 'messageAdded' && f.data.message.id === last);
    const indexes = (t: Peer) => t.frames.filter((f) => f.name === 'messageAdded').map((f) => f.data.message.index);
    expect(indexes(tab2)).toEqual(indexes(tab1));
    expect(indexes(tab1)).toEqual([...indexes(tab1)].sort((a, b) => a - b));
    tab1.ws.close();
    tab2.ws.close();
  });

  it('replays missed messages on resume, oldest first', async () => {
    const alice = await connect(aliceToken);
    const before = (await api(`/api/conversations/${conversationId}/messages`, { token: aliceToken })).json.messages.at(-1)?.index ?? 0;
    for (let i = 0; i < 3; i += 1) {
      alice.ws.send(JSON.stringify({ type: 'send', ref: `m${i}`, conversationId, clientId: `resume-${i}`, body: `m${i}` }));
      await alice.next((f) => f.ref === `m${i}`);
    }
    const late = await connect(aliceToken);
    late.ws.send(JSON.stringify({ type: 'resume', ref: 'res', positions: { [conversationId]: before, CHgone: 0 } }));
    const resumed = await late.next((f) => f.type === 'resumed');
    expect(resumed.gone).toEqual(['CHgone']);
    const replayed = late.frames.filter((f) => f.name === 'messageAdded').map((f) => f.data.message.index);
    expect(replayed).toEqual([before + 1, before + 2, before + 3]);
    alice.ws.close();
    late.ws.close();
  });

  it('replays on resume the edits and removals after the change named, up to the position, before the missed messages', async () => {
    const alice = await connect(aliceToken);
    const { json: created } = await api('/api/conversations', { method: 'POST', token: aliceToken, body: { title: 'Changes' } });
    const room: string = created.conversation.conversation.id;
    const ids: string[] = [];
    for (let i = 1; i <= 4; i += 1) {
      alice.ws.send(JSON.stringify({ type: 'send', ref: `c${i}`, conversationId: room, clientId: `changes-${i}`, body: `m${i}` }));
      ids.push((await alice.next((f) => f.ref === `c${i}`)).message.id);
    }
    const path = (i: number) => `/api/conversations/${room}/messages/${ids[i - 1]}`;
    await api(path(1), { method: 'PATCH', token: aliceToken, body: { body: 'm1 edited' } }); // change 1
    await api(path(2), { method: 'DELETE', token: aliceToken }); // change 2
    await api(path(1), { method: 'PATCH', token: aliceToken, body: { body: 'm1 again' } }); // change 3
    await api(path(4), { method: 'PATCH', token: aliceToken, body: { body: 'm4 edited' } }); // change 4
    const { json: listed } = await api(`/api/conversations/${room}`, { token: aliceToken });
    expect(listed.conversation.conversation).toMatchObject({ lastChangeIndex: 4, lastMessageIndex: 4 });

    // Seen up to index 3 and change 1: the changes of 1-3 after change 1, then message 4 whole.
    const late = await connect(aliceToken);
    late.ws.send(JSON.stringify({ type: 'resume', ref: 'r1', positions: { [room]: 3 }, changes: { [room]: 1 } }));
    await late.next((f) => f.type === 'resumed' && f.ref === 'r1');
    const replay = late.frames.filter((f) => f.type === 'event').map((f) => [f.name, f.data.message.index, f.data.message.body, f.data.message.changeIndex]);
    expect(replay).toEqual([
      ['messageRemoved', 2, '', 2],
      ['messageUpdated', 1, 'm1 again', 3],
      ['messageAdded', 4, 'm4 edited', 4],
    ]);
    const removed = late.frames.find((f) => f.name === 'messageRemoved');
    expect(removed.data).toMatchObject({ conversationId: room, messageId: ids[1], index: 2 });

    // Without `changes` (an older client) only messages are replayed; a change already seen replays nothing.
    const old = await connect(aliceToken);
    old.ws.send(JSON.stringify({ type: 'resume', ref: 'r2', positions: { [room]: 2 } }));
    old.ws.send(JSON.stringify({ type: 'resume', ref: 'r3', positions: { [room]: 4 }, changes: { [room]: 4, CHnot_asked: 0 } }));
    await old.next((f) => f.type === 'resumed' && f.ref === 'r3');
    expect(old.frames.filter((f) => f.type === 'event').map((f) => [f.name, f.data.message.index])).toEqual([
      ['messageAdded', 3],
      ['messageAdded', 4],
    ]);

    // Bad change positions are refused, naming the field, and the socket stays usable.
    for (const changes of [{ [room]: -1 }, { [room]: 1.5 }, { [room]: 'x' }, [1]]) {
      old.ws.send(JSON.stringify({ type: 'resume', ref: 'bad', positions: { [room]: 4 }, changes }));
      const error = await old.next((f) => f.type === 'error' && f.ref === 'bad');
      expect(error.code).toBe('validation_failed');
      expect(error.message).toMatch(/changes/);
      old.frames.splice(old.frames.indexOf(error), 1);
    }
    old.ws.send(JSON.stringify({ type: 'ping', ref: 'still' }));
    expect((await old.next((f) => f.ref === 'still')).type).toBe('pong');
    for (const peer of [alice, late, old]) peer.ws.close();
  });

  it('follows the presence of contacts only, and refuses a malformed watchPresence naming the field', async () => {
    // Someone new, never connected before (other tests leave their sockets open).
    const carolToken = await signUp('carol_presence');
    const { json: created } = await api('/api/conversations', { method: 'POST', token: aliceToken, body: { title: 'Presence', participants: ['carol_presence'] } });
    const room: string = created.conversation.conversation.id;
    const carolId: string = (await api('/api/me', { token: carolToken })).json.user.id;
    const alice = await connect(aliceToken);
    // Carol is only invited: not a contact yet.
    alice.ws.send(JSON.stringify({ type: 'watchPresence', ref: 'w1', userIds: [carolId, 'USnobody'] }));
    expect(await alice.next((f) => f.ref === 'w1')).toEqual({ type: 'presence', ref: 'w1', watching: [], online: [] });
    await api(`/api/invitations/${room}/accept`, { method: 'POST', token: carolToken });
    alice.ws.send(JSON.stringify({ type: 'watchPresence', ref: 'w2', userIds: [carolId] }));
    expect(await alice.next((f) => f.ref === 'w2')).toEqual({ type: 'presence', ref: 'w2', watching: [carolId], online: [] });
    const carol = await connect(carolToken);
    expect((await alice.next((f) => f.name === 'presenceChanged')).data).toEqual({ userId: carolId, online: true });

    for (const userIds of ['US1', [42], ['x'.repeat(65)], Array.from({ length: 1001 }, (_, i) => `US${i}`)]) {
      alice.ws.send(JSON.stringify({ type: 'watchPresence', ref: 'bad', userIds }));
      const error = await alice.next((f) => f.type === 'error' && f.ref === 'bad');
      expect(error.code).toBe('validation_failed');
      expect(error.message).toMatch(/userIds/);
      alice.frames.splice(alice.frames.indexOf(error), 1);
    }
    // An empty list stops following: carol's going is not told.
    alice.ws.send(JSON.stringify({ type: 'watchPresence', ref: 'w3', userIds: [] }));
    await alice.next((f) => f.ref === 'w3');
    carol.ws.close();
    alice.ws.send(JSON.stringify({ type: 'ping', ref: 'still' }));
    expect((await alice.next((f) => f.ref === 'still')).type).toBe('pong');
    expect(alice.frames.filter((f) => f.name === 'presenceChanged')).toHaveLength(1);
    alice.ws.close();
  });
});
