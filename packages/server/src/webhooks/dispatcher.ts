import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { WebhookDelivery } from '@parley/protocol';
import { presentMessage, presentParticipant } from '../domain/presenters.js';
import type { Metrics } from '../metrics.js';
import type { Bus, BusEnvelope } from '../realtime/bus.js';
import type { MessageRecord, Storage, WebhookCursor, WebhookRecord } from '../storage/storage.js';
import { SIGNATURE_HEADER, signWebhook } from './signature.js';

/** One event ready to deliver, with the cursor positions that delivering it reaches. */
interface Pending {
  delivery: WebhookDelivery;
  messageIndex: number;
  changeIndex: number;
  outboxId?: string;
}

export interface DispatcherOptions {
  timeoutMs: number;
  retryMaxMs: number;
  /**
   * How often every hooked conversation is checked for work, whatever the bus said: a safety net
   * (a bus outage, a process that died holding nothing). Bus events, retry timers and lease
   * ends start deliveries when they are due; this scan reads every cursor, so it is rare.
   */
  scanMs?: number;
  /** How many conversations are delivered at once (each one's events in order). */
  concurrency?: number;
  /** How long a process holds a conversation's delivery before another may take it over. */
  leaseMs?: number;
  /** Counts deliveries by outcome, when given. */
  metrics?: Pick<Metrics, 'webhookDeliveries'>;
}

/** Events read per stream and round. */
const BATCH = 50;
const FIRST_RETRY_MS = 1000;
/** Deliveries between two writes of a conversation's cursor. */
const SAVE_EVERY = 20;
/** Conversations one scan takes up at most; a full scan is followed by another. */
const SCAN_LIMIT = 10_000;

/**
 * Delivers webhooks (SPEC 2.8, ADR 0016): for each hooked conversation, in order, the messages
 * after its cursor (`messageAdded`), the edits and removals after its change cursor
 * (`messageUpdated`, `messageRemoved`) and the membership changes in its outbox, merged by time.
 * The cursor moves only after the receiver answered 2xx, so a crash or an outage delays events
 * but never drops them (at least once; `id` is stable for de-duplication). A failing receiver
 * is retried with doubling waits up to `retryMaxMs`, and holds back only its own conversation.
 * Processes sharing a database take a lease per conversation, so each event is sent by one;
 * the others look again when the lease ends, so a dead holder is taken over.
 *
 * @example
 * const dispatcher = new WebhookDispatcher(storage, bus, log, { timeoutMs: 10_000, retryMaxMs: 300_000 });
 * dispatcher.start();
 */
