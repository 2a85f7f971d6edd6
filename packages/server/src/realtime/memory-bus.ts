import type { Bus, BusEnvelope, BusHandler } from './bus.js';

/**
 * The single-process bus: delivers synchronously to every subscriber.
 *
 * @example
 * const bus = new MemoryBus();
 */
export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly handlers: BusHandler[] = [];

  publish(envelope: BusEnvelope): Promise<void> {
    for (const handler of this.handlers) handler(envelope);
    return Promise.resolve();
  }

  subscribe(handler: BusHandler): void {
    this.handlers.push(handler);
  }

  onResync(): void {
    // An in-process bus never drops events.
  }

  problem(): string | null {
    return null;
  }

  close(): Promise<void> {
    this.handlers.length = 0;
    return Promise.resolve();
  }
}
