import { Redis } from 'ioredis';
import type { Bus, BusEnvelope, BusHandler } from './bus.js';

const CHANNEL = 'parley:bus';

/**
 * The bus across processes: one Redis PUBLISH per event on one channel, so every process
 * (this one included) receives events in the order they were published. The publisher
 * has no offline queue: while Redis is away, publishing fails at once and `problem()`
 * says why, instead of events piling up in memory.
 *
 * @example
 * const bus = await RedisBus.connect('redis://127.0.0.1:6379');
 */
export class RedisBus implements Bus {
  readonly kind = 'redis' as const;
  private readonly handlers: BusHandler[] = [];

  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly channel: string,
  ) {
    sub.on('message', (channel: string, payload: string) => {
      if (channel !== this.channel) return;
      let envelope: BusEnvelope;
      try {
        envelope = JSON.parse(payload) as BusEnvelope;
      } catch {
        return;
      }
      for (const handler of this.handlers) handler(envelope);
    });
  }

  /** Connects both clients and subscribes; rejects if Redis is unreachable at start. */
  static async connect(url: string, channel = CHANNEL): Promise<RedisBus> {
    const options = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    };
    const pub = new Redis(url, options);
    const sub = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
    // Errors surface through problem() and /readyz; without listeners ioredis would log noise.
    pub.on('error', () => undefined);
    sub.on('error', () => undefined);
    await Promise.all([pub.connect(), sub.connect()]);
    await sub.subscribe(channel);
    return new RedisBus(pub, sub, channel);
  }

  async publish(envelope: BusEnvelope): Promise<void> {
    await this.pub.publish(this.channel, JSON.stringify(envelope));
  }

  subscribe(handler: BusHandler): void {
    this.handlers.push(handler);
  }

  problem(): string | null {
    if (this.pub.status !== 'ready') return `redis publisher ${this.pub.status}`;
    if (this.sub.status !== 'ready') return `redis subscriber ${this.sub.status}`;
    return null;
  }

  async close(): Promise<void> {
    this.handlers.length = 0;
    this.pub.disconnect();
    this.sub.disconnect();
  }
}
