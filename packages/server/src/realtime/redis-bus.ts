import { Redis, type RedisOptions } from 'ioredis';
import type { Bus, BusEnvelope, BusHandler } from './bus.js';

/** The channel every process shares unless told otherwise. */
export const DEFAULT_REDIS_CHANNEL = 'parley:bus';

/** Options for `RedisBus.connect`. */
export interface RedisBusOptions {
  /**
   * Pub/sub channel; processes see each other only on the same channel. Tests and
   * deployments sharing one Redis use distinct channels (`PARLEY_REDIS_CHANNEL`).
   */
  channel?: string;
}

/** Reconnect delay in ms: 100, 200, 400 ... capped at 2 s, forever. */
function retryDelay(times: number): number {
  return Math.min(100 * 2 ** Math.min(times - 1, 5), 2000);
}

/**
 * The bus across processes: one Redis PUBLISH per event on one channel, so every process
 * (this one included) receives events in the order Redis received them.
 *
 * While Redis is away: the publisher has no offline queue, so a publish fails at once
 * instead of piling events up in memory, and `problem()` says why (sends are refused
 * before commit, `/readyz` is 503). Both clients reconnect forever with backoff; the
 * subscriber re-subscribes itself and `problem()` stays non-null until Redis has
 * confirmed the subscription, so no process reports ready while it would miss events.
 *
 * @example
 * const bus = await RedisBus.connect('redis://127.0.0.1:6379', { channel: 'parley:bus' });
 * bus.subscribe((envelope) => gateway.deliver(envelope));
 */
export class RedisBus implements Bus {
  readonly kind = 'redis' as const;
  private readonly handlers: BusHandler[] = [];
  private subscribed = false;
  private everSubscribed = false;
  private readonly resyncHandlers: Array<() => void> = [];
  private subscribing: Promise<void> | undefined;
  /** Last connection error of each client, for problem(). */
  private readonly errors = new Map<Redis, string>();
  private closed = false;

  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    readonly channel: string,
  ) {
    for (const client of [pub, sub]) {
      // Without listeners ioredis logs every failed reconnect; the reason goes to problem().
      client.on('error', (err: Error) => this.errors.set(client, err.message));
      client.on('ready', () => this.errors.delete(client));
    }
    sub.on('close', () => {
      this.subscribed = false;
    });
    sub.on('ready', () => void this.resubscribe());
    sub.on('message', (from: string, payload: string) => this.receive(from, payload));
  }

  /**
   * Connects both clients and subscribes. Rejects (and stops retrying) if Redis is
   * unreachable at start, so a misconfigured process fails fast instead of starting deaf.
   */
  static async connect(url: string, options: RedisBusOptions = {}): Promise<RedisBus> {
    const channel = options.channel ?? DEFAULT_REDIS_CHANNEL;
    const common: RedisOptions = { lazyConnect: true, retryStrategy: retryDelay };
    const pub = new Redis(url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    // autoResubscribe is off: the bus re-subscribes on 'ready' and tracks the confirmation.
    const sub = new Redis(url, { ...common, autoResubscribe: false, maxRetriesPerRequest: null });
    const bus = new RedisBus(pub, sub, channel);
    try {
      await Promise.all([pub.connect(), sub.connect()]);
      await (bus.subscribing ?? bus.resubscribe());
      if (!bus.subscribed) throw new Error(`could not subscribe to ${channel}: ${bus.errors.get(sub) ?? 'unknown error'}`);
    } catch (err) {
      await bus.close();
      throw err;
    }
    return bus;
  }

  async publish(envelope: BusEnvelope): Promise<void> {
    await this.pub.publish(this.channel, JSON.stringify(envelope));
  }

  subscribe(handler: BusHandler): void {
    this.handlers.push(handler);
  }

  onResync(handler: () => void): void {
    this.resyncHandlers.push(handler);
  }

  problem(): string | null {
    for (const [name, client] of [['publisher', this.pub], ['subscriber', this.sub]] as const) {
      if (client.status === 'ready') continue;
      const why = this.errors.get(client);
      return `redis ${name} ${client.status}${why ? ` (${why})` : ''}`;
    }
    if (!this.subscribed) return `redis subscriber not yet subscribed to ${this.channel}`;
    return null;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handlers.length = 0;
    this.pub.disconnect();
    this.sub.disconnect();
  }

  /** Subscribes on every (re)connection; the next 'ready' retries if this one fails. */
  private resubscribe(): Promise<void> {
    if (this.closed || this.sub.status !== 'ready') return Promise.resolve();
    const attempt = this.sub.subscribe(this.channel).then(
      () => {
        if (this.sub.status !== 'ready') return;
        this.subscribed = true;
        // Events published while we were unsubscribed are gone: tell the gateway.
        if (this.everSubscribed) for (const handler of this.resyncHandlers) handler();
        this.everSubscribed = true;
      },
      (err: unknown) => {
        this.errors.set(this.sub, err instanceof Error ? err.message : String(err));
      },
    );
    this.subscribing = attempt;
    return attempt;
  }

  private receive(from: string, payload: string): void {
    if (from !== this.channel) return;
    let envelope: BusEnvelope;
    try {
      envelope = JSON.parse(payload) as BusEnvelope;
    } catch {
      return;
    }
    for (const handler of this.handlers) handler(envelope);
  }
}
