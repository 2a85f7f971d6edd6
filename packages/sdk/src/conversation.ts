import type {
  Attributes,
  Conversation as ConversationData,
  ConversationSummary,
  InviteLink,
  InviteListResponse,
  InvitePolicy,
  InviteResponse,
  Message,
  MessagePage,
  MessageResponse,
  Participant,
  ParticipantResponse,
  ParticipantsResponse,
  ParticipantStatus,
  Role,
  ConversationResponse,
} from '@parley/protocol';
import { TypedEmitter } from './emitter.js';
import { seg, type Http } from './http.js';
import type { SendOptions } from './outbox.js';
import type { ConversationEvents, Paginator } from './types.js';

/** What a {@link Conversation} needs from its {@link Client}. */
export interface ConversationHost {
  readonly http: Http;
  readonly userId: string;
  send(conversationId: string, body: string, opts?: SendOptions): Promise<Message>;
  typing(conversationId: string): void;
  /** Forgets the conversation locally after leave/delete (emits `conversationRemoved` once). */
  drop(conversationId: string, reason: 'deleted' | 'left'): void;
}

/** Messages per conversation whose newest change is remembered to drop repeats. */
const CHANGES_REMEMBERED = 1000;

/**
 * One conversation the user has joined. Its fields are kept current from real-time events, and
 * it emits the events that concern it (`messageAdded`, `participantJoined`, `updated`, ...).
 * Get instances from {@link Client}; never construct one.
 *
 * @example
 * const [conversation] = await client.getSubscribedConversations();
 * conversation.on('messageAdded', (m) => console.log(`${m.author}: ${m.body}`));
 * await conversation.sendMessage('hello');
 */
export class Conversation extends TypedEmitter<ConversationEvents> {
  private data: ConversationData;
  private role: Role;
  private status: ParticipantStatus;
  private unread: number;
  private last: Message | null;
  private lastTyping = 0;
  /** The highest `changeIndex` received (or known when the conversation became known). */
  private changeCursor: number;
  /** Per message id, the newest `changeIndex` delivered, so a change is emitted once and never undone by an older one. */
  private readonly changesSeen = new Map<string, number>();

  /** @internal */
  constructor(
    private readonly host: ConversationHost,
    summary: ConversationSummary,
  ) {
    super();
    this.data = summary.conversation;
    this.role = summary.myRole;
    this.status = summary.myStatus;
    this.unread = summary.unreadCount;
    this.last = summary.lastMessage;
    this.changeCursor = summary.conversation.lastChangeIndex;
  }

  get id(): string { return this.data.id; }
  get title(): string { return this.data.title; }
  /** The integrator's unique name for it (Twilio's `uniqueName`), or null. */
  get uniqueName(): string | null { return this.data.uniqueName; }
  get subject(): string { return this.data.subject; }
  get attributes(): Attributes { return this.data.attributes; }
  get invitePolicy(): InvitePolicy { return this.data.invitePolicy; }
  /** User id of the creator. */
  get createdBy(): string { return this.data.createdBy; }
  get createdAt(): string { return this.data.createdAt; }
  get updatedAt(): string { return this.data.updatedAt; }
  /** Index of the newest message known, 0 when there is none. */
  get lastMessageIndex(): number { return this.data.lastMessageIndex; }
  get lastActivityAt(): string { return this.data.lastActivityAt; }
  /**
   * The newest edit or removal this client has heard of (a message's `changeIndex`); a
   * reconnect resumes the changes after it.
   */
  get lastChangeIndex(): number { return this.changeCursor; }
  get myRole(): Role { return this.role; }
  get myStatus(): ParticipantStatus { return this.status; }
  /** Messages by others since my read position (counted from when I joined). */
  get unreadCount(): number { return this.unread; }
  get lastMessage(): Message | null { return this.last; }

  /**
   * A page of history, oldest first. Without `before`, the newest page.
   *
   * @example
   * let page = await conversation.getMessages({ limit: 50 });
   * while (page.hasPrevPage) page = await page.prevPage();
   */
  async getMessages(opts: { before?: number; limit?: number } = {}): Promise<Paginator<Message>> {
    const res = await this.host.http.request<MessagePage>('GET', `/conversations/${seg(this.id)}/messages`, {
      query: { before: opts.before, limit: opts.limit },
    });
    const items = res.messages;
    const oldest = items[0]?.index;
    const hasPrevPage = res.hasMore && oldest !== undefined && oldest > 1;
    return {
      items,
      hasPrevPage,
      prevPage: () =>
        hasPrevPage && oldest !== undefined
          ? this.getMessages({ before: oldest, limit: opts.limit })
          : Promise.resolve(emptyPage<Message>()),
    };
  }

