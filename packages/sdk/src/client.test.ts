import type { ClientFrame, ConversationSummary, Message, ServerFrame } from '@parley/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Client } from './client.js';
import type { ConnectionState } from './socket.js';

/*
 * The client against an in-memory fake of the server (REST through a fake fetch, WebSocket
 * through a fake constructor), to pin down reconnect, resume, re-send and token handling.
 * The real server is exercised in tests/integration.
 */

class FakeServer {
  sockets: FakeSocket[] = [];
  messages: Message[] = [];
  frames: ClientFrame[] = [];
  validToken = 't1';
  /** When false, sends are received but not acked. */
  ackSends = true;
  restCalls: string[] = [];
  /** A path whose requests never answer (until aborted). */
  hang = '';
  /** The conversation's change counter. */
  changeIndex = 0;
  /** Who is online, for `watchPresence`; only these users may be followed. */
  online = new Set<string>();
  contacts = new Set(['u2', 'u3']);

  summary(): ConversationSummary {
    const last = this.messages.at(-1) ?? null;
    const now = new Date(0).toISOString();
    return {
      conversation: {
        id: 'c1', title: 'Room', subject: '', attributes: {}, invitePolicy: 'members', createdBy: 'u1',
        createdAt: now, updatedAt: now, lastActivityAt: now, lastMessageIndex: last?.index ?? 0, lastChangeIndex: this.changeIndex, uniqueName: null,
      },
      myRole: 'admin', myStatus: 'joined', unreadCount: 0, lastMessage: last,
    };
  }

  add(body: string, clientId: string | null = null, authorId = 'u2'): Message {
    const found = clientId ? this.messages.find((m) => m.clientId === clientId) : undefined;
    if (found) return found;
    const m: Message = {
      id: `m${this.messages.length + 1}`, conversationId: 'c1', index: this.messages.length + 1,
      authorId, author: authorId, body, clientId, attributes: {}, createdAt: new Date().toISOString(),
    };
    this.messages.push(m);
    return m;
  }

  /** Commits a message and delivers it to the open sockets. */
  publish(body: string): Message {
    const m = this.add(body);
    for (const s of this.open()) s.deliver({ type: 'event', name: 'messageAdded', data: { conversationId: 'c1', message: m } });
    return m;
  }

  /** Edits message `index` (its next change index), delivering `messageUpdated` when `live`. */
  edit(index: number, body: string, live: boolean): Message {
    this.changeIndex += 1;
    const m: Message = { ...this.messages[index - 1]!, body, editedAt: new Date().toISOString(), changeIndex: this.changeIndex };
    this.messages[index - 1] = m;
    if (live) for (const s of this.open()) s.deliver(updated(m));
    return m;
  }

  open(): FakeSocket[] {
    return this.sockets.filter((s) => s.readyState === 1);
  }

