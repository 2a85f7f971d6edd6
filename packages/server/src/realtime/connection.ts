import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { LIMITS, type ClientFrame, type Message, type MessagePage, type SendMessageBody, type ServerFrame } from '@parley/protocol';
import type { Domain } from '../domain/domain.js';
import { AppError } from '../errors.js';
import type { UserRecord } from '../storage/storage.js';
import { parseFrame, refOf } from './frame-parser.js';
import { SocketWriter, type TextFrame, type TurnCork } from './frame-writer.js';
import type { DeliveryOrigin } from './origin.js';
import type { RoomMember } from './rooms.js';

const ABUSE_LIMIT = 20;
const ABUSE_WINDOW_MS = 60_000;
const TYPING_INTERVAL_MS = 2_000;

/** Hooks the gateway gives each connection. */
export interface ConnectionHooks {
  verifyToken(token: string): Promise<{ user: UserRecord; expiresAt: Date }>;
  onTokenChanged(conn: Connection): void;
  onFrameError(): void;
  /** Corks this connection's socket for the rest of the event-loop turn (optional). */
  cork?: TurnCork;
  /** Makes the connection follow these users' presence; resolves with those followed and those online. */
  watchPresence?(conn: Connection, userIds: string[]): Promise<{ watching: string[]; online: string[] }>;
}

/**
 * One authenticated WebSocket: parses frames, runs the domain commands they ask for and
 * writes replies. It never fans out itself: deliveries come from the gateway via the bus.
 *
 * @example
 * const conn = new Connection('CN1', ws, user, expiresAt, domain, log, hooks);
 * ws.on('message', (data) => conn.onMessage(data.toString()));
 */
