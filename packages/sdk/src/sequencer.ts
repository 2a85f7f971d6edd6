import type { Message, MessagePage } from '@parley/protocol';
import { Backoff } from './backoff.js';
import { ParleyError } from './errors.js';

/** Options for {@link MessageSequencer}. */
export interface SequencerOptions {
  /** Fetches messages with index > `after`, oldest first (`GET .../messages?after=`). */
  fetchAfter: (conversationId: string, after: number) => Promise<MessagePage>;
  /** Receives each message exactly once, in index order per conversation. */
  deliver: (message: Message) => void;
  /** Told about a gap fetch that failed (it is retried). */
  onError?: (err: unknown) => void;
  /** Told when a gap fetch finds the conversation gone (404/403). */
  onGone?: (conversationId: string) => void;
  backoff?: { minMs?: number; maxMs?: number };
}

interface Lane {
  /** Highest index delivered. */
  last: number;
  /** Arrived ahead of a gap, by index. */
  pending: Map<number, Message>;
  fetching: boolean;
  retry: ReturnType<typeof setTimeout> | null;
  backoff: Backoff;
}

/**
 * Turns the stream of `messageAdded` payloads (live events interleaved with a resume replay)
 * into exactly-once, in-order delivery per conversation: indexes already seen are dropped, and an
 * index more than one past the last seen is held back while the gap is fetched over REST.
 *
 * @example
 * const seq = new MessageSequencer({ fetchAfter, deliver: (m) => app.show(m) });
 * seq.setPosition('c1', 10);
 * seq.push(message11); // delivered
 * seq.push(message11); // dropped: already seen
 */
export class MessageSequencer {
  private readonly lanes = new Map<string, Lane>();
  private stopped = false;

  constructor(private readonly opts: SequencerOptions) {}

  /** The last index delivered for a conversation, if it is known. */
  position(conversationId: string): number | undefined {
    return this.lanes.get(conversationId)?.last;
  }

  /** Every known position, for a `resume` frame. */
  positions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, lane] of this.lanes) out[id] = lane.last;
    return out;
  }

  /** Starts tracking a conversation at `index` (ignored when it is already tracked). */
  setPosition(conversationId: string, index: number): void {
    if (!this.lanes.has(conversationId)) this.lanes.set(conversationId, this.newLane(index));
  }

  /** Stops tracking a conversation (left, removed, deleted). */
  forget(conversationId: string): void {
    const lane = this.lanes.get(conversationId);
    if (lane?.retry) clearTimeout(lane.retry);
    this.lanes.delete(conversationId);
  }

  /** Stops all work; later pushes are ignored. */
  stop(): void {
    this.stopped = true;
    for (const id of [...this.lanes.keys()]) this.forget(id);
  }

  /**
   * Offers a message. A conversation seen for the first time starts at this message.
   */
  push(message: Message): void {
    if (this.stopped) return;
    let lane = this.lanes.get(message.conversationId);
    if (!lane) {
      lane = this.newLane(message.index - 1);
      this.lanes.set(message.conversationId, lane);
    }
    if (message.index <= lane.last) return;
    lane.pending.set(message.index, message);
    this.drain(lane);
    if (lane.pending.size > 0) this.fillGap(message.conversationId, lane);
  }

  private newLane(last: number): Lane {
    return { last, pending: new Map(), fetching: false, retry: null, backoff: new Backoff(this.opts.backoff) };
  }

  private drain(lane: Lane): void {
    for (;;) {
      const next = lane.pending.get(lane.last + 1);
      if (!next) break;
      lane.pending.delete(next.index);
      lane.last = next.index;
      this.opts.deliver(next);
    }
    for (const index of lane.pending.keys()) if (index <= lane.last) lane.pending.delete(index);
  }

  private fillGap(conversationId: string, lane: Lane): void {
    if (lane.fetching || lane.retry) return;
    lane.fetching = true;
    void this.fetchGap(conversationId, lane).then(
      () => {
        lane.fetching = false;
        lane.backoff.reset();
        // Still missing (an empty page while the gap persists): try again shortly.
        if (lane.pending.size > 0 && this.lanes.get(conversationId) === lane) this.scheduleRetry(conversationId, lane);
      },
      (err: unknown) => {
        lane.fetching = false;
        if (this.lanes.get(conversationId) !== lane) return;
        if (err instanceof ParleyError && (err.status === 404 || err.status === 403)) {
          this.forget(conversationId);
          this.opts.onGone?.(conversationId);
          return;
        }
        this.opts.onError?.(err);
        this.scheduleRetry(conversationId, lane);
      },
    );
  }

  private async fetchGap(conversationId: string, lane: Lane): Promise<void> {
    while (lane.pending.size > 0 && this.lanes.get(conversationId) === lane) {
      const page = await this.opts.fetchAfter(conversationId, lane.last);
      if (this.lanes.get(conversationId) !== lane) return;
      for (const m of page.messages) if (m.index > lane.last) lane.pending.set(m.index, m);
      const before = lane.last;
      this.drain(lane);
      if (lane.last === before || !page.hasMore) return;
    }
  }

  private scheduleRetry(conversationId: string, lane: Lane): void {
    if (this.stopped || lane.retry) return;
    lane.retry = setTimeout(() => {
      lane.retry = null;
      if (this.lanes.get(conversationId) === lane && lane.pending.size > 0) this.fillGap(conversationId, lane);
    }, lane.backoff.next());
  }
}
