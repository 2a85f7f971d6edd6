import type {
  ConversationListResponse,
  ConversationResponse,
  ConversationSummary,
  EventFrame,
  Message,
  MessagePage,
  ReadyFrame,
  ServerEvents,
} from '@parley/protocol';
import { Conversation, type ConversationHost } from './conversation.js';
import type { TypedEmitter } from './emitter.js';
import { ParleyError } from './errors.js';
import { Http, seg, socketUrl } from './http.js';
import { Outbox, type SendOptions } from './outbox.js';
import { MessageSequencer } from './sequencer.js';
import { ConnectionLostError, Realtime } from './socket.js';
import { TokenStore } from './tokens.js';
import { TypingTracker } from './typing.js';
import type { ClientEvents, ClientOptions, ConversationEvents } from './types.js';

type RemovedReason = ServerEvents['conversationRemoved']['reason'];

/**
 * The machinery behind {@link Client}: REST, the realtime connection, the conversation cache,
 * exactly-once message delivery and re-synchronisation after each reconnect.
 * @internal
 */
export class ClientCore implements ConversationHost {
  readonly http: Http;
  readonly tokens: TokenStore;
  readonly realtime: Realtime;
  readonly conversations = new Map<string, Conversation>();
  private readonly sequencer: MessageSequencer;
  private readonly outbox: Outbox;
  private readonly typingTracker = new TypingTracker((name, data) => this.fanOut(data.conversationId, name, data));
  private ready: ReadyFrame | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /** The users whose presence this client follows (sent again after every reconnect). */
  private presenceWatch: string[] = [];
  /** What is known of each followed user's presence. */
  private readonly presence = new Map<string, boolean>();

  constructor(
    token: string,
    opts: ClientOptions,
    private readonly out: TypedEmitter<ClientEvents>,
  ) {
    this.tokens = new TokenStore(token, opts.getToken);
    this.http = new Http({ baseUrl: opts.baseUrl, fetch: opts.fetch, tokens: this.tokens });
    this.realtime = new Realtime({
      url: socketUrl(opts.baseUrl),
      tokens: this.tokens,
      WebSocket: opts.WebSocket,
      backoff: opts.backoff,
      heartbeatMs: opts.heartbeatMs,
      probeToken: () => this.probeToken(),
    });
    this.sequencer = new MessageSequencer({
      fetchAfter: (id, after) => this.fetchAfter(id, after),
      deliver: (message) => this.deliver(message),
      onError: (err) => this.reportError(err),
      onGone: (id) => this.drop(id, 'removed'),
      backoff: opts.backoff,
    });
    this.outbox = new Outbox(this.realtime);
    this.realtime.on('state', (state) => this.out.emit('connectionStateChanged', state));
    this.realtime.on('error', (err) => this.out.emit('error', err));
    this.realtime.on('tokenExpired', () => this.out.emit('tokenExpired', undefined));
    this.realtime.on('event', (frame) => this.onEvent(frame));
    this.realtime.on('ready', ({ frame, reconnect }) => {
      this.ready = frame;
      if (reconnect) void this.resync();
    });
  }

  get userId(): string {
    return this.ready?.userId ?? '';
  }

  get identity(): string {
    return this.ready?.identity ?? '';
  }

  /** Connects, then loads the conversation list so positions are known for later resumes. */
  async start(): Promise<void> {
    this.ready = await this.realtime.start();
    try {
      for (const summary of await this.listAll()) this.upsert(summary, false);
    } catch (err) {
      this.shutdown();
      throw err;
    }
  }

  shutdown(): void {
    this.closed = true;
    const err = new ParleyError('unavailable', 'The client was shut down', { status: 0 });
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    this.realtime.stop();
    this.http.abort();
    this.typingTracker.stop();
    this.outbox.close(err);
    this.sequencer.stop();
  }

  /** Every page of `GET /conversations`, newest activity first. */
  async listAll(): Promise<ConversationSummary[]> {
    const seen = new Map<string, ConversationSummary>();
    let cursor: string | undefined;
    for (;;) {
      const page = await this.http.request<ConversationListResponse>('GET', '/conversations', {
        query: { limit: 100, cursor },
      });
      for (const s of page.conversations) if (!seen.has(s.conversation.id)) seen.set(s.conversation.id, s);
      if (!page.nextCursor || page.conversations.length === 0) break;
      cursor = page.nextCursor;
    }
    return [...seen.values()];
  }

  /** Adds to the cache (announcing it with `conversationAdded`) or refreshes the cached one. */
  upsert(summary: ConversationSummary, announce: boolean): Conversation {
    const id = summary.conversation.id;
    const existing = this.conversations.get(id);
    if (existing) {
      existing.applySummary(summary);
      return existing;
    }
    const conversation = new Conversation(this, summary);
    this.conversations.set(id, conversation);
    this.sequencer.setPosition(id, summary.conversation.lastMessageIndex);
    if (announce) this.out.emit('conversationAdded', conversation);
    return conversation;
  }

