import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { CLOSE_CODES, LIMITS, type AnyServerEvent, type ServerEvents, type ServerFrame } from '@parley/protocol';
import type { Domain } from '../domain/domain.js';
import { AppError } from '../errors.js';
import { newId } from '../ids.js';
import type { Metrics } from '../metrics.js';
import type { Bus, BusEnvelope } from './bus.js';
import { Connection } from './connection.js';
import { encodeTextFrame, TurnCork, type TextFrame } from './frame-writer.js';
import { messageJsonOf, originOf } from './origin.js';
import type { PresenceAnnouncer } from './presence-announcer.js';
import { Reorder } from './reorder.js';
import { Rooms } from './rooms.js';

const WARN_BEFORE_EXPIRY_MS = 60_000;
const HEARTBEAT_MS = 30_000;
/** A socket this far behind is dropped; it reconnects and resumes rather than grow memory. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * The WebSocket endpoint: authenticates upgrades on `/ws`, keeps rooms of local
 * connections and delivers bus envelopes to them, serialising and framing each event once
 * and writing the same frame to every recipient's socket.
 *
 * @example
 * const gateway = new Gateway(domain, bus, log, metrics);
 * server.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket, head));
 */
export class Gateway {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.frameMaxBytes, perMessageDeflate: false });
  private readonly rooms = new Rooms<Connection>();
  /** This gateway's registered connections (an origin may belong to another gateway on the same bus). */
  private readonly local = new Set<Connection>();
  private readonly timers = new Map<Connection, NodeJS.Timeout[]>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly alive = new WeakSet<WebSocket>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly cork = new TurnCork();
  /** Connections counted as present (registered and subscribed), to be uncounted when they drop. */
  private readonly present = new WeakSet<Connection>();
  /** Per user, the local connections following that user's presence, and the reverse. */
  private readonly watchers = new Map<string, Set<Connection>>();
  private readonly watching = new Map<Connection, Set<string>>();
  private closing = false;

  /** `presence` hears of every connection that opens and closes (none in unit tests of delivery). */
  constructor(
    private readonly domain: Domain,
    bus: Bus,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly presence?: PresenceAnnouncer,
  ) {
    const reorder = new Reorder(
      (envelope) => this.deliver(envelope),
      (conversationId) => this.rooms.hasConversation(conversationId),
    );
    bus.subscribe((envelope) => reorder.push(envelope));
    bus.onResync(() => this.resync());
    this.heartbeat = setInterval(() => this.sweep(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get connectionCount(): number {
    return this.wss.clients.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws' || this.closing) {
      socket.end(`HTTP/1.1 ${this.closing ? '503 Service Unavailable' : '404 Not Found'}\r\nConnection: close\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => void this.accept(ws, url.searchParams.get('token')));
  }

  /**
   * Applies the membership change, then writes the event to every local recipient. An event
   * published by a send in this process (in-process bus) goes to the sender's connection
   * first, then the sender is acknowledged, then everyone else gets it.
   */
  deliver(envelope: BusEnvelope): void {
    if (envelope.membership) this.rooms.apply(envelope.membership);
    const audience = envelope.audience;
    const recipients: Iterable<Connection> =
      'conversationId' in audience
        ? this.rooms.inConversation(audience.conversationId)
        : 'presenceOf' in audience
          ? (this.watchers.get(audience.presenceOf) ?? [])
          : audience.userIds.flatMap((id) => [...this.rooms.ofUser(id)]);
    const origin = originOf(envelope);
    let frame: TextFrame | undefined;
    let count = 0;
    let first: Connection | undefined;
    // Only the gateway holding the sender's connection acks it (another gateway on the same
    // bus delivers as usual; Messages.send acks after publishing if no gateway did).
    if (origin !== undefined && this.local.has(origin.member as Connection)) {
      const sender = origin.member as Connection;
      const event = serialise(envelope.event, messageJsonOf(envelope));
      frame = event.frame;
      const isRecipient =
        'conversationId' in audience
          ? sender.subscriptions.has(audience.conversationId)
          : 'userIds' in audience && audience.userIds.includes(sender.userId);
      if (isRecipient) {
        first = sender;
        if (this.writeTo(sender, frame)) count += 1;
      }
      if (envelope.event.name === 'messageAdded') origin.ack(envelope.event.data.message, event.messageJson);
    }
    for (const conn of recipients) {
      if (conn === first) continue;
      frame ??= serialise(envelope.event, messageJsonOf(envelope)).frame;
      if (this.writeTo(conn, frame)) count += 1;
    }
    if (count > 0) this.metrics.deliveries.inc(count);
  }

  /** Stops accepting, tells every client to reconnect elsewhere, and waits for the sockets to close. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    // Let sends already being committed finish and be acknowledged before the sockets go.
    const drained = Promise.allSettled([...this.inflight]);
    await Promise.race([drained, new Promise((r) => setTimeout(r, 5_000).unref())]);
    for (const ws of this.wss.clients) ws.close(CLOSE_CODES.goingAway, 'Server shutting down; reconnect');
    const deadline = Date.now() + 2_000;
    while (this.wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private async accept(ws: WebSocket, token: string | null): Promise<void> {
    const early: string[] = [];
    const buffer = (data: unknown): void => void early.push(String(data));
    ws.on('message', buffer);
    ws.on('error', (err) => this.log.debug({ err }, 'socket error'));
    let conn: Connection;
    try {
      if (!token) throw new AppError('unauthenticated', 'Connect with /ws?token=<access token>');
      const { user, expiresAt } = await this.domain.accounts.userForToken(token);
      conn = new Connection(newId('CN'), ws, user, expiresAt, this.domain, this.log.child({ user: user.username }), {
        verifyToken: (t) => this.domain.accounts.userForToken(t),
        onTokenChanged: (c) => this.scheduleExpiry(c),
        onFrameError: () => this.metrics.frameErrors.inc(),
        cork: this.cork,
        watchPresence: (c, userIds) => this.watchPresence(c, userIds),
      });
    } catch (err) {
      if (!(err instanceof AppError)) {
        // Storage is unreachable, not the token's fault: ask the client to come back.
        this.log.error({ err }, 'authenticating a socket failed');
        const frame: ServerFrame = { type: 'error', code: 'unavailable', message: 'Try again shortly', retryAfterMs: 1000 };
        ws.send(JSON.stringify(frame));
        ws.close(CLOSE_CODES.tryAgainLater, 'Try again');
        return;
      }
      const appError = err;
      const frame: ServerFrame = { type: 'error', code: appError.code, message: appError.message };
      ws.send(JSON.stringify(frame));
      ws.close(CLOSE_CODES.unauthorized, appError.code);
      return;
    }
    await this.register(conn, ws, buffer, early);
  }

  private async register(conn: Connection, ws: WebSocket, buffer: (d: unknown) => void, early: string[]): Promise<void> {
    this.rooms.addConnection(conn);
    this.local.add(conn);
    this.rooms.beginLoading(conn);
    this.metrics.connections.inc();
    ws.on('close', () => this.drop(conn));
    ws.on('pong', () => this.alive.add(ws));
    this.alive.add(ws);
    try {
      this.rooms.finishLoading(conn, await this.domain.ctx.storage.listJoinedConversationIds(conn.userId));
    } catch (err) {
      this.log.error({ err }, 'loading subscriptions failed');
      ws.close(CLOSE_CODES.tryAgainLater, 'Try again');
      return;
    }
    this.scheduleExpiry(conn);
    if (this.presence !== undefined && ws.readyState === ws.OPEN) {
      this.present.add(conn);
      this.presence.opened(conn.userId);
    }
    conn.send({
      type: 'ready',
      connectionId: conn.id,
      userId: conn.userId,
      identity: conn.user.username,
      tokenExpiresAt: conn.tokenExpiresAt.toISOString(),
    });
    ws.off('message', buffer);
    ws.on('message', (data) => this.handle(conn, String(data)));
    for (const text of early) this.handle(conn, text);
  }

  private handle(conn: Connection, text: string): void {
    if (this.closing) {
      conn.send({ type: 'error', code: 'unavailable', message: 'Server shutting down; reconnect', retryAfterMs: 500 });
      return;
    }
    const work = conn.onMessage(text);
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
  }

  /** Writes one delivery, or drops a connection too far behind to take it. */
  private writeTo(conn: Connection, frame: TextFrame): boolean {
    if (conn.bufferedAmount > MAX_BUFFERED_BYTES) {
      conn.ws.terminate();
      return false;
    }
    conn.writeFrame(frame);
    return true;
  }

  /** Rooms may be stale after the bus dropped events: every client reconnects and resumes. */
  private resync(): void {
    this.log.warn({ connections: this.wss.clients.size }, 'bus resynced; asking clients to reconnect and resume');
    for (const ws of this.wss.clients) ws.close(CLOSE_CODES.serviceRestart, 'Reconnect and resume');
  }

  /**
   * Replaces what `conn` follows with the contacts among `userIds` (the users who share a joined
   * conversation with it: presence is not given to strangers), and says which are online.
   */
  private async watchPresence(conn: Connection, userIds: string[]): Promise<{ watching: string[]; online: string[] }> {
    if (!this.presence) throw new AppError('unknown_frame', 'Presence is not available here');
    const asked = new Set(userIds);
    const contacts = asked.size === 0 ? [] : await this.domain.ctx.storage.listContactIds(conn.userId);
    const watching = contacts.filter((id) => asked.has(id));
    this.unwatch(conn);
    if (!this.local.has(conn)) return { watching: [], online: [] };
    if (watching.length > 0) this.watching.set(conn, new Set(watching));
    for (const id of watching) {
      let set = this.watchers.get(id);
      if (!set) this.watchers.set(id, (set = new Set()));
      set.add(conn);
    }
    const online = watching.length === 0 ? new Set<string>() : await this.presence.online(watching);
    return { watching, online: watching.filter((id) => online.has(id)) };
  }

  private unwatch(conn: Connection): void {
    for (const id of this.watching.get(conn) ?? []) {
      const set = this.watchers.get(id);
      set?.delete(conn);
      if (set?.size === 0) this.watchers.delete(id);
    }
    this.watching.delete(conn);
  }

  private drop(conn: Connection): void {
    this.unwatch(conn);
    if (this.present.delete(conn)) this.presence?.closed(conn.userId);
    this.rooms.removeConnection(conn);
    this.local.delete(conn);
    for (const t of this.timers.get(conn) ?? []) clearTimeout(t);
    this.timers.delete(conn);
    this.metrics.connections.dec();
  }

  private scheduleExpiry(conn: Connection): void {
    for (const t of this.timers.get(conn) ?? []) clearTimeout(t);
    const left = conn.tokenExpiresAt.getTime() - Date.now();
    // Short-lived tokens are warned at half their remaining life, not at once.
    const warnBefore = Math.min(WARN_BEFORE_EXPIRY_MS, left / 2);
    const warn = setTimeout(() => {
      conn.send({ type: 'event', name: 'tokenAboutToExpire', data: { expiresAt: conn.tokenExpiresAt.toISOString() } });
    }, Math.max(0, left - warnBefore));
    const expire = setTimeout(() => {
      conn.send({ type: 'error', code: 'token_expired', message: 'The access token has expired' });
      conn.ws.close(CLOSE_CODES.unauthorized, 'token_expired');
    }, Math.max(0, left));
    warn.unref();
    expire.unref();
    this.timers.set(conn, [warn, expire]);
  }

  private sweep(): void {
    for (const ws of this.wss.clients) {
      if (!this.alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.alive.delete(ws);
      ws.ping();
    }
  }
}

/** `messageAdded`'s data is exactly `{ conversationId, message }` (serialise() relies on it). */
type KeysAre<T, K extends PropertyKey> = [keyof T] extends [K] ? ([K] extends [keyof T] ? true : false) : false;
const MESSAGE_ADDED_SHAPE: KeysAre<ServerEvents['messageAdded'], 'conversationId' | 'message'> = true;
void MESSAGE_ADDED_SHAPE;

/**
 * The event as one framed `{"type":"event",...}` message: the same JSON as
 * `JSON.stringify({ type: 'event', ...event })`, built without the spread copy. For
 * `messageAdded` the message's JSON is kept too, for the sender's ack; `knownJson` is that JSON
 * when the publisher already had it (`MESSAGE_JSON`).
 */
function serialise(event: AnyServerEvent, knownJson?: string): { frame: TextFrame; messageJson?: string } {
  if (event.name === 'messageAdded') {
    const { conversationId, message } = event.data;
    const messageJson = knownJson ?? JSON.stringify(message);
    const text = `{"type":"event","name":"messageAdded","data":{"conversationId":${JSON.stringify(conversationId)},"message":${messageJson}}}`;
    return { frame: encodeTextFrame(text), messageJson };
  }
  const name = JSON.stringify(event.name);
  const data = event.data === undefined ? undefined : JSON.stringify(event.data);
  return { frame: encodeTextFrame(data === undefined ? `{"type":"event","name":${name}}` : `{"type":"event","name":${name},"data":${data}}`) };
}