  last(): FakeSocket {
    const s = this.sockets.at(-1);
    if (!s) throw new Error('no socket');
    return s;
  }

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const auth = new Headers(init?.headers).get('authorization');
    this.restCalls.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
    if (url.pathname === this.hang) {
      return new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    }
    if (auth !== `Bearer ${this.validToken}`) return json(401, { error: { code: 'token_expired', message: 'expired' } });
    if (url.pathname === '/api/me') return json(200, { user: { id: 'u1', username: 'ada', createdAt: '' } });
    if (url.pathname === '/api/conversations') return json(200, { conversations: [this.summary()], total: 1, nextCursor: null });
    if (url.pathname === '/api/conversations/c1/messages') {
      const after = Number(url.searchParams.get('after') ?? 0);
      const messages = this.messages.filter((m) => m.index > after).slice(0, 100);
      return json(200, { messages, hasMore: after + messages.length < this.messages.length });
    }
    return json(404, { error: { code: 'route_not_found', message: 'no' } });
  };

  onFrame(socket: FakeSocket, frame: ClientFrame): void {
    this.frames.push(frame);
    const ref = frame.ref;
    if (frame.type === 'send') {
      if (!this.ackSends) return;
      const existed = this.messages.some((m) => m.clientId === frame.clientId);
      const m = this.add(frame.body, frame.clientId, 'u1');
      socket.deliver({ type: 'ack', ref, message: m });
      if (!existed) for (const s of this.open()) s.deliver({ type: 'event', name: 'messageAdded', data: { conversationId: 'c1', message: m } });
    } else if (frame.type === 'resume') {
      const from = frame.positions.c1 ?? 0;
      const lastChange = frame.changes?.c1;
      if (lastChange !== undefined) {
        const changed = this.messages.filter((x) => x.index <= from && (x.changeIndex ?? 0) > lastChange);
        for (const m of changed.sort((a, b) => (a.changeIndex ?? 0) - (b.changeIndex ?? 0))) socket.deliver(updated(m));
      }
      for (const m of this.messages.filter((x) => x.index > from)) {
        socket.deliver({ type: 'event', name: 'messageAdded', data: { conversationId: 'c1', message: m } });
      }
      socket.deliver({ type: 'resumed', ref, gone: [] });
    } else if (frame.type === 'watchPresence') {
      const watching = frame.userIds.filter((id) => this.contacts.has(id));
      socket.deliver({ type: 'presence', ref, watching, online: watching.filter((id) => this.online.has(id)) });
    } else if (frame.type === 'token') {
      this.validToken = frame.token;
      socket.deliver({ type: 'ok', ref });
    } else if (frame.type === 'ping') {
      socket.deliver({ type: 'pong', ref });
    }
  }

  Ctor = (() => {
    const server = this;
    return class extends FakeSocket {
      constructor(url: string) {
        super(server, url);
      }
    };
  })();
}

class FakeSocket {
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(
    private readonly server: FakeServer,
    readonly url: string,
  ) {
    server.sockets.push(this);
    const token = new URL(url).searchParams.get('token');
    setTimeout(() => {
      if (this.readyState !== 0) return;
      if (token !== server.validToken) return this.drop(4001);
      this.readyState = 1;
      this.deliver({ type: 'ready', connectionId: `k${server.sockets.length}`, userId: 'u1', identity: 'ada', tokenExpiresAt: '' });
    }, 1);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    const frame = JSON.parse(data) as ClientFrame;
    queueMicrotask(() => this.server.onFrame(this, frame));
  }

  close(code = 1000): void {
    this.drop(code);
  }

