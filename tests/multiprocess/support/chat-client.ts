import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { Message } from '@parley/protocol';

/** Where a client can reach a server process. */
export interface Endpoint {
  url: string;
  wsUrl: string;
}

/** A `{ type, ... }` frame from the server, loosely typed: tests look at what they need. */
export interface Frame {
  type: string;
  ref?: string;
  name?: string;
  code?: string;
  retryAfterMs?: number;
  message?: Message | string;
  data?: Record<string, unknown>;
  gone?: string[];
  [key: string]: unknown;
}

/** An HTTP failure carrying the `{ error: { code } }` body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly body: unknown,
  ) {
    super(`HTTP ${status} ${code ?? ''}: ${JSON.stringify(body)}`);
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** A signed-up user with a session cookie; sessions and tokens are valid on every process. */
export class Account {
  private constructor(
    readonly username: string,
    readonly userId: string,
    private readonly cookie: string,
  ) {}

  static async signUp(at: Endpoint, prefix: string): Promise<Account> {
    const username = uniqueName(prefix);
    const response = await fetch(`${at.url}/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'correct horse battery' }),
    });
    const body = (await response.json()) as { user: { id: string } };
    if (response.status !== 201) throw new HttpError(response.status, undefined, body);
    const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    return new Account(username, body.user.id, cookie);
  }

  /** Any status; the parsed JSON body (or null). */
  async request(at: Endpoint, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${at.url}/api${path}`, {
      method,
      headers: { cookie: this.cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  }

  /** Throws `HttpError` unless 2xx. */
  async api<T>(at: Endpoint, method: string, path: string, body?: unknown): Promise<T> {
    const result = await this.request(at, method, path, body);
    if (result.status >= 300) {
      throw new HttpError(result.status, (result.body as { error?: { code?: string } } | null)?.error?.code, result.body);
    }
    return result.body as T;
  }

  async token(at: Endpoint): Promise<string> {
    return (await this.api<{ token: string }>(at, 'POST', '/token')).token;
  }

  async connect(at: Endpoint): Promise<Socket> {
    return Socket.open(at.wsUrl, await this.token(at));
  }
}

type Waiter = { match: (frame: Frame) => boolean; resolve: (frame: Frame) => void };

/** One WebSocket speaking docs/protocol.md, recording every frame it receives. */
export class Socket {
  readonly frames: Frame[] = [];
  readonly closed: Promise<number>;
  private readonly waiters = new Set<Waiter>();
  private readonly listeners = new Set<(frame: Frame) => void>();
  private nextRef = 0;
  isOpen = true;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      this.frames.push(frame);
      for (const listener of this.listeners) listener(frame);
      for (const waiter of [...this.waiters]) {
        if (waiter.match(frame)) {
          this.waiters.delete(waiter);
          waiter.resolve(frame);
        }
      }
    });
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      ws.once('close', (code) => {
        this.isOpen = false;
        resolve(code);
      }),
    );
  }

  /** Opens and resolves on the `ready` frame. */
  static async open(wsUrl: string, token: string): Promise<Socket> {
    const socket = new Socket(new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`));
    const ready = socket.next((f) => f.type === 'ready' || f.type === 'error', 10_000);
    const closed = socket.closed.then((code) => {
      throw new Error(`socket closed (${code}) before ready`);
    });
    const first = await Promise.race([ready, closed]);
    if (first.type !== 'ready') throw new Error(`connect failed: ${JSON.stringify(first)}`);
    return socket;
  }

  /** Calls `listener` with every frame received from now on. */
  onFrame(listener: (frame: Frame) => void): void {
    this.listeners.add(listener);
  }

  /** Events received so far, by name (and conversation when given). */
  events(name: string, conversationId?: string): Frame[] {
    return this.frames.filter(
      (f) => f.type === 'event' && f.name === name && (conversationId === undefined || conversationOf(f) === conversationId),
    );
  }

  /** The next frame (received from now on, or already received when `past`) that matches. */
  next(match: (frame: Frame) => boolean, ms = 10_000, past = false): Promise<Frame> {
    if (past) {
      const found = this.frames.find(match);
      if (found) return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no matching frame within ${ms} ms; last frames: ${JSON.stringify(this.frames.slice(-5))}`));
      }, ms);
      this.waiters.add(waiter);
    });
  }

  /** An event by name, received now or already. */
  event(name: string, where: (data: Record<string, unknown>) => boolean = () => true, ms = 10_000): Promise<Frame> {
    return this.next((f) => f.type === 'event' && f.name === name && where(f.data ?? {}), ms, true);
  }

  /** Sends a frame with a fresh `ref` and resolves with the reply carrying it. */
  request(frame: Record<string, unknown>, ms = 10_000): Promise<Frame> {
    const ref = `r${(this.nextRef += 1)}`;
    if (!this.isOpen) return Promise.reject(new Error('socket closed'));
    const reply = this.next((f) => f.ref === ref, ms);
    this.ws.send(JSON.stringify({ ...frame, ref }));
    const closed = this.closed.then((code): Frame => {
      throw new Error(`socket closed (${code}) before the reply`);
    });
    return Promise.race([reply, closed]);
  }

  /** Sends a message; resolves with the acknowledged message, rejects with the error frame's code. */
  async send(conversationId: string, body: string, clientId = uniqueName('c')): Promise<Message> {
    const reply = await this.request({ type: 'send', conversationId, clientId, body });
    if (reply.type !== 'ack') throw Object.assign(new Error(`send failed: ${reply.code}`), { frame: reply });
    return reply.message as Message;
  }

  close(): void {
    this.ws.close();
  }

  kill(): void {
    this.ws.terminate();
  }
}

/** Which conversation an event is about. */
export function conversationOf(frame: Frame): string | undefined {
  const data = frame.data ?? {};
  if (typeof data.conversationId === 'string') return data.conversationId;
  // conversationAdded carries a summary ({ conversation: { id } }), conversationUpdated the conversation.
  const nested = (data.conversation ?? data.invitation) as { id?: string; conversationId?: string; conversation?: { id: string } } | undefined;
  return nested?.conversationId ?? nested?.id ?? nested?.conversation?.id;
}

/** The messages of one conversation as delivered live, in arrival order. */
export function messagesOf(socket: Socket, conversationId: string): Message[] {
  return socket.events('messageAdded', conversationId).map((f) => (f.data as { message: Message }).message);
}

/** Creates a conversation owned by `owner` with `members` joined (invite + accept). */
export async function groupOf(at: Endpoint, owner: Account, members: Array<[Account, Endpoint]>): Promise<string> {
  const created = await owner.api<{ conversation: { conversation: { id: string } } }>(at, 'POST', '/conversations', {
    title: uniqueName('room'),
    participants: members.map(([m]) => m.username),
  });
  const id = created.conversation.conversation.id;
  for (const [member, where] of members) await member.api(where, 'POST', `/invitations/${id}/accept`);
  return id;
}
