import { randomBytes } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { WebhookDelivery } from '@parley/protocol';
import { presentMessage, presentParticipant } from '../domain/presenters.js';
import type { Metrics } from '../metrics.js';
import type { Bus, BusEnvelope } from '../realtime/bus.js';
import type { MessageRecord, Storage, WebhookCursor, WebhookRecord } from '../storage/storage.js';
import { SIGNATURE_HEADER, signWebhook } from './signature.js';

type Stream = 'messages' | 'changes' | 'outbox';

/** A conversation whose lease this process holds, with its cursor as delivered so far. */
interface Held {
  /** The positions here run ahead of the stored cursor until the next flush. */
  cursor: WebhookCursor;
  leaseUntil: number;
  /** Deliveries since the last flush. */
  unsaved: number;
  /** Outbox rows delivered since the last flush, to delete with it (and skip when read again). */
  delivered: string[];
  /** The last delivery, or the claim. */
  activeAt: number;
  /** The webhook was set or removed meanwhile: read its URL and events again. */
  stale: boolean;
}
const ALL_STREAMS: readonly Stream[] = ['messages', 'changes', 'outbox'];

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
/** Deliveries of one conversation after which the cursors are written at once. */
const SAVE_EVERY = 20;
/** How often the cursors of every held conversation are written. */
const FLUSH_MS = 1000;
/** Conversations one scan takes up at most; a full scan is followed by another. */
const SCAN_LIMIT = 10_000;

