import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Message } from '@parley/protocol';
import type { DomainContext } from '../domain/context.js';
import type { Domain } from '../domain/domain.js';
import { Messages } from '../domain/messages.js';
import type { Metrics } from '../metrics.js';
import type { AppendResult, NewMessage, Storage, UserRecord } from '../storage/storage.js';
import type { Bus, BusEnvelope, BusHandler } from './bus.js';
import type { TextFrame } from './frame-writer.js';
import { Gateway } from './gateway.js';
import { MemoryBus } from './memory-bus.js';
import type { DeliveryOrigin } from './origin.js';
import { MemoryPresence } from './presence.js';

/** What the gateway needs of a connection, recording every write in one shared log. */
class FakeConnection {
  readonly subscriptions = new Set<string>();
  pendingGone: Set<string> | null = null;
  bufferedAmount = 0;
  readonly ws = { terminate: () => this.log.push(`${this.userId}: terminated`) };

  constructor(
    readonly userId: string,
    private readonly log: string[],
  ) {}

  writeFrame(frame: TextFrame): void {
    const payload = JSON.parse(frame.bytes.subarray(frame.payloadOffset).toString());
    this.log.push(`${this.userId}: ${payload.name}#${payload.data.message?.index}`);
  }
}

/** A bus that delivers later, like Redis: publish resolves, the event arrives afterwards. */
class LaterBus implements Bus {
  readonly kind = 'redis' as const;
  readonly handlers: BusHandler[] = [];
  readonly published: string[] = [];
  publish(envelope: BusEnvelope): Promise<void> {
    const wire = JSON.stringify(envelope);
    this.published.push(wire);
    setTimeout(() => {
      for (const h of this.handlers) h(JSON.parse(wire) as BusEnvelope);
    }, 5);
    return Promise.resolve();
  }
  subscribe(handler: BusHandler): void {
    this.handlers.push(handler);
  }
  onResync(): void {}
  problem(): string | null {
    return null;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const user: UserRecord = { id: 'US1', username: 'alice' } as UserRecord;
const metrics = { deliveries: { inc() {} }, connections: { inc() {}, dec() {} }, frameErrors: { inc() {} } } as unknown as Metrics;

function addTo(gateway: Gateway, conns: FakeConnection[]): void {
  const internals = gateway as unknown as {
    rooms: { addConnection(c: unknown): void; subscribe(c: unknown, id: string): void };
    local: Set<unknown>;
  };
  for (const c of conns) {
    internals.rooms.addConnection(c);
    internals.local.add(c);
    internals.rooms.subscribe(c, 'CH1');
  }
}

function setup(bus: Bus, { duplicate = false, otherGatewayFirst = false } = {}) {
  const log: string[] = [];
  let index = 0;
  const storage = {
    appendMessage: async (m: NewMessage): Promise<AppendResult> => {
      log.push(`commit`);
      index += duplicate ? 0 : 1;
      return {
        kind: 'ok',
        duplicate,
        message: { ...m, index: Math.max(index, 1), author: 'alice', clientId: m.clientId ?? null },
      };
    },
  } as unknown as Storage;
  const ctx: DomainContext = {
    storage,
    bus,
    presence: new MemoryPresence(),
    config: { sendRatePerSecond: 1000, messageMaxLength: 4000 } as DomainContext['config'],
    log: pino({ level: 'silent' }),
    now: () => new Date().toISOString(),
  };
  const messages = new Messages(ctx);
  // Another gateway on the same bus, subscribed before ours, with a connection of its own.
  const other = otherGatewayFirst ? new Gateway({ ctx, messages } as unknown as Domain, bus, ctx.log, metrics) : undefined;
  if (other) addTo(other, [new FakeConnection('erin', log)]);
  const gateway = new Gateway({ ctx, messages } as unknown as Domain, bus, ctx.log, metrics);
  const conns = ['alice', 'bob', 'carol', 'dave'].map((name) => new FakeConnection(name, log));
  addTo(gateway, conns);
  // The sending connection is not the first in the room.
  const sender = conns[2]!;
  const origin: DeliveryOrigin & { acks: number } = {
    member: sender,
    acks: 0,
    ack(message: Message) {
      this.acks += 1;
      if (this.acks === 1) log.push(`ack#${message.index}`);
    },
  };
  const send = () => messages.send(user, 'CH1', { body: 'hi', clientId: 'c1' }, origin);
  return { log, origin, send, gateway, conns, other };
}

describe('acknowledging a WebSocket send', () => {
  it('in-process bus: the sender gets its event, then the ack, then everyone else gets the event', async () => {
    const { log, origin, send, gateway } = setup(new MemoryBus());
    await send();
    expect(log).toEqual(['commit', 'carol: messageAdded#1', 'ack#1', 'alice: messageAdded#1', 'bob: messageAdded#1', 'dave: messageAdded#1']);
    expect(origin.acks).toBeGreaterThanOrEqual(1);
    await gateway.close();
  });

  it('drops a connection too far behind instead of writing to it (direct writes count in bufferedAmount)', async () => {
    const { log, send, gateway, conns } = setup(new MemoryBus());
    conns[1]!.bufferedAmount = 8 * 1024 * 1024 + 1;
    await send();
    expect(log).toEqual(['commit', 'carol: messageAdded#1', 'ack#1', 'alice: messageAdded#1', 'bob: terminated', 'dave: messageAdded#1']);
    await gateway.close();
  });

  it('in-process bus with two gateways: only the one holding the sender acks it, still after its own event', async () => {
    const { log, send, gateway, other } = setup(new MemoryBus(), { otherGatewayFirst: true });
    await send();
    expect(log).toEqual([
      'commit',
      'erin: messageAdded#1',
      'carol: messageAdded#1',
      'ack#1',
      'alice: messageAdded#1',
      'bob: messageAdded#1',
      'dave: messageAdded#1',
    ]);
    await Promise.all([gateway.close(), other!.close()]);
  });

  it('in-process bus: a retried clientId (nothing published) is acked once', async () => {
    const { log, send, gateway } = setup(new MemoryBus(), { duplicate: true });
    await send();
    expect(log).toEqual(['commit', 'ack#1']);
    await gateway.close();
  });

  it('a bus that delivers later (Redis): acked right after the commit, delivered when the event comes back', async () => {
    const bus = new LaterBus();
    const { log, send, gateway } = setup(bus);
    await send();
    expect(log).toEqual(['commit', 'ack#1']);
    // The origin never goes on the wire.
    expect(bus.published).toHaveLength(1);
    expect(bus.published[0]).not.toContain('origin');
    expect(Object.keys(JSON.parse(bus.published[0]!))).toEqual(['audience', 'event']);
    await new Promise((r) => setTimeout(r, 20));
    expect(log.slice(2).sort()).toEqual(['alice: messageAdded#1', 'bob: messageAdded#1', 'carol: messageAdded#1', 'dave: messageAdded#1']);
    await gateway.close();
  });
});
