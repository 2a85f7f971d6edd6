import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEnvelope } from './bus.js';
import { RedisBus } from './redis-bus.js';
import { REDIS_URL, redisAvailable, until } from './redis.fixture.js';

const available = await redisAvailable('RedisBus tests');

function envelope(n: number): BusEnvelope {
  return {
    audience: { conversationId: 'CH1' },
    event: { name: 'typingStarted', data: { conversationId: 'CH1', userId: `US${n}`, username: `u${n}` } },
  };
}

describe.skipIf(!available)('RedisBus (real Redis)', () => {
  const channel = `parley:test:${randomUUID()}`;
  let a: RedisBus;
  let b: RedisBus;
  let spy: Redis;
  const raw: string[] = [];

  beforeAll(async () => {
    [a, b] = await Promise.all([RedisBus.connect(REDIS_URL, { channel }), RedisBus.connect(REDIS_URL, { channel })]);
    // An independent subscriber counts the PUBLISHes on the channel.
    spy = new Redis(REDIS_URL);
    await spy.subscribe(channel);
    spy.on('message', (_c: string, payload: string) => raw.push(payload));
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    spy?.disconnect();
  });

  it('subscribes on its own channel and reports healthy', async () => {
    expect(a.problem()).toBeNull();
    const admin = new Redis(REDIS_URL);
    const numsub = (await admin.pubsub('NUMSUB', channel)) as [string, number];
    admin.disconnect();
    expect(Number(numsub[1])).toBe(3);
  });

  it('publishes once per event, keeps order, and both buses see each other', async () => {
    raw.length = 0;
    const seenA: BusEnvelope[] = [];
    const seenB: BusEnvelope[] = [];
    a.subscribe((e) => seenA.push(e));
    b.subscribe((e) => seenB.push(e));
    const count = 200;
    // Interleave publishers: a publishes evens, b odds, each in sequence.
    const publishes: Promise<void>[] = [];
    for (let i = 0; i < count; i += 1) publishes.push((i % 2 === 0 ? a : b).publish(envelope(i)));
    await Promise.all(publishes);
    await until(() => seenA.length >= count && seenB.length >= count && raw.length >= count, 'deliveries');
    await new Promise((r) => setTimeout(r, 50));

    expect(raw).toHaveLength(count);
    expect(seenA).toHaveLength(count);
    expect(seenB).toHaveLength(count);
    // Both processes see the same global order, and each publisher's own order is kept.
    expect(seenA).toEqual(seenB);
    const ids = seenA.map((e) => Number((e.event.data as { userId: string }).userId.slice(2)));
    expect(ids.filter((n) => n % 2 === 0)).toEqual([...Array(count / 2).keys()].map((k) => k * 2));
    expect(ids.filter((n) => n % 2 === 1)).toEqual([...Array(count / 2).keys()].map((k) => k * 2 + 1));
  });

  it('does not see events of another channel', async () => {
    const other = await RedisBus.connect(REDIS_URL, { channel: `${channel}:other` });
    const seen: BusEnvelope[] = [];
    other.subscribe((e) => seen.push(e));
    const mine: BusEnvelope[] = [];
    a.subscribe((e) => mine.push(e));
    await a.publish(envelope(1));
    await other.publish(envelope(2));
    await until(() => seen.length === 1 && mine.length === 1, 'one event each');
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.map((e) => e.event.data)).toEqual([envelope(2).event.data]);
    expect(mine.map((e) => e.event.data)).toEqual([envelope(1).event.data]);
    await other.close();
  });

  it('recovers and re-subscribes after its connections are killed', async () => {
    const seen: BusEnvelope[] = [];
    b.subscribe((e) => seen.push(e));
    const admin = new Redis(REDIS_URL);
    // Kill b's two connections server-side (only those: this Redis is shared), the way a
    // Redis restart or a network drop looks to the process.
    const internals = b as unknown as { pub: Redis; sub: Redis };
    for (const client of [internals.pub, internals.sub]) {
      const local = client.stream as { localAddress?: string; localPort?: number };
      await admin.client('KILL', 'ADDR', `${local.localAddress ?? '127.0.0.1'}:${local.localPort ?? 0}`);
    }
    await until(() => b.problem() !== null, 'problem reported', 2000);
    await until(() => b.problem() === null, 'recovery');
    await a.publish(envelope(7));
    await until(() => seen.length === 1, 'event after reconnect');
    admin.disconnect();
  });

  it('rejects at start when Redis is unreachable, without leaking a reconnect loop', async () => {
    await expect(RedisBus.connect('redis://127.0.0.1:1', { channel })).rejects.toThrow();
  });
});
