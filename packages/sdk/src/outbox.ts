import type { AckFrame, Attributes, Message, SendFrame, ServerFrame } from '@parley/protocol';
import { Backoff } from './backoff.js';
import { ParleyError } from './errors.js';
import { ConnectionLostError, type Realtime } from './socket.js';
import { uuid7 } from './uuid7.js';

/** Options of one send. */
export interface SendOptions {
  /** Idempotency key; a time-ordered UUID (`uuid7()`) when omitted. */
  clientId?: string;
  attributes?: Record<string, unknown>;
}

interface Entry {
  frame: SendFrame;
  resolve: (message: Message) => void;
  reject: (err: Error) => void;
  inflight: boolean;
  retry: ReturnType<typeof setTimeout> | null;
  backoff: Backoff;
}

/**
 * Unacknowledged sends. Each keeps its `clientId` for life and is transmitted again after every
 * reconnect until the server acks it, so a send is never lost and never duplicated (the server
 * acks a repeated `clientId` with the stored message).
 */
export class Outbox {
  private readonly entries = new Map<string, Entry>();
  private closedWith: Error | null = null;

  constructor(private readonly realtime: Realtime) {
    realtime.on('unmatched', (frame) => this.onUnmatched(frame));
  }

  /** Number of sends waiting for an ack. */
  get size(): number {
    return this.entries.size;
  }

  /** Queues a send and transmits it now if connected; resolves with the acked message. */
  send(conversationId: string, body: string, opts: SendOptions = {}): Promise<Message> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const clientId = opts.clientId ?? uuid7();
    const key = keyOf(conversationId, clientId);
    const existing = this.entries.get(key);
    if (existing) return new Promise((resolve, reject) => this.chain(existing, resolve, reject));
    const frame: SendFrame = { type: 'send', conversationId, clientId, body };
    if (opts.attributes !== undefined) frame.attributes = opts.attributes as Attributes;
    return new Promise<Message>((resolve, reject) => {
      const entry: Entry = { frame, resolve, reject, inflight: false, retry: null, backoff: new Backoff() };
      this.entries.set(key, entry);
      this.transmit(key, entry);
    });
  }

  /** Transmits every send not already on the wire, oldest first (after each `ready`). */
  flush(): void {
    for (const [key, entry] of this.entries) if (!entry.inflight && !entry.retry) this.transmit(key, entry);
  }

  /** Rejects every waiting send (shutdown, or access denied for good). */
  close(err: Error): void {
    this.closedWith = err;
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const e of entries) {
      if (e.retry) clearTimeout(e.retry);
      e.reject(err);
    }
  }

  /** Rejects the sends of one conversation (it is gone). */
  dropConversation(conversationId: string, err: Error): void {
    for (const [key, e] of this.entries) {
      if (e.frame.conversationId !== conversationId) continue;
      this.entries.delete(key);
      if (e.retry) clearTimeout(e.retry);
      e.reject(err);
    }
  }

  private chain(entry: Entry, resolve: (m: Message) => void, reject: (e: Error) => void): void {
    const { resolve: r0, reject: j0 } = entry;
    entry.resolve = (m) => (r0(m), resolve(m));
    entry.reject = (e) => (j0(e), reject(e));
  }

  private transmit(key: string, entry: Entry): void {
    if (!this.realtime.connected) return;
    entry.inflight = true;
    this.realtime.request(entry.frame).then(
      (reply) => {
        entry.inflight = false;
        if (reply.type === 'ack') this.settle(key, reply.message);
      },
      (err: unknown) => {
        entry.inflight = false;
        if (this.entries.get(key) !== entry) return;
        if (err instanceof ConnectionLostError) return; // flushed again after the next `ready`
        if (err instanceof ParleyError && err.retryable) return this.retryLater(key, entry, err.retryAfterMs);
        this.entries.delete(key);
        entry.reject(err instanceof Error ? err : new ParleyError('internal', String(err)));
      },
    );
  }

  private retryLater(key: string, entry: Entry, afterMs?: number): void {
    const delay = Math.max(afterMs ?? 0, entry.backoff.next());
    entry.retry = setTimeout(() => {
      entry.retry = null;
      if (this.entries.get(key) === entry) this.transmit(key, entry);
    }, delay);
  }

  private settle(key: string, message: Message): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    if (entry.retry) clearTimeout(entry.retry);
    entry.resolve(message);
  }

  private onUnmatched(frame: ServerFrame): void {
    if (frame.type !== 'ack') return;
    const { message } = frame as AckFrame;
    if (message.clientId) this.settle(keyOf(message.conversationId, message.clientId), message);
  }
}

function keyOf(conversationId: string, clientId: string): string {
  return `${conversationId}\u0000${clientId}`;
}