  /**
   * Sends a message over the socket and resolves with the acknowledged (durable) message. The
   * send survives disconnects: it is retried with the same `clientId` until acked, never twice.
   *
   * @example
   * const message = await conversation.sendMessage('hello', { attributes: { mood: 'cheerful' } });
   * console.log(message.index);
   */
  sendMessage(body: string, opts?: SendOptions): Promise<Message> {
    return this.host.send(this.id, body, opts);
  }

  /**
   * Replaces the body of one of my messages. Everyone in the conversation gets
   * `messageUpdated` with the message as edited (`editedAt` set). Only the author may edit
   * (`not_message_author`), and a removed message cannot be (`message_removed`).
   *
   * @example
   * const fixed = await conversation.updateMessage(message.id, 'See you at 10, not 11');
   * console.log(fixed.editedAt);
   */
  async updateMessage(messageId: string, body: string): Promise<Message> {
    const path = `/conversations/${seg(this.id)}/messages/${seg(messageId)}`;
    const res = await this.host.http.request<MessageResponse>('PATCH', path, { body: { body } });
    this.applyMessageUpdate(res.message);
    return res.message;
  }

  /**
   * Removes a message: my own, or anyone's if I am an admin. It keeps its index with an empty
   * body and `removedAt`; everyone in the conversation gets `messageRemoved`. Removing a message
   * that is already removed succeeds.
   *
   * @example
   * conversation.on('messageRemoved', ({ index }) => console.log(`message ${index} removed`));
   * await conversation.removeMessage(message.id);
   */
  async removeMessage(messageId: string): Promise<void> {
    await this.host.http.request<void>('DELETE', `/conversations/${seg(this.id)}/messages/${seg(messageId)}`);
  }

  /**
   * Every participant, whatever their status.
   *
   * @example
   * const admins = (await conversation.getParticipants()).filter((p) => p.role === 'admin');
   */
  async getParticipants(): Promise<Participant[]> {
    const res = await this.host.http.request<ParticipantsResponse>('GET', `/conversations/${seg(this.id)}/participants`);
    return res.participants;
  }

  /**
   * Invites a user by username (admin); they get `invitationReceived`.
   *
   * @example
   * const p = await conversation.addParticipant('grace'); // p.status === 'invited'
   */
  async addParticipant(username: string): Promise<Participant> {
    const res = await this.host.http.request<ParticipantResponse>('POST', `/conversations/${seg(this.id)}/participants`, {
      body: { username },
    });
    return res.participant;
  }

  /**
   * Removes a participant (admin).
   *
   * @example
   * await conversation.removeParticipant(participant.userId);
   */
  async removeParticipant(userId: string): Promise<void> {
    await this.host.http.request<void>('DELETE', `/conversations/${seg(this.id)}/participants/${seg(userId)}`);
  }

  /**
   * Changes a joined participant's role (admin).
   *
   * @example
   * await conversation.setRole(grace.userId, 'admin');
   */
  async setRole(userId: string, role: Role): Promise<Participant> {
    const path = `/conversations/${seg(this.id)}/participants/${seg(userId)}`;
    const res = await this.host.http.request<ParticipantResponse>('PATCH', path, { body: { role } });
    if (userId === this.host.userId) this.role = res.participant.role;
    return res.participant;
  }

  /**
   * Leaves the conversation (the last admin must hand over first: `last_admin_cannot_leave`).
   *
   * @example
   * await conversation.leave();
   */
  async leave(): Promise<void> {
    await this.host.http.request<void>('POST', `/conversations/${seg(this.id)}/leave`);
    this.host.drop(this.id, 'left');
  }

  /**
   * Deletes the conversation and its history for everyone (admin).
   *
   * @example
   * await conversation.delete();
   */
  async delete(): Promise<void> {
    await this.host.http.request<void>('DELETE', `/conversations/${seg(this.id)}`);
    this.host.drop(this.id, 'deleted');
  }

  /**
   * Changes title, subject, invite policy or attributes (admin). Resolves with this
   * conversation, already updated.
   *
   * @example
   * await conversation.update({ title: 'Release 2.0', subject: 'ship it' });
   */
  async update(patch: { title?: string; subject?: string; invitePolicy?: InvitePolicy; attributes?: Attributes }): Promise<Conversation> {
    const res = await this.host.http.request<ConversationResponse>('PATCH', `/conversations/${seg(this.id)}`, { body: patch });
    this.applySummary(res.conversation);
    return this;
  }

  /**
   * Creates an invite link; `url` and `token` are only returned here.
   *
   * @example
   * const { url } = await conversation.createInvite({ expiresInSeconds: 86_400, maxUses: 10 });
   */
  async createInvite(opts: { expiresInSeconds?: number; maxUses?: number } = {}): Promise<InviteLink> {
    const res = await this.host.http.request<InviteResponse>('POST', `/conversations/${seg(this.id)}/invites`, { body: opts });
    return res.invite;
  }

