import type { MembershipChange } from './bus.js';

/** The part of a connection the rooms need. */
export interface RoomMember {
  readonly userId: string;
  readonly subscriptions: Set<string>;
  /** Conversations that left this connection while its initial subscriptions were loading. */
  pendingGone: Set<string> | null;
}

/**
 * Which local connections receive which conversation: rooms by conversation and
 * connections by user, the way Socket.IO's adapter keeps them. Membership changes arrive
 * on the bus with the event they belong to, so every process applies them at the same
 * point in the stream.
 *
 * @example
 * rooms.addConnection(conn); rooms.subscribe(conn, 'CH1');
 * for (const c of rooms.inConversation('CH1')) c.send(frame);
 */
export class Rooms<C extends RoomMember> {
  private readonly byConversation = new Map<string, Set<C>>();
  private readonly byUser = new Map<string, Set<C>>();
  private readonly loading = new Set<C>();

  addConnection(conn: C): void {
    let set = this.byUser.get(conn.userId);
    if (!set) this.byUser.set(conn.userId, (set = new Set()));
    set.add(conn);
  }

  removeConnection(conn: C): void {
    for (const conversationId of conn.subscriptions) this.unsubscribe(conn, conversationId);
    const set = this.byUser.get(conn.userId);
    set?.delete(conn);
    if (set?.size === 0) this.byUser.delete(conn.userId);
    this.loading.delete(conn);
  }

  subscribe(conn: C, conversationId: string): void {
    let room = this.byConversation.get(conversationId);
    if (!room) this.byConversation.set(conversationId, (room = new Set()));
    room.add(conn);
    conn.subscriptions.add(conversationId);
  }

  unsubscribe(conn: C, conversationId: string): void {
    conn.subscriptions.delete(conversationId);
    const room = this.byConversation.get(conversationId);
    room?.delete(conn);
    if (room?.size === 0) this.byConversation.delete(conversationId);
  }

  inConversation(conversationId: string): Iterable<C> {
    return this.byConversation.get(conversationId) ?? [];
  }

  hasConversation(conversationId: string): boolean {
    return this.byConversation.has(conversationId);
  }

  ofUser(userId: string): Iterable<C> {
    return this.byUser.get(userId) ?? [];
  }

  all(): C[] {
    return [...this.byUser.values()].flatMap((set) => [...set]);
  }

  /** Tracks membership changes for a connection whose subscriptions are still loading. */
  beginLoading(conn: C): void {
    conn.pendingGone = new Set();
    this.loading.add(conn);
  }

  /** Subscribes the loaded conversations, minus any that left meanwhile. */
  finishLoading(conn: C, conversationIds: string[]): void {
    for (const id of conversationIds) if (!conn.pendingGone?.has(id)) this.subscribe(conn, id);
    conn.pendingGone = null;
    this.loading.delete(conn);
  }

  apply(change: MembershipChange): void {
    if (change.kind === 'joined') {
      for (const conn of this.ofUser(change.userId)) {
        conn.pendingGone?.delete(change.conversationId);
        this.subscribe(conn, change.conversationId);
      }
    } else if (change.kind === 'gone') {
      for (const conn of this.ofUser(change.userId)) {
        conn.pendingGone?.add(change.conversationId);
        this.unsubscribe(conn, change.conversationId);
      }
    } else {
      for (const conn of [...this.inConversation(change.conversationId)]) this.unsubscribe(conn, change.conversationId);
      for (const conn of this.loading) conn.pendingGone?.add(change.conversationId);
    }
  }
}