export class Connection implements RoomMember {
  readonly subscriptions = new Set<string>();
  pendingGone: Set<string> | null = null;
  private invalidFrames: number[] = [];
  private readonly lastTyping = new Map<string, number>();
  private readonly writer: SocketWriter;

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    readonly user: UserRecord,
    public tokenExpiresAt: Date,
    private readonly domain: Domain,
    private readonly log: Logger,
    private readonly hooks: ConnectionHooks,
  ) {
    this.writer = new SocketWriter(ws, hooks.cork ?? null);
  }

  get userId(): string {
    return this.user.id;
  }

  /** Bytes queued for this client and not yet taken by the kernel (direct writes included). */
  get bufferedAmount(): number {
    return this.writer.bufferedAmount;
  }

  send(frame: ServerFrame): void {
    this.writer.writeText(JSON.stringify(frame));
  }

  /** Writes an already-serialised text message. */
  writeText(text: string): void {
    this.writer.writeText(text);
  }

  /** Writes an already-framed message (the fan-out path frames once for everyone). */
  writeFrame(frame: TextFrame): void {
    this.writer.write(frame);
  }

  async onMessage(text: string): Promise<void> {
    let frame: ClientFrame;
    try {
      frame = parseFrame(text);
    } catch (err) {
      let ref: string | undefined;
      try {
        ref = refOf(JSON.parse(text));
      } catch {
        ref = undefined;
      }
      this.fail(err, ref, true);
      return;
    }
    try {
      await this.handle(frame);
    } catch (err) {
      this.fail(err, frame.ref, false);
    }
  }

  private async handle(frame: ClientFrame): Promise<void> {
    switch (frame.type) {
      case 'send': {
        const body: SendMessageBody =
          frame.attributes === undefined
            ? { body: frame.body, clientId: frame.clientId }
            : { body: frame.body, clientId: frame.clientId, attributes: frame.attributes };
        // Acked by the domain as soon as the message is durable (see Messages.send).
        await this.domain.messages.send(this.user, frame.conversationId, body, new SendOrigin(this, frame.ref));
        return;
      }
      case 'resume':
        return this.resume(frame.positions, frame.changes ?? {}, frame.ref);
      case 'read':
        await this.domain.messages.markRead(this.user, frame.conversationId, frame.index);
        this.send(withRef({ type: 'ok' }, frame.ref));
        return;
      case 'typing':
        return this.typing(frame.conversationId);
      case 'token':
        return this.replaceToken(frame.token, frame.ref);
      case 'ping':
        this.send(withRef({ type: 'pong' }, frame.ref));
        return;
      case 'watchPresence': {
        if (!this.hooks.watchPresence) throw new AppError('unknown_frame', 'Presence is not available here');
        const { watching, online } = await this.hooks.watchPresence(this, frame.userIds);
        this.send(withRef({ type: 'presence', watching, online }, frame.ref));
        return;
      }
    }
  }

  /**
   * Replays what the client missed, then says `resumed`: per conversation (where `changes` names
   * it) the edits and removals of the messages it already had, in the order they were made, then
   * the messages after its position, oldest first.
   */
  private async resume(positions: Record<string, number>, changes: Record<string, number>, ref: string | undefined): Promise<void> {
    const gone: string[] = [];
    for (const [conversationId, lastIndex] of Object.entries(positions)) {
      if (!this.subscriptions.has(conversationId)) {
        gone.push(conversationId);
        continue;
      }
      // Changes first: once they are through, what a client has up to `lastIndex` is current,
      // and the messages after it come as they are now, so a cut in between loses nothing.
      const lastChange = changes[conversationId];
      if (lastChange !== undefined) await this.replayChanges(conversationId, lastIndex, lastChange);
      await this.replayMessages(conversationId, lastIndex);
    }
    this.send(withRef({ type: 'resumed', gone }, ref));
  }

  private replayMessages(conversationId: string, lastIndex: number): Promise<void> {
    return this.replayPages(
      (after) => this.domain.messages.history(this.user, conversationId, { after, limit: LIMITS.pageSizeMax }),
      lastIndex,
      (message) => message.index,
      (message) => ({ type: 'event', name: 'messageAdded', data: { conversationId, message } }),
    );
  }

  /** The current state of each message up to `upTo` changed after `lastChange`, as its event. */
  private replayChanges(conversationId: string, upTo: number, lastChange: number): Promise<void> {
    return this.replayPages(
      (afterChange) => this.domain.messages.changes(this.user, conversationId, { afterChange, upTo }),
      lastChange,
      (message) => message.changeIndex ?? lastChange,
      (message) =>
        message.removedAt === undefined
          ? { type: 'event', name: 'messageUpdated', data: { conversationId, message } }
          : { type: 'event', name: 'messageRemoved', data: { conversationId, messageId: message.id, index: message.index, message } },
    );
  }

  /** Sends each message of every page `load` gives as its `frame`, asking for each page after the `cursorOf` the last one sent. */
  private async replayPages(
    load: (after: number) => Promise<MessagePage>,
    start: number,
    cursorOf: (message: Message) => number,
    frame: (message: Message) => ServerFrame,
  ): Promise<void> {
    let after = start;
    for (;;) {
      const page = await load(after);
      for (const message of page.messages) {
        this.send(frame(message));
        after = cursorOf(message);
      }
      if (!page.hasMore || page.messages.length === 0) return;
    }
  }

  private async typing(conversationId: string): Promise<void> {
    if (!this.subscriptions.has(conversationId)) throw new AppError('conversation_not_found');
    const now = Date.now();
    if (now - (this.lastTyping.get(conversationId) ?? 0) < TYPING_INTERVAL_MS) return;
    this.lastTyping.set(conversationId, now);
    await this.domain.ctx.bus.publish({
      audience: { conversationId },
      event: { name: 'typingStarted', data: { conversationId, userId: this.user.id, username: this.user.username } },
    });
  }

  private async replaceToken(token: string, ref: string | undefined): Promise<void> {
    const { user, expiresAt } = await this.hooks.verifyToken(token);
    if (user.id !== this.user.id) throw new AppError('invalid_token', 'The new token is for a different identity');
    this.tokenExpiresAt = expiresAt;
    this.hooks.onTokenChanged(this);
    this.send(withRef({ type: 'ok' }, ref));
  }

  private fail(err: unknown, ref: string | undefined, invalidFrame: boolean): void {
    const appError = err instanceof AppError ? err : undefined;
    if (!appError) this.log.error({ err }, 'frame handler failed');
    const frame: ServerFrame = {
      type: 'error',
      code: appError?.code ?? 'internal',
      message: appError?.message ?? 'Internal server error',
    };
    if (ref !== undefined) frame.ref = ref;
    if (appError?.retryAfterMs !== undefined) frame.retryAfterMs = appError.retryAfterMs;
    this.send(frame);
    if (invalidFrame || appError?.status === 400) this.countAbuse();
  }

  private countAbuse(): void {
    this.hooks.onFrameError();
    const now = Date.now();
    this.invalidFrames = this.invalidFrames.filter((t) => now - t < ABUSE_WINDOW_MS);
    this.invalidFrames.push(now);
    if (this.invalidFrames.length > ABUSE_LIMIT) this.ws.close(1008, 'Too many invalid frames');
  }
}

function withRef<F extends ServerFrame>(frame: F, ref: string | undefined): F {
  if (ref !== undefined) (frame as { ref?: string }).ref = ref;
  return frame;
}

/**
 * One `send` on its way: acknowledges it once, with the ack serialised around the message's
 * JSON (the gateway hands over the JSON it already made for the event). Same bytes as
 * `JSON.stringify({ type: 'ack', message, ref })`.
 */
class SendOrigin implements DeliveryOrigin {
  private acked = false;

  constructor(
    readonly member: Connection,
    private readonly ref: string | undefined,
  ) {}

  ack(message: Message, messageJson?: string): void {
    if (this.acked) return;
    this.acked = true;
    const json = messageJson ?? JSON.stringify(message);
    const ref = this.ref;
    this.member.writeText(ref === undefined ? `{"type":"ack","message":${json}}` : `{"type":"ack","message":${json},"ref":${JSON.stringify(ref)}}`);
  }
}