  /**
   * The conversation's invite links (without tokens).
   *
   * @example
   * const active = (await conversation.listInvites()).filter((i) => !i.revoked);
   */
  async listInvites(): Promise<InviteLink[]> {
    const res = await this.host.http.request<InviteListResponse>('GET', `/conversations/${seg(this.id)}/invites`);
    return res.invites;
  }

  /**
   * Revokes an invite link.
   *
   * @example
   * await conversation.revokeInvite(invite.id);
   */
  async revokeInvite(inviteId: string): Promise<void> {
    await this.host.http.request<void>('DELETE', `/conversations/${seg(this.id)}/invites/${seg(inviteId)}`);
  }

  /**
   * Marks everything up to the newest message as read.
   *
   * @example
   * await conversation.setAllMessagesRead(); // conversation.unreadCount === 0
   */
  setAllMessagesRead(): Promise<void> {
    return this.markRead(this.lastMessageIndex);
  }

  /**
   * Moves my read position to `index`.
   *
   * @example
   * await conversation.markRead(message.index);
   */
  async markRead(index: number): Promise<void> {
    const res = await this.host.http.request<{ lastReadIndex: number }>('POST', `/conversations/${seg(this.id)}/read`, {
      body: { index },
    });
    this.applyReadPosition(res.lastReadIndex ?? index);
  }

  /**
   * Tells the others I am typing. Cheap to call on every keystroke: at most one frame per 2 s.
   *
   * @example
   * input.addEventListener('input', () => conversation.typing());
   */
  typing(): void {
    const now = Date.now();
    if (now - this.lastTyping < 2000) return;
    this.lastTyping = now;
    this.host.typing(this.id);
  }

  /** @internal Replaces the state from a fresh summary. */
  applySummary(summary: ConversationSummary): void {
    const known = this.data.lastMessageIndex;
    this.role = summary.myRole;
    this.status = summary.myStatus;
    if (known > summary.conversation.lastMessageIndex) {
      // The summary lags behind messages already delivered live: keep what they taught us.
      this.data = { ...summary.conversation, lastMessageIndex: known, lastActivityAt: this.data.lastActivityAt };
      return;
    }
    this.data = summary.conversation;
    this.unread = summary.unreadCount;
    this.last = summary.lastMessage;
  }

  /** @internal */
  applyData(data: ConversationData): void {
    const lastMessageIndex = Math.max(this.data.lastMessageIndex, data.lastMessageIndex);
    this.data = { ...data, lastMessageIndex };
  }

  /** @internal A new message: count it as unread unless it is mine or already counted. */
  applyMessage(message: Message): void {
    // Replayed after a reconnect, a message comes as it is now, edits included.
    this.noteChange(message);
    if (message.index <= this.data.lastMessageIndex) {
      if (this.last && this.last.index < message.index) this.last = message;
      return;
    }
    this.data = { ...this.data, lastMessageIndex: message.index, lastActivityAt: message.createdAt };
    this.last = message;
    if (message.authorId !== this.host.userId) this.unread += 1;
  }

  /** @internal A message was edited or removed: keep `lastMessage` as it is now. */
  applyMessageUpdate(message: Message): void {
    if (this.last?.id === message.id && (this.last.changeIndex ?? 0) <= (message.changeIndex ?? Infinity)) this.last = message;
  }

  /**
   * @internal A `messageUpdated` or `messageRemoved` arrived, live or replayed by a resume.
   * False when this change (or a newer one of the same message) was already delivered.
   */
  acceptChange(message: Message): boolean {
    if (!this.noteChange(message)) return false;
    this.applyMessageUpdate(message);
    return true;
  }

  /** Remembers the message's `changeIndex`; false when it (or a newer one) was already seen. */
  private noteChange(message: Message): boolean {
    const at = message.changeIndex;
    if (at === undefined) return true;
    const seen = this.changesSeen.get(message.id);
    if (seen !== undefined && seen >= at) return false;
    this.changesSeen.delete(message.id);
    this.changesSeen.set(message.id, at);
    // Only a stale replay needs the memory: forget the longest-unchanged messages first.
    if (this.changesSeen.size > CHANGES_REMEMBERED) this.changesSeen.delete(this.changesSeen.keys().next().value as string);
    if (at > this.changeCursor) this.changeCursor = at;
    return true;
  }

  /** @internal */
  applyParticipant(participant: Participant): void {
    if (participant.userId !== this.host.userId) return;
    this.role = participant.role;
    this.status = participant.status;
  }

  /** @internal My read position moved (here or in another tab). */
  applyReadPosition(lastReadIndex: number): void {
    this.unread = Math.min(this.unread, Math.max(0, this.data.lastMessageIndex - lastReadIndex));
  }
}

function emptyPage<T>(): Paginator<T> {
  return { items: [], hasPrevPage: false, prevPage: () => Promise.resolve(emptyPage<T>()) };
}