  /** Forgets a conversation; emits `conversationRemoved` once, if it was known. */
  drop(conversationId: string, reason: RemovedReason): void {
    this.sequencer.forget(conversationId);
    this.outbox.dropConversation(conversationId, new ParleyError('conversation_not_found'));
    const conversation = this.conversations.get(conversationId);
    if (!conversation) return;
    this.conversations.delete(conversationId);
    const payload = { conversationId, reason };
    conversation.emit('removed', payload);
    conversation.emit('conversationRemoved', payload);
    this.out.emit('conversationRemoved', payload);
  }

  send(conversationId: string, body: string, opts?: SendOptions): Promise<Message> {
    return this.outbox.send(conversationId, body, opts);
  }

  typing(conversationId: string): void {
    this.realtime.notify({ type: 'typing', conversationId });
  }

  /** Replaces the access token, on the live socket too. */
  async updateToken(token: string): Promise<void> {
    this.tokens.set(token);
    if (this.realtime.state === 'denied') {
      this.realtime.retry();
      return;
    }
    if (!this.realtime.connected) return; // used by the next connection
    try {
      await this.realtime.request({ type: 'token', token });
    } catch (err) {
      if (!(err instanceof ConnectionLostError)) throw err;
    }
  }

  private fetchAfter(conversationId: string, after: number): Promise<MessagePage> {
    return this.http.request<MessagePage>('GET', `/conversations/${seg(conversationId)}/messages`, {
      query: { after, limit: 100 },
    });
  }

  private deliver(message: Message): void {
    this.typingTracker.messageFrom(message.conversationId, message.authorId, message.author);
    const conversation = this.conversations.get(message.conversationId);
    conversation?.applyMessage(message);
    conversation?.emit('messageAdded', message);
    this.out.emit('messageAdded', message);
  }

  private onEvent(frame: EventFrame): void {
    switch (frame.name) {
      case 'messageAdded':
        return this.sequencer.push(frame.data.message);
      case 'messageUpdated':
        if (this.conversations.get(frame.data.conversationId)?.acceptChange(frame.data.message) === false) return;
        return this.fanOut(frame.data.conversationId, 'messageUpdated', frame.data.message);
      case 'messageRemoved':
        if (this.conversations.get(frame.data.conversationId)?.acceptChange(frame.data.message) === false) return;
        return this.fanOut(frame.data.conversationId, 'messageRemoved', frame.data);
      case 'conversationAdded':
        this.upsert(frame.data.conversation, true);
        return;
      case 'conversationUpdated':
        return this.onConversationUpdated(frame.data);
      case 'conversationRemoved':
        return this.drop(frame.data.conversationId, frame.data.reason);
      case 'participantJoined':
      case 'participantLeft':
      case 'participantUpdated':
        this.conversations.get(frame.data.conversationId)?.applyParticipant(frame.data.participant);
        return this.fanOut(frame.data.conversationId, frame.name, frame.data);
      case 'invitationReceived':
        this.out.emit('invitationReceived', frame.data.invitation);
        return;
      case 'invitationRemoved':
        this.out.emit('invitationRemoved', frame.data);
        return;
      case 'typingStarted':
        // My own typing (echoed from this or another tab) is not news.
        if (frame.data.userId === this.userId) return;
        return this.typingTracker.started(frame.data);
      case 'typingEnded':
        return this.typingTracker.ended(frame.data);
      case 'readPositionChanged':
        if (frame.data.userId === this.userId) {
          this.conversations.get(frame.data.conversationId)?.applyReadPosition(frame.data.lastReadIndex);
        }
        return this.fanOut(frame.data.conversationId, 'readPositionChanged', frame.data);
      case 'presenceChanged':
        if (this.presence.get(frame.data.userId) === frame.data.online) return;
        this.presence.set(frame.data.userId, frame.data.online);
        this.out.emit('presenceChanged', frame.data);
        return;
      case 'tokenAboutToExpire':
        this.out.emit('tokenAboutToExpire', frame.data);
        return this.scheduleRefresh(frame.data.expiresAt);
    }
  }

  /** Emits on the conversation (if known) and then on the client. */
  private fanOut<K extends keyof ConversationEvents & keyof ClientEvents>(
    conversationId: string,
    name: K,
    data: ConversationEvents[K] & ClientEvents[K],
  ): void {
    this.conversations.get(conversationId)?.emit(name, data);
    this.out.emit(name, data);
  }

  private onConversationUpdated(data: ServerEvents['conversationUpdated']): void {
    const conversation = this.conversations.get(data.conversation.id);
    if (!conversation) return;
    conversation.applyData(data.conversation);
    conversation.emit('updated', conversation);
    conversation.emit('conversationUpdated', conversation);
    this.out.emit('conversationUpdated', conversation);
  }