  deliver(frame: ServerFrame): void {
    if (this.readyState === 1) this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The server side goes away. */
  drop(code = 1006): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

function updated(message: Message): ServerFrame {
  return { type: 'event', name: 'messageUpdated', data: { conversationId: 'c1', message } };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const clients: Client[] = [];
async function connect(server: FakeServer, token = 't1', getToken?: () => Promise<string>): Promise<Client> {
  const client = await Client.create(token, {
    baseUrl: 'http://parley.test',
    fetch: server.fetch,
    WebSocket: server.Ctor,
    getToken,
    backoff: { minMs: 5, maxMs: 20 },
  });
  clients.push(client);
  return client;
}

afterEach(async () => {
  for (const c of clients.splice(0)) await c.shutdown();
});

describe('Client (against a fake server)', () => {
  it('connects, loads conversations and reports its user', async () => {
    const server = new FakeServer();
    server.add('hello');
    const client = await connect(server);
    expect(client.user).toEqual({ id: 'u1', identity: 'ada' });
    expect(client.connectionState).toBe('connected');
    expect(server.last().url).toBe('ws://parley.test/ws?token=t1');
    const [conversation] = await client.getSubscribedConversations();
    expect(conversation?.lastMessageIndex).toBe(1);
    expect(conversation?.lastMessage?.body).toBe('hello');
  });

  it('resumes after a drop: every message once, in order, and states reported', async () => {
    const server = new FakeServer();
    const client = await connect(server);
    const seen: number[] = [];
    const states: ConnectionState[] = [];
    client.on('messageAdded', (m) => seen.push(m.index));
    client.on('connectionStateChanged', (s) => states.push(s));
    server.publish('1');
    server.publish('2');
    server.last().drop();
    server.add('3'); // committed while offline
    server.add('4');
    await vi.waitFor(() => expect(seen).toEqual([1, 2, 3, 4]));
    server.publish('5');
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(states).toEqual(['disconnected', 'connecting', 'connected']);
    const resume = server.frames.find((f) => f.type === 'resume');
    expect(resume).toMatchObject({ positions: { c1: 2 } });
  });

  it('emits each change once, never an older state over a newer one, and resumes from its last change index', async () => {
    const server = new FakeServer();
    for (const body of ['1', '2', '3']) server.add(body);
    server.edit(1, 'before the client', false);
    const client = await connect(server);
    const [conversation] = await client.getSubscribedConversations();
    expect(conversation?.lastChangeIndex).toBe(1);
    const seen: [number, string][] = [];
    client.on('messageUpdated', (m) => seen.push([m.index, m.body]));

    const first = server.edit(2, 'two', true);
    server.last().deliver(updated(first)); // the same change again (a live event and a replay)
    const newer = server.edit(2, 'two again', true);
    server.last().deliver(updated(first)); // an older state after a newer one
    expect(seen).toEqual([[2, 'two'], [2, 'two again']]);
    expect(conversation?.lastChangeIndex).toBe(newer.changeIndex);
    expect(conversation?.lastMessage).toMatchObject({ index: 3, body: '3' });

    server.last().drop();
    server.edit(3, 'three while away', false);
    server.edit(1, 'one while away', false);
    await vi.waitFor(() => expect(seen).toHaveLength(4));
    expect(seen.slice(2)).toEqual([[3, 'three while away'], [1, 'one while away']]);
    expect(server.frames.find((f) => f.type === 'resume')).toMatchObject({ positions: { c1: 3 }, changes: { c1: 3 } });
    expect(conversation?.lastChangeIndex).toBe(5);
    expect(conversation?.lastMessage).toMatchObject({ index: 3, body: 'three while away' });
  });

  it('follows presence, drops repeats, and after a reconnect reports only what changed while away', async () => {
    const server = new FakeServer();
    server.online.add('u2');
    const client = await connect(server);
    const changes: [string, boolean][] = [];
    client.on('presenceChanged', ({ userId, online }) => changes.push([userId, online]));
    expect(await client.watchPresence(['u2', 'u3', 'stranger', 'u2'])).toEqual(new Map([['u2', true], ['u3', false]]));
    expect(server.frames.find((f) => f.type === 'watchPresence')).toMatchObject({ userIds: ['u2', 'u3', 'stranger'] });
    expect([client.isOnline('u2'), client.isOnline('u3'), client.isOnline('stranger')]).toEqual([true, false, undefined]);

    const presence = (userId: string, online: boolean) => {
      if (online) server.online.add(userId);
      else server.online.delete(userId);
      server.last().deliver({ type: 'event', name: 'presenceChanged', data: { userId, online } });
    };
    presence('u3', true);
    presence('u3', true); // a repeat says nothing new
    expect(changes).toEqual([['u3', true]]);

    server.last().drop();
    server.online.delete('u2'); // u2 left while the client was away; u3 stayed
    await vi.waitFor(() => expect(changes).toEqual([['u3', true], ['u2', false]]));
    expect(server.frames.filter((f) => f.type === 'watchPresence')).toHaveLength(2);
    expect(client.isOnline('u2')).toBe(false);
  });

  it('fetches a gap over REST instead of skipping a message', async () => {
    const server = new FakeServer();
    const client = await connect(server);
    const seen: number[] = [];
    client.on('messageAdded', (m) => seen.push(m.index));
    server.add('1'); // never delivered live
    server.publish('2');
    await vi.waitFor(() => expect(seen).toEqual([1, 2]));
    expect(server.restCalls).toContain('GET /api/conversations/c1/messages?after=0&limit=100');
  });

  it('resolves sendMessage with the acked message and re-sends the same clientId after a drop', async () => {
    const server = new FakeServer();
    const client = await connect(server);
    const [conversation] = await client.getSubscribedConversations();
    const first = await conversation!.sendMessage('one');
    expect(first).toMatchObject({ index: 1, body: 'one' });

    server.ackSends = false;
    const pending = conversation!.sendMessage('two', { clientId: 'cid-2' });
    await vi.waitFor(() => expect(server.frames.filter((f) => f.type === 'send')).toHaveLength(2));
    server.ackSends = true;
    server.last().drop();
    const second = await pending;
    expect(second).toMatchObject({ index: 2, clientId: 'cid-2' });
    const sends = server.frames.filter((f) => f.type === 'send' && f.clientId === 'cid-2');
    expect(sends).toHaveLength(2);
    expect(server.messages).toHaveLength(2);
    // resume goes out before the re-send
    const order = server.frames.map((f) => f.type);
    expect(order.lastIndexOf('resume')).toBeLessThan(order.lastIndexOf('send'));
  });

  it('rejects a send with a ParleyError when the server refuses it', async () => {
    const server = new FakeServer();
    const client = await connect(server);
    const [conversation] = await client.getSubscribedConversations();
    server.onFrame = (socket, frame) => {
      if (frame.type === 'send') socket.deliver({ type: 'error', ref: frame.ref, code: 'removed_from_conversation', message: 'gone' });
    };
    await expect(conversation!.sendMessage('x')).rejects.toMatchObject({ code: 'removed_from_conversation', status: 403 });
  });

  it('gets a new token on close 4001 and reconnects; REST retries once on token_expired', async () => {
    const server = new FakeServer();
    let n = 1;
    const getToken = vi.fn(async () => `t${++n}`);
    const client = await connect(server, 't1', getToken);
    const expired = vi.fn();
    client.on('tokenExpired', expired);
    server.validToken = 't2';
    server.last().drop(4001);
    await vi.waitFor(() => expect(client.connectionState).toBe('connected'));
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(expired).toHaveBeenCalledTimes(1);
    expect(server.last().url).toContain('token=t2');

    server.validToken = 't3';
    await client.getSubscribedConversations();
    expect(getToken).toHaveBeenCalledTimes(2);
  });

  it('answers tokenAboutToExpire with a token frame', async () => {
    const server = new FakeServer();
    const client = await connect(server, 't1', async () => 'fresh');
    const warned = vi.fn();
    client.on('tokenAboutToExpire', warned);
    server.last().deliver({ type: 'event', name: 'tokenAboutToExpire', data: { expiresAt: '2030-01-01T00:00:00Z' } });
    await vi.waitFor(() => expect(server.frames).toContainEqual(expect.objectContaining({ type: 'token', token: 'fresh' })));
    expect(warned).toHaveBeenCalledTimes(1);
    expect(client.connectionState).toBe('connected');
  });

  it('is denied without getToken, and recovers with updateToken', async () => {
    const server = new FakeServer();
    const client = await connect(server);
    server.validToken = 'new';
    server.last().drop(4001);
    await vi.waitFor(() => expect(client.connectionState).toBe('denied'));
    await client.updateToken('new');
    await vi.waitFor(() => expect(client.connectionState).toBe('connected'));
  });

  it('rejects create when the token is refused and cannot be refreshed', async () => {
    const server = new FakeServer();
    server.validToken = 'other';
    await expect(connect(server, 'bad')).rejects.toMatchObject({ code: 'token_expired' });
  });

  it('rejects pending sends on shutdown', async () => {
    const server = new FakeServer();
    const client = await connect(server);
    const [conversation] = await client.getSubscribedConversations();
    server.ackSends = false;
    const pending = conversation!.sendMessage('never');
    await client.shutdown();
    await expect(pending).rejects.toMatchObject({ code: 'unavailable' });
    expect(client.connectionState).toBe('disconnected');
  });

  it('aborts REST calls in flight on shutdown', async () => {
    const server = new FakeServer();
    const client = await connect(server);
    server.hang = '/api/invitations';
    const hanging = client.getInvitations();
    await client.shutdown();
    await expect(hanging).rejects.toMatchObject({ code: 'unavailable', message: 'The client was shut down' });
    await expect(client.getSubscribedConversations()).rejects.toMatchObject({ code: 'unavailable' });
  });
});
