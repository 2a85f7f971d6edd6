import type { Invitation, Message } from '@parley/protocol';
import { Disposer, listen, onReconnect } from '../events.js';
import type { Client, Conversation } from '../sdk.js';

export type LoadState = { kind: 'loading' } | { kind: 'ready' } | { kind: 'error'; message: string };

/** A one-off message for the user ("You were removed from ..."). */
export type Notice = { text: string; kind: 'info' | 'warning' };

/**
 * The signed-in user's conversations and pending invitations, kept current from the client's
 * events. Views subscribe and re-render; unread counts and activity are tracked here so the
 * sidebar never has to re-fetch.
 */
export class ConversationStore {
  state: LoadState = { kind: 'loading' };
  invitations: Invitation[] = [];
  /** The conversation on screen: its new messages are read, not unread. */
  activeId: string | null = null;
  /** A notice to show once in the chat view of `conversationId`. */
  flash: { conversationId: string; text: string } | null = null;
  onNotice: (notice: Notice) => void = () => undefined;

  private readonly items = new Map<string, Conversation>();
  private readonly unread = new Map<string, number>();
  private readonly activity = new Map<string, string>();
  private readonly last = new Map<string, Message>();
  private readonly subscribers = new Set<() => void>();
  private readonly disposer = new Disposer();
  private readonly readTimers = new Map<string, { pending: boolean; handle: ReturnType<typeof setTimeout> }>();

  constructor(readonly client: Client) {
    this.disposer.add(
      listen(client, 'messageAdded', (message) => this.onMessage(message)),
      listen(client, 'messageUpdated', (message) => this.onMessageChanged(message)),
      listen(client, 'messageRemoved', ({ message }) => this.onMessageChanged(message)),
      listen(client, 'conversationAdded', (conversation) => this.add(conversation)),
      listen(client, 'conversationUpdated', (conversation) => this.update(conversation)),
      listen(client, 'conversationRemoved', ({ conversationId, reason }) => this.onRemoved(conversationId, reason)),
      listen(client, 'invitationReceived', (invitation) => this.onInvitation(invitation)),
      listen(client, 'invitationRemoved', ({ conversationId }) => this.dropInvitation(conversationId)),
      onReconnect(client, () => void this.load(true)),
    );
  }

  /**
   * Loads (or reloads) the conversation list and the pending invitations. A quiet reload
   * (after a reconnect) keeps what is shown until the new list arrives, and keeps it on error.
   */
  async load(quiet = false): Promise<void> {
    if (!quiet) {
      this.state = { kind: 'loading' };
      this.emit();
    }
    try {
      const [conversations, invitations] = await Promise.all([
        this.client.getSubscribedConversations(),
        this.client.getInvitations(),
      ]);
      this.items.clear();
      for (const c of conversations) {
        this.items.set(c.id, c);
        this.unread.set(c.id, c.id === this.activeId ? 0 : c.unreadCount);
      }
      this.invitations = invitations;
      this.state = { kind: 'ready' };
    } catch (error) {
      if (!quiet) this.state = { kind: 'error', message: error instanceof Error ? error.message : String(error) };
    }
    this.emit();
  }

  subscribe(fn: () => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** Newest activity first. */
  list(): Conversation[] {
    return [...this.items.values()].sort((a, b) => this.activityOf(b).localeCompare(this.activityOf(a)));
  }

  get(id: string): Conversation | undefined {
    return this.items.get(id);
  }

  unreadOf(id: string): number {
    return this.unread.get(id) ?? 0;
  }

  lastMessageOf(id: string): Message | null {
    return this.last.get(id) ?? this.items.get(id)?.lastMessage ?? null;
  }

  activityOf(conversation: Conversation): string {
    return this.activity.get(conversation.id) ?? conversation.lastActivityAt;
  }

  add(conversation: Conversation, notify = true): void {
    const known = this.items.has(conversation.id);
    this.items.set(conversation.id, conversation);
    if (!known) this.unread.set(conversation.id, conversation.unreadCount);
    this.dropInvitation(conversation.id, false);
    if (notify) this.emit();
  }

  update(conversation: Conversation): void {
    if (!this.items.has(conversation.id)) return;
    this.items.set(conversation.id, conversation);
    this.emit();
  }

  /** Forgets a conversation (left, removed or deleted). */
  remove(id: string): void {
    if (this.items.delete(id)) this.emit();
  }

  /** Marks everything read in the open conversation (told to the server at most twice a second). */
  markRead(id: string): void {
    if (this.unreadOf(id) !== 0) {
      this.unread.set(id, 0);
      this.emit();
    }
    const timer = this.readTimers.get(id);
    if (timer) {
      timer.pending = true;
      return;
    }
    this.sendRead(id);
    const entry = {
      pending: false,
      handle: setTimeout(() => {
        this.readTimers.delete(id);
        if (entry.pending) this.sendRead(id);
      }, 500),
    };
    this.readTimers.set(id, entry);
  }

  private sendRead(id: string): void {
    this.items.get(id)?.setAllMessagesRead().catch(() => undefined);
  }

  dispose(): void {
    for (const [id, timer] of this.readTimers) {
      clearTimeout(timer.handle);
      if (timer.pending) this.sendRead(id);
    }
    this.readTimers.clear();
    this.disposer.dispose();
    this.subscribers.clear();
  }

  private onMessage(message: Message): void {
    const id = message.conversationId;
    if (!this.items.has(id)) return;
    const previous = this.last.get(id);
    if (!previous || previous.index < message.index) this.last.set(id, message);
    this.activity.set(id, message.createdAt);
    const mine = message.authorId === this.client.user.id;
    if (!mine && id !== this.activeId) this.unread.set(id, this.unreadOf(id) + 1);
    this.emit();
  }

  /** An edit or a removal of the newest message changes the sidebar's preview. */
  private onMessageChanged(message: Message): void {
    const id = message.conversationId;
    const shown = this.lastMessageOf(id);
    if (shown?.id !== message.id) return;
    this.last.set(id, message);
    this.emit();
  }

  private onRemoved(id: string, reason: 'deleted' | 'removed' | 'left'): void {
    const title = this.items.get(id)?.title;
    this.remove(id);
    this.dropInvitation(id);
    if (!title || reason === 'left') return;
    const text =
      reason === 'deleted' ? `“${title}” was deleted by an admin.` : `You were removed from “${title}”.`;
    this.onNotice({ text, kind: 'warning' });
  }

  private onInvitation(invitation: Invitation): void {
    this.invitations = [invitation, ...this.invitations.filter((i) => i.conversationId !== invitation.conversationId)];
    const who = invitation.invitedBy ?? 'Someone';
    this.onNotice({ text: `${who} invited you to “${invitation.title}”.`, kind: 'info' });
    this.emit();
  }

  /** Forgets a pending invitation (accepted, declined or withdrawn). */
  dropInvitation(conversationId: string, notify = true): void {
    const before = this.invitations.length;
    this.invitations = this.invitations.filter((i) => i.conversationId !== conversationId);
    if (notify && before !== this.invitations.length) this.emit();
  }

  private emit(): void {
    for (const fn of this.subscribers) fn();
  }
}