/**
 * Delivers webhooks (SPEC 2.8, ADR 0016): for each hooked conversation, in order, the messages
 * after its cursor (`messageAdded`), the edits and removals after its change cursor
 * (`messageUpdated`, `messageRemoved`) and the membership changes in its outbox, merged by time.
 * The cursor moves only after the receiver answered 2xx (in memory at once, in the database once
 * a second for every conversation together), so a crash or an outage delays events and may
 * repeat the last second's, but never drops them (at least once; `id` is stable for
 * de-duplication). A failing receiver
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
  /**
   * Conversations this process holds the lease of, with their cursors as delivered so far: while
   * a lease has more than half its time left (more than a delivery's timeout), a delivery starts
   * from here without claiming again (only the holder moves a cursor, so nobody else can have).
   */
  private readonly held = new Map<string, Held>();
  private flusher: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private flushAgain = false;
  /** Which of a hooked conversation's streams may have events: set by the bus, cleared by a read. */
  private readonly dirty = new Map<string, Set<Stream>>();

  private readonly abort = new AbortController();
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 });
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
    this.concurrency = options.concurrency ?? 64;
    // Long enough for a delivery to time out and its cursor to be written.
    this.leaseMs = options.leaseMs ?? options.timeoutMs * 2 + 5_000;
  }

  start(): void {
    this.bus.subscribe((envelope) => this.onEvent(envelope));
    this.poller = setInterval(() => void this.poll(), this.scanMs);
    this.poller.unref();
    this.flusher = setInterval(() => void this.flush(), FLUSH_MS);
    this.flusher.unref();
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
    // A webhook set, replaced or removed (here or, for the periodic scan, on another process):
    // cursors held in memory may carry its old URL and events, so they read it again.
    for (const entry of this.held.values()) entry.stale = true;
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
    clearInterval(this.flusher);
    // What was delivered is written, and the leases kept between deliveries are handed back, so
    // another process takes over at once.
    await this.flush(true);
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private onEvent(envelope: BusEnvelope): void {
    // Every message passes here: with nothing hooked, only membership changes go further.
    if (this.hooked.size === 0 && envelope.membership === undefined) return;
    const conversationId = conversationOf(envelope);
    if (conversationId === undefined) return;
    // A membership change (rare) may be the first event of a conversation just created through a
    // key with a webhook: try it, and the claim tells. Other events only for known ones.
    if (!this.hooked.has(conversationId) && (envelope.membership === undefined || envelope.membership.kind === 'deleted')) return;
    const name = envelope.event.name;
    this.markDirty(conversationId, name === 'messageAdded' ? ['messages'] : name === 'messageUpdated' || name === 'messageRemoved' ? ['changes'] : ['outbox']);
    this.run(conversationId);
  }

  private markDirty(conversationId: string, streams: readonly Stream[]): void {
    let set = this.dirty.get(conversationId);
    if (set === undefined) this.dirty.set(conversationId, (set = new Set()));
    for (const stream of streams) set.add(stream);
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
        this.markDirty(id, ALL_STREAMS);
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
    const entry = await this.entryOf(conversationId);
    if (entry === undefined) return;
    const { cursor } = entry;
    // Read every time (one primary-key read): a revoked key stops at its next delivery.
    const key = await this.storage.getApiKey(cursor.webhook.apiKeyId);
    if (key === undefined || key.revokedAt !== null) {
      await this.fail(entry, 'the API key of this webhook is revoked', this.options.retryMaxMs);
      return;
    }
    for (;;) {
      const streams = this.dirty.get(conversationId) ?? new Set<Stream>();
      this.dirty.delete(conversationId);
      const { events, more } = await this.nextEvents(conversationId, cursor, streams, entry.delivered);
      for (const event of events) {
        if (this.closed || this.held.get(conversationId) !== entry) return;
        if (cursor.webhook.events.includes(event.delivery.type)) {
          const problem = await this.post(cursor.webhook, key.secret, event.delivery);
          if (problem !== null) {
            if (this.closed) return;
            const wait = Math.min(this.options.retryMaxMs, FIRST_RETRY_MS * 2 ** Math.min(cursor.attempts, 30));
            await this.fail(entry, problem, wait);
            return;
          }
          cursor.attempts = 0;
        }
        cursor.messageIndex = event.messageIndex;
        cursor.changeIndex = event.changeIndex;
        if (event.outboxId !== undefined) entry.delivered.push(event.outboxId);
        entry.unsaved++;
        entry.activeAt = Date.now();
        // Written once a second for every conversation at once (`flush`), or sooner after many.
        if (entry.unsaved >= SAVE_EVERY) await this.flush();
      }
      // What was read is done. Streams that had more are read again; events that came meanwhile
      // marked theirs dirty (and queued this conversation), so they are not missed either.
      if (more.length === 0 || this.closed) return;
      this.markDirty(conversationId, more);
    }
  }

  /**
   * Writes every held conversation's deliveries since the last flush in one transaction, and
   * hands back the leases of those idle for half a lease (or, with `all`, of every one). A
   * crash loses at most a second of cursor moves: those events are sent again, with their ids.
   */
  private flush(all = false): Promise<void> {
    if (this.flushing !== undefined) {
      this.flushAgain = true;
      return this.flushing.then(() => (all ? this.flush(true) : undefined));
    }
    this.flushing = (async () => {
      do {
        this.flushAgain = false;
        await this.flushOnce(all);
      } while (this.flushAgain);
    })()
      .catch((err: unknown) => this.log.warn({ err }, 'writing webhook cursors failed'))
      .finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushOnce(all: boolean): Promise<void> {
    const now = Date.now();
    const leaseUntil = now + this.leaseMs;
    const saves: Parameters<Storage['saveWebhookCursors']>[1][number][] = [];
    const saved: Held[] = [];
    const releases: string[] = [];
    for (const [conversationId, entry] of this.held) {
      if (entry.unsaved > 0) {
        const { messageIndex, changeIndex } = entry.cursor;
        saves.push({ conversationId, messageIndex, changeIndex, deliveredOutboxIds: entry.delivered.splice(0), leaseUntil: iso(leaseUntil) });
        saved.push(entry);
        entry.unsaved = 0;
      }
      if (all || (entry.unsaved === 0 && !this.running.has(conversationId) && now - entry.activeAt > this.leaseMs / 2)) releases.push(conversationId);
    }
    for (const conversationId of releases) this.held.delete(conversationId);
    if (saves.length === 0 && releases.length === 0) return;
    const lost = new Set(await this.storage.saveWebhookCursors(this.owner, saves, releases));
    for (const [i, entry] of saved.entries()) {
      const conversationId = saves[i]!.conversationId;
      // Another process took over (this one stalled past its lease): it goes on from the stored cursor.
      if (lost.has(conversationId)) this.held.delete(conversationId);
      else entry.leaseUntil = leaseUntil;
    }
  }

  /**
   * The conversation's cursor with its lease held by this process: the one in memory while its
   * lease is fresh, else a claim. Undefined when it is not hooked or another process holds it
   * (a look again is then set for when that lease ends).
   */
  private async entryOf(conversationId: string): Promise<Held | undefined> {
    const now = Date.now();
    const kept = this.held.get(conversationId);
    if (kept !== undefined && kept.leaseUntil - now > this.leaseMs / 2) {
      if (!kept.stale) return kept;
      const webhook = await this.storage.getWebhook(kept.cursor.webhook.apiKeyId);
      if (webhook !== undefined) {
        kept.cursor.webhook = webhook;
        kept.stale = false;
        return kept;
      }
      // The webhook was removed, and its cursors with it.
      this.held.delete(conversationId);
    }
    if (kept !== undefined && kept.unsaved > 0) await this.flush();
    const claimed = await this.storage.claimWebhookCursor(conversationId, this.owner, iso(now), iso(now + this.leaseMs));
    if (claimed === undefined) {
      // Not hooked (any more).
      this.hooked.delete(conversationId);
      this.held.delete(conversationId);
      this.dirty.delete(conversationId);
      return undefined;
    }
    this.hooked.add(conversationId);
    if ('heldUntil' in claimed) {
      // Another process delivers it. Should it die, its lease ends then: look again at that time.
      this.held.delete(conversationId);
      this.markDirty(conversationId, ALL_STREAMS);
      this.later(conversationId, Date.parse(claimed.heldUntil) - Date.now() + 100);
      return undefined;
    }
    // First sight since the claim: read every stream.
    this.markDirty(conversationId, ALL_STREAMS);
    const entry: Held = { cursor: claimed, leaseUntil: now + this.leaseMs, unsaved: 0, delivered: [], activeAt: now, stale: false };
    this.held.set(conversationId, entry);
    return entry;
  }

  private async fail(entry: Held, problem: string, waitMs: number): Promise<void> {
    const { cursor } = entry;
    // What was delivered before this one is written first.
    if (entry.unsaved > 0) await this.flush();
    // The receiver's host only: a site may put a token of its own in the URL's path or query.
    const receiver = new URL(cursor.webhook.url).host;
    this.log.warn({ conversationId: cursor.conversationId, receiver, problem, retryInMs: waitMs }, 'webhook delivery failed; will retry');
    if (this.held.get(cursor.conversationId) !== entry) return; // lost meanwhile: the new holder retries
    this.held.delete(cursor.conversationId);
    await this.storage.releaseWebhookCursor(cursor.conversationId, this.owner, { error: problem, nextAttemptAt: iso(Date.now() + waitMs) });
    this.markDirty(cursor.conversationId, ALL_STREAMS);
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
  private async nextEvents(
    conversationId: string,
    position: { messageIndex: number; changeIndex: number },
    dirty: ReadonlySet<Stream>,
    delivered: readonly string[],
  ): Promise<{ events: Pending[]; more: Stream[] }> {
    const none = { messages: [], hasMore: false };
    const [added, changed, outbox] = await Promise.all([
      dirty.has('messages') ? this.storage.listMessages(conversationId, { after: position.messageIndex, limit: BATCH }) : none,
      // Changes of messages not delivered yet are left out: their `messageAdded` carries them.
      dirty.has('changes')
        ? this.storage.listChangedMessages(conversationId, { afterChange: position.changeIndex, upTo: position.messageIndex, limit: BATCH })
        : none,
      dirty.has('outbox') ? this.storage.listWebhookOutbox(conversationId, BATCH) : [],
    ]);
    // Delivered since the last flush, not deleted yet.
    const pendingOutbox = delivered.length === 0 ? outbox : outbox.filter((row) => !delivered.includes(row.id));
    const streams: { name: Stream; items: Pending[]; more: boolean }[] = [
      { name: 'messages', items: added.messages.map((m) => this.addedEvent(m, position)), more: added.hasMore },
      // A change read now may be of a message this read delivers: read the changes again after it.
      {
        name: 'changes',
        items: changed.messages.map((m) => this.changedEvent(m, position)),
        more: changed.hasMore || (dirty.has('changes') && added.messages.length > 0),
      },
      {
        name: 'outbox',
        items: pendingOutbox.map((row) => ({
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
    const more = streams.filter((s) => s.more).map((s) => s.name);
    const merged: Pending[] = [];
    const at = [0, 0, 0];
    for (;;) {
      let pick = -1;
      for (let s = 0; s < streams.length; s++) {
        const stream = streams[s]!;
        if (at[s]! >= stream.items.length) {
          // Its next event could belong before the others' remaining ones: stop here.
          if (stream.more && stream.items.length > 0) return { events: this.chain(merged), more };
          continue;
        }
        if (pick === -1 || stream.items[at[s]!]!.delivery.createdAt < streams[pick]!.items[at[pick]!]!.delivery.createdAt) pick = s;
      }
      if (pick === -1) return { events: this.chain(merged), more };
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
  private post(webhook: WebhookRecord, secret: string, delivery: WebhookDelivery): Promise<string | null> {
    const body = JSON.stringify(delivery);
    const url = new URL(webhook.url);
    const secure = url.protocol === 'https:';
    // node:http with keep-alive rather than fetch: fetch cost 3-4x the CPU per POST here
    // (380-610 against 90-190 us, measured alone), and a busy webhook is one POST per event.
    const send = secure ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      let settled = false;
      let timedOut = false;
      const settle = (problem: string | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (problem === null || !this.closed) this.options.metrics?.webhookDeliveries.inc({ outcome: problem === null ? 'delivered' : 'failed' });
        resolve(problem);
      };
      // The whole exchange, not only a silent socket.
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy();
      }, this.options.timeoutMs);
      const req = send(
        url,
        {
          method: 'POST',
          agent: secure ? this.httpsAgent : this.httpAgent,
          signal: this.abort.signal,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'Parley-Webhooks/1',
            'x-parley-event': delivery.type,
            'x-parley-event-id': delivery.id,
            'x-parley-key': webhook.apiKeyId,
            [SIGNATURE_HEADER]: signWebhook(secret, body, Math.floor(Date.now() / 1000)),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            settle(status >= 200 && status < 300 ? null : `the receiver answered HTTP ${status}`);
          });
          res.on('error', (err) => settle(`the answer broke off: ${err.message}`));
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) =>
        settle(timedOut ? `no answer within ${this.options.timeoutMs} ms` : `could not reach the receiver: ${err.code ?? err.message}`),
      );
      req.on('close', () => settle(timedOut ? `no answer within ${this.options.timeoutMs} ms` : 'the connection closed before an answer'));
      req.end(body);
    });
  }
}

/** The conversation an envelope is about, wherever its event says so. */
function conversationOf(envelope: BusEnvelope): string | undefined {
  if ('conversationId' in envelope.audience) return envelope.audience.conversationId;
  if (envelope.membership !== undefined) return envelope.membership.conversationId;
  const data = envelope.event.data as { conversationId?: unknown; invitation?: { conversationId?: unknown } };
  const id = data.conversationId ?? data.invitation?.conversationId;
  return typeof id === 'string' ? id : undefined;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
