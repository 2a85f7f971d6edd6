import type { BusEnvelope } from './bus.js';

/**
 * Puts `messageAdded` events of each conversation back in index order before delivery.
 * Concurrent senders (several processes, or a PostgreSQL pool) can commit index n + 1
 * and publish it before n; a later event is held up to `holdMs` for its predecessor,
 * then released anyway (clients fill a real gap by index). An edit or a removal
 * (`messageUpdated`, `messageRemoved`) of a message not yet delivered here waits behind it
 * the same way, so no client sees a change before the message it changes. Other events pass
 * straight through. Only conversations with local listeners are tracked, so memory stays
 * bounded.
 *
 * @example
 * const reorder = new Reorder((e) => gateway.deliverNow(e), (id) => rooms.has(id));
 * bus.subscribe((e) => reorder.push(e));
 */
export class Reorder {
  private readonly last = new Map<string, number>();
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly deliver: (envelope: BusEnvelope) => void,
    private readonly hasListeners: (conversationId: string) => boolean,
    private readonly holdMs = 100,
  ) {}

  push(envelope: BusEnvelope): void {
    const event = envelope.event;
    if (event.name === 'messageUpdated') return this.pushChange(envelope, event.data.conversationId, event.data.message.index);
    if (event.name === 'messageRemoved') return this.pushChange(envelope, event.data.conversationId, event.data.index);
    if (event.name !== 'messageAdded') return this.deliver(envelope);
    const { conversationId } = event.data;
    const index = event.data.message.index;
    if (!this.hasListeners(conversationId)) {
      this.forget(conversationId);
      return this.deliver(envelope);
    }
    const last = this.last.get(conversationId);
    if (last === undefined || index === last + 1) {
      this.emit(conversationId, envelope, index);
      this.drain(conversationId);
      return;
    }
    if (index <= last) return this.deliver(envelope); // late duplicate: clients drop it by index
    this.hold(conversationId, index, envelope);
  }

  /** A change of message `index`: now if that message was delivered here (or is not tracked), else after it. */
  private pushChange(envelope: BusEnvelope, conversationId: string, index: number): void {
    const last = this.last.get(conversationId);
    if (last === undefined || index <= last || !this.hasListeners(conversationId)) return this.deliver(envelope);
    const held = this.holding(conversationId);
    const waiting = held.changes.get(index);
    if (waiting) waiting.push(envelope);
    else held.changes.set(index, [envelope]);
  }

  private emit(conversationId: string, envelope: BusEnvelope, index: number): void {
    this.last.set(conversationId, index);
    this.deliver(envelope);
    // Most of the time nothing at all is held: skip the lookup on the hot path.
    if (this.held.size === 0) return;
    const held = this.held.get(conversationId);
    const changes = held?.changes.get(index);
    if (!held || !changes) return;
    held.changes.delete(index);
    for (const change of changes) this.deliver(change);
  }

  /** Releases held successors that are now in sequence. */
  private drain(conversationId: string): void {
    const held = this.held.get(conversationId);
    if (!held) return;
    let next = (this.last.get(conversationId) ?? 0) + 1;
    for (let envelope = held.byIndex.get(next); envelope; envelope = held.byIndex.get(next)) {
      held.byIndex.delete(next);
      this.emit(conversationId, envelope, next);
      next += 1;
    }
    if (held.byIndex.size === 0 && held.changes.size === 0) {
      clearTimeout(held.timer);
      this.held.delete(conversationId);
    }
  }

  private hold(conversationId: string, index: number, envelope: BusEnvelope): void {
    this.holding(conversationId).byIndex.set(index, envelope);
  }

  /** The conversation's held events, started (with its release timer) if there were none. */
  private holding(conversationId: string): Held {
    let held = this.held.get(conversationId);
    if (!held) {
      const timer = setTimeout(() => this.release(conversationId), this.holdMs);
      timer.unref();
      held = { byIndex: new Map(), changes: new Map(), timer };
      this.held.set(conversationId, held);
    }
    return held;
  }

  /**
   * The predecessor never came (or is very late): deliver what is held, in order, each change
   * right after its message; changes of messages that never came here go last, in arrival order.
   */
  private release(conversationId: string): void {
    const held = this.held.get(conversationId);
    if (!held) return;
    for (const index of [...held.byIndex.keys()].sort((a, b) => a - b)) {
      this.emit(conversationId, held.byIndex.get(index)!, index);
    }
    this.held.delete(conversationId);
    for (const changes of held.changes.values()) for (const change of changes) this.deliver(change);
  }

  private forget(conversationId: string): void {
    this.last.delete(conversationId);
    const held = this.held.get(conversationId);
    if (held) clearTimeout(held.timer);
    this.held.delete(conversationId);
  }
}

/** What a conversation holds back: messages by index, and changes waiting for their message. */
interface Held {
  byIndex: Map<number, BusEnvelope>;
  changes: Map<number, BusEnvelope[]>;
  timer: NodeJS.Timeout;
}