export class WebhookDispatcher {
  private readonly owner = `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
  private readonly scanMs: number;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  /** Conversations known to be hooked: bus events for them start a delivery at once. */
  private readonly hooked = new Set<string>();
  private readonly running = new Map<string, Promise<void>>();
  /** Conversations to deliver once a slot (or their own running delivery) is free. */
  private readonly queued = new Set<string>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private readonly abort = new AbortController();
  private poller: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private pollAgain = false;
  private closed = false;

  constructor(
    private readonly storage: Storage,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly options: DispatcherOptions,
  ) {
    this.scanMs = options.scanMs ?? 30_000;
    this.concurrency = options.concurrency ?? 16;
    // Long enough for a delivery to time out and its cursor to be written.
    this.leaseMs = options.leaseMs ?? options.timeoutMs * 2 + 5_000;
  }

  start(): void {
    this.bus.subscribe((envelope) => this.onEvent(envelope));
    this.poller = setInterval(() => void this.poll(), this.scanMs);
    this.poller.unref();
    // SQLite is one process's: leases left in the file are a killed predecessor's, so take
    // them back now rather than wait for them to run out (PostgreSQL's wait: others may be alive).
    const ready = this.storage.kind === 'sqlite' ? this.storage.releaseWebhookLeases() : Promise.resolve();
    void ready.catch((err: unknown) => this.log.warn({ err }, 'releasing stale webhook leases failed')).then(() => this.poll());
  }

  /** Checks every hooked conversation for work now (at start, after a webhook was set, a test). */
  poll(): Promise<void> {
    if (this.polling !== undefined) {
      // The scan in flight may have read before what asked for this one: scan once more after it.
      this.pollAgain = true;
      return this.polling;
    }
    this.polling = (async () => {
      do {
        this.pollAgain = false;
        await this.findWork();
      } while (this.pollAgain && !this.closed);
    })().finally(() => (this.polling = undefined));
    return this.polling;
  }

  /** Resolves once no delivery is running or waiting for a slot (retries on a timer do not count). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  /** Stops starting deliveries, cuts those in flight (they are retried later, by whoever runs) and hands back their leases. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.poller);
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.abort.abort();
    await this.polling;
    await Promise.allSettled([...this.running.values()]);
  }

  private onEvent(envelope: BusEnvelope): void {
    // A membership change (rare) may be the first event of a conversation just created through a
    // key with a webhook: try it, and the claim tells. Other events only for known ones.
    if (envelope.membership !== undefined && envelope.membership.kind !== 'deleted') {
      this.run(envelope.membership.conversationId);
      return;
    }
    if (this.hooked.size === 0 || !('conversationId' in envelope.audience)) return;
    const { conversationId } = envelope.audience;
    if (this.hooked.has(conversationId)) this.run(conversationId);
  }

  private async findWork(): Promise<void> {
    if (this.closed) return;
    try {
      // Which conversations bus events should start a delivery for, from now on (one that is
      // not hooked any more leaves the set at its first failed claim).
      for (const id of await this.storage.listHookedConversationIds()) this.hooked.add(id);
      const ids = await this.storage.listWebhookWork(new Date().toISOString(), SCAN_LIMIT);
      // Those beyond the concurrency wait in `queued`, started as slots free.
      for (const id of ids) {
        this.hooked.add(id);
        this.run(id);
      }
      // More than one scan holds: the next one in a second, once some of these are done.
      if (ids.length === SCAN_LIMIT) setTimeout(() => void this.poll(), 1000).unref();
    } catch (err) {
      this.log.warn({ err }, 'webhook poll failed');
    }
  }

  private run(conversationId: string): void {
    if (this.closed) return;
    if (this.running.has(conversationId) || this.running.size >= this.concurrency) {
      this.queued.add(conversationId);
      return;
    }
    const work = this.deliverConversation(conversationId)
      .catch((err: unknown) => this.log.warn({ err, conversationId }, 'webhook delivery failed'))
      .finally(() => {
        this.running.delete(conversationId);
        this.startQueued(conversationId);
      });
    this.running.set(conversationId, work);
  }

  private startQueued(finished: string): void {
    // Its own events that arrived meanwhile first, then whoever waited for a slot.
    const next = this.queued.has(finished) ? finished : this.queued.values().next().value;
    if (next === undefined) return;
    this.queued.delete(next);
    this.run(next);
  }

  private async deliverConversation(conversationId: string): Promise<void> {
    const now = Date.now();
    const cursor = await this.storage.claimWebhookCursor(conversationId, this.owner, iso(now), iso(now + this.leaseMs));
    if (cursor === undefined) {
      // Not hooked (any more).
      this.hooked.delete(conversationId);
      return;
    }
    this.hooked.add(conversationId);
    if ('heldUntil' in cursor) {
      // Another process delivers it. Should it die, its lease ends then: look again at that time.
      this.later(conversationId, Date.parse(cursor.heldUntil) - Date.now() + 100);
      return;
    }
    const key = await this.storage.getApiKey(cursor.webhook.apiKeyId);
    if (key === undefined || key.revokedAt !== null) {
      await this.fail(cursor, 'the API key of this webhook is revoked', this.options.retryMaxMs);
      return;
    }
    const position = { messageIndex: cursor.messageIndex, changeIndex: cursor.changeIndex };
    // Failed attempts in a row: a delivery in this round starts the count over, as the cursor does.
    let attempts = cursor.attempts;
    // Deliveries not written to the cursor yet: written every few events and before anything
    // else, so a crash re-sends at most those few (with the same ids), and the event loop does
    // not take SQLite's write lock once per event.
    let unsaved = 0;
    const delivered: string[] = [];
    const save = async (): Promise<boolean> => {
      if (unsaved === 0) return true;
      const held = await this.storage.advanceWebhookCursor(conversationId, this.owner, {
        ...position,
        deliveredOutboxIds: delivered.splice(0),
        leaseUntil: iso(Date.now() + this.leaseMs),
      });
      unsaved = 0;
      return held;
    };
    for (;;) {
      const events = await this.nextEvents(conversationId, position);
      if (events.length === 0) break;
      for (const event of events) {
        if (this.closed) break;
        if (cursor.webhook.events.includes(event.delivery.type)) {
          const problem = await this.post(cursor.webhook, key.secret, event.delivery);
          if (problem !== null) {
            // The lease ran out meanwhile and another process took over: it goes on from the cursor.
            if (!(await save())) return;
            if (this.closed) break;
            const wait = Math.min(this.options.retryMaxMs, FIRST_RETRY_MS * 2 ** Math.min(attempts, 30));
            await this.fail(cursor, problem, wait);
            return;
          }
          attempts = 0;
        }
        position.messageIndex = event.messageIndex;
        position.changeIndex = event.changeIndex;
        if (event.outboxId !== undefined) delivered.push(event.outboxId);
        unsaved++;
        if (unsaved >= SAVE_EVERY && !(await save())) return;
      }
      // Saved before the next read, which must not see the outbox rows just delivered again.
      if (!(await save()) || this.closed) break;
    }
    if (await save()) await this.storage.releaseWebhookCursor(conversationId, this.owner);
  }

  private async fail(cursor: WebhookCursor, problem: string, waitMs: number): Promise<void> {
    // The receiver's host only: a site may put a token of its own in the URL's path or query.
    const receiver = new URL(cursor.webhook.url).host;
    this.log.warn({ conversationId: cursor.conversationId, receiver, problem, retryInMs: waitMs }, 'webhook delivery failed; will retry');
    await this.storage.releaseWebhookCursor(cursor.conversationId, this.owner, { error: problem, nextAttemptAt: iso(Date.now() + waitMs) });
    this.later(cursor.conversationId, waitMs);
  }

  /** Runs the conversation's delivery in `ms` (replacing an earlier timer of it). */
  private later(conversationId: string, ms: number): void {
    if (this.closed) return;
    clearTimeout(this.retries.get(conversationId));
    const timer = setTimeout(() => {
      this.retries.delete(conversationId);
      this.run(conversationId);
    }, Math.max(0, ms));
    timer.unref();
    this.retries.set(conversationId, timer);
  }

  /**
   * The next events after `position`, oldest first: the three streams merged by time, as far as
   * every stream that has more than it returned still has events in hand (so nothing from a
   * later read could belong before what is returned).
   */
  private async nextEvents(conversationId: string, position: { messageIndex: number; changeIndex: number }): Promise<Pending[]> {
    const [added, changed, outbox] = await Promise.all([
      this.storage.listMessages(conversationId, { after: position.messageIndex, limit: BATCH }),
      // Changes of messages not delivered yet are left out: their `messageAdded` carries them.
      this.storage.listChangedMessages(conversationId, { afterChange: position.changeIndex, upTo: position.messageIndex, limit: BATCH }),
      this.storage.listWebhookOutbox(conversationId, BATCH),
    ]);
    const streams: { items: Pending[]; more: boolean }[] = [
      { items: added.messages.map((m) => this.addedEvent(m, position)), more: added.hasMore },
      { items: changed.messages.map((m) => this.changedEvent(m, position)), more: changed.hasMore },
      {
        items: outbox.map((row) => ({
          delivery: {
            id: row.id,
            type: row.type,
            conversationId,
            createdAt: row.createdAt,
            data: { conversationId, participant: presentParticipant(row.participant) },
          },
          messageIndex: position.messageIndex,
          changeIndex: position.changeIndex,
          outboxId: row.id,
        })),
        more: outbox.length === BATCH,
      },
    ];
    const merged: Pending[] = [];
    const at = [0, 0, 0];
    for (;;) {
      let pick = -1;
      for (let s = 0; s < streams.length; s++) {
        const stream = streams[s]!;
        if (at[s]! >= stream.items.length) {
          if (stream.more) return this.chain(merged);
          continue;
        }
        if (pick === -1 || stream.items[at[s]!]!.delivery.createdAt < streams[pick]!.items[at[pick]!]!.delivery.createdAt) pick = s;
      }
      if (pick === -1) return this.chain(merged);
      merged.push(streams[pick]!.items[at[pick]!]!);
      at[pick]!++;
    }
  }

  /** Each event's positions as reached in the merged order (the streams advance independently). */
  private chain(events: Pending[]): Pending[] {
    for (let i = 1; i < events.length; i++) {
      const before = events[i - 1]!;
      const event = events[i]!;
      event.messageIndex = Math.max(event.messageIndex, before.messageIndex);
      event.changeIndex = Math.max(event.changeIndex, before.changeIndex);
    }
    return events;
  }

  private addedEvent(m: MessageRecord, position: { changeIndex: number }): Pending {
    return {
      delivery: { id: `${m.conversationId}.message.${m.index}`, type: 'messageAdded', conversationId: m.conversationId, createdAt: m.createdAt, data: { conversationId: m.conversationId, message: presentMessage(m) } },
      messageIndex: m.index,
      changeIndex: position.changeIndex,
    };
  }

  private changedEvent(m: MessageRecord, position: { messageIndex: number }): Pending {
    const message = presentMessage(m);
    const { conversationId } = m;
    const id = `${conversationId}.change.${m.changeIndex ?? 0}`;
    const delivery: WebhookDelivery =
      m.removedAt !== undefined
        ? { id, type: 'messageRemoved', conversationId, createdAt: m.removedAt, data: { conversationId, messageId: m.id, index: m.index, message } }
        : { id, type: 'messageUpdated', conversationId, createdAt: m.editedAt ?? m.createdAt, data: { conversationId, message } };
    return {
      delivery,
      messageIndex: position.messageIndex,
      changeIndex: m.changeIndex ?? 0,
    };
  }

  /** POSTs one delivery; null when the receiver answered 2xx, otherwise what went wrong. */
  private async post(webhook: WebhookRecord, secret: string, delivery: WebhookDelivery): Promise<string | null> {
    const body = JSON.stringify(delivery);
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Parley-Webhooks/1',
          'x-parley-event': delivery.type,
          'x-parley-event-id': delivery.id,
          'x-parley-key': webhook.apiKeyId,
          [SIGNATURE_HEADER]: signWebhook(secret, body, Math.floor(Date.now() / 1000)),
        },
        body,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      await response.body?.cancel();
      this.options.metrics?.webhookDeliveries.inc({ outcome: response.ok ? 'delivered' : 'failed' });
      return response.ok ? null : `the receiver answered HTTP ${response.status}`;
    } catch (err) {
      if (!this.closed) this.options.metrics?.webhookDeliveries.inc({ outcome: 'failed' });
      const error = err as Error & { cause?: { code?: string; message?: string } };
      if (error.name === 'TimeoutError') return `no answer within ${this.options.timeoutMs} ms`;
      return `could not reach the receiver: ${error.cause?.code ?? error.cause?.message ?? error.message}`;
    }
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
