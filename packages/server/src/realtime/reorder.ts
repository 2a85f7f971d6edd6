import type { BusEnvelope } from './bus.js';

/**
 * Puts `messageAdded` events of each conversation back in index order before delivery.
 * Concurrent senders (several processes, or a PostgreSQL pool) can commit index n + 1
 * and publish it before n; a later event is held up to `holdMs` for its predecessor,
 * then released anyway (clients fill a real gap by index). Other events pass straight
 * through. Only conversations with local listeners are tracked, so memory stays bounded.
 *
 * @example
 * const reorder = new Reorder((e) => gateway.deliverNow(e), (id) => rooms.has(id));
 * bus.subscribe((e) => reorder.push(e));
 */
export class Reorder {
  private readonly last = new Map<string, number>();
  private readonly held = new Map<string, { byIndex: Map<number, BusEnvelope>; timer: NodeJS.Timeout }>();

  constructor(
    private readonly deliver: (envelope: BusEnvelope) => void,
    private readonly hasListeners: (conversationId: string) => boolean,
    private readonly holdMs = 100,
  ) {}

  push(envelope: BusEnvelope): void {
    const event = envelope.event;
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

  private emit(conversationId: string, envelope: BusEnvelope, index: number): void {
    this.last.set(conversationId, index);
    this.deliver(envelope);
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
    if (held.byIndex.size === 0) {
      clearTimeout(held.timer);
      this.held.delete(conversationId);
    }
  }

  private hold(conversationId: string, index: number, envelope: BusEnvelope): void {
    let held = this.held.get(conversationId);
    if (!held) {
      const timer = setTimeout(() => this.release(conversationId), this.holdMs);
      timer.unref();
      held = { byIndex: new Map(), timer };
      this.held.set(conversationId, held);
    }
    held.byIndex.set(index, envelope);
  }

  /** The predecessor never came (or is very late): deliver what is held, in order. */
  private release(conversationId: string): void {
    const held = this.held.get(conversationId);
    if (!held) return;
    this.held.delete(conversationId);
    for (const index of [...held.byIndex.keys()].sort((a, b) => a - b)) {
      this.emit(conversationId, held.byIndex.get(index)!, index);
    }
  }

  private forget(conversationId: string): void {
    this.last.delete(conversationId);
    const held = this.held.get(conversationId);
    if (held) clearTimeout(held.timer);
    this.held.delete(conversationId);
  }
}