  private scheduleRefresh(expiresAt: string): void {
    if (!this.tokens.canRefresh || this.refreshTimer) return;
    const remaining = Date.parse(expiresAt) - Date.now();
    // The server warns 60 s ahead, so a token that lives less than that is announced as
    // expiring the moment it is installed; refreshing at half its remaining life instead of at
    // once keeps short-lived tokens from turning into a refresh loop.
    const delay = Number.isFinite(remaining) && remaining < 50_000 ? Math.max(0, remaining / 2) : 0;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refreshNow();
    }, delay);
  }

  private async refreshNow(): Promise<void> {
    try {
      const token = await this.tokens.refresh(this.tokens.current);
      await this.updateToken(token);
    } catch (err) {
      this.reportError(err);
    }
  }

  /**
   * Follows the presence of `userIds` (replacing what was followed); those who share no
   * conversation with me are left out. Resolves with who is online now; `presenceChanged`
   * reports every change after that, and after a reconnect the changes missed meanwhile.
   */
  async watchPresence(userIds: string[]): Promise<Map<string, boolean>> {
    this.presenceWatch = [...new Set(userIds)];
    return this.sendPresenceWatch(false);
  }

  /** Whether a followed user is online; undefined for anyone not followed. */
  isOnline(userId: string): boolean | undefined {
    return this.presence.get(userId);
  }

  /** Sends the watch list; with `announce`, emits `presenceChanged` for every state that differs from what was known. */
  private async sendPresenceWatch(announce: boolean): Promise<Map<string, boolean>> {
    const reply = await this.realtime.request({ type: 'watchPresence', userIds: this.presenceWatch });
    const states = new Map<string, boolean>();
    if (reply.type !== 'presence') return states;
    const online = new Set(reply.online);
    for (const userId of reply.watching) states.set(userId, online.has(userId));
    for (const userId of [...this.presence.keys()]) if (!states.has(userId)) this.presence.delete(userId);
    for (const [userId, isOnline] of states) {
      const before = this.presence.get(userId);
      this.presence.set(userId, isOnline);
      if (announce && before !== undefined && before !== isOnline) this.out.emit('presenceChanged', { userId, online: isOnline });
    }
    return states;
  }

  /**
   * After a reconnect: resume from the last index and the last change per conversation (the
   * server replays the edits and removals missed, then the messages), re-send, re-list.
   */
  private async resync(): Promise<void> {
    const positions = this.sequencer.positions();
    const changes: Record<string, number> = {};
    for (const [id, c] of this.conversations) {
      if (positions[id] === undefined) positions[id] = c.lastMessageIndex;
      changes[id] = c.lastChangeIndex;
    }
    const resumed = this.realtime.request({ type: 'resume', positions, changes });
    this.outbox.flush();
    if (this.presenceWatch.length > 0) {
      this.sendPresenceWatch(true).catch((err: unknown) => {
        if (!(err instanceof ConnectionLostError)) this.reportError(err);
      });
    }
    try {
      const reply = await resumed;
      if (reply.type === 'resumed') for (const id of reply.gone) this.drop(id, 'removed');
      await this.relist();
    } catch (err) {
      if (!(err instanceof ConnectionLostError)) this.reportError(err);
    }
  }

  /** Picks up conversations joined, changed or lost while offline. */
  private async relist(): Promise<void> {
    const before = new Set(this.conversations.keys());
    const listed = await this.listAll();
    for (const summary of listed) {
      const known = this.conversations.get(summary.conversation.id);
      if (!known) {
        this.upsert(summary, true);
        continue;
      }
      const fingerprint = stateOf(known);
      known.applySummary(summary);
      if (stateOf(known) !== fingerprint) this.out.emit('conversationUpdated', known);
      before.delete(summary.conversation.id);
    }
    // Missing from the list is not proof (paging can skip a row whose activity moved): ask.
    for (const id of before) {
      if (!this.conversations.has(id)) continue;
      await this.http.request<ConversationResponse>('GET', `/conversations/${seg(id)}`).catch((err: unknown) => {
        if (err instanceof ParleyError && (err.status === 404 || err.status === 403)) this.drop(id, 'removed');
      });
    }
  }

  private async probeToken(): Promise<string | null> {
    try {
      await this.http.request('GET', '/me');
      return null;
    } catch (err) {
      if (err instanceof ParleyError && err.status === 401) return err.code;
      return null;
    }
  }

  private reportError(err: unknown): void {
    if (this.closed) return;
    this.out.emit('error', err instanceof ParleyError ? err : ParleyError.network(err, String(err)));
  }
}

function stateOf(c: Conversation): string {
  return JSON.stringify([c.title, c.subject, c.attributes, c.invitePolicy, c.myRole, c.myStatus, c.unreadCount, c.updatedAt]);
}
