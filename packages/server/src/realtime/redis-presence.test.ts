import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { REDIS_URL, redisAvailable, until } from './redis.fixture.js';
import { RedisPresence } from './redis-presence.js';

const available = await redisAvailable('RedisPresence tests');

describe.skipIf(!available)('RedisPresence (real Redis)', () => {
  const opened: RedisPresence[] = [];
  const admin = available ? new Redis(REDIS_URL) : undefined;
  afterEach(async () => {
    for (const p of opened.splice(0)) await p.close();
  });
  afterAll(() => admin?.disconnect());

  /** Two "processes" sharing a fresh prefix. */
  async function pair(ttlMs = 15_000): Promise<{ prefix: string; a: RedisPresence; b: RedisPresence }> {
    const prefix = `parley:test:${randomUUID()}`;
    const [a, b] = await Promise.all([RedisPresence.connect(REDIS_URL, { prefix, ttlMs }), RedisPresence.connect(REDIS_URL, { prefix, ttlMs })]);
    opened.push(a, b);
    return { prefix, a, b };
  }

  it('reports only the first connection anywhere and the last one everywhere', async () => {
    const { a, b } = await pair();
    expect(await a.connected('ada')).toBe(true);
    expect(await a.connected('ada')).toBe(false); // already marked here
    expect(await b.connected('ada')).toBe(false); // online through a
    expect(await a.online(['ada', 'bob'])).toEqual(new Set(['ada']));
    expect(await b.online(['ada', 'bob'])).toEqual(new Set(['ada']));
    expect(await a.disconnected('ada')).toBe(false); // still on b
    expect(await a.disconnected('ada')).toBe(false); // not here any more
    expect(await b.disconnected('ada')).toBe(true);
    expect(await a.online(['ada'])).toEqual(new Set());
    expect(await a.online([])).toEqual(new Set());
  });

  it('takes a process that stopped beating for dead: its users no one else has go offline, once', async () => {
    const { prefix, a, b } = await pair(300);
    const lost: string[][] = [];
    for (const p of [a, b]) p.onChange((userIds, online) => void (online ? undefined : lost.push(userIds.sort())));
    await b.connected('shared');
    // A process that died without leaving: listed, holding users, no heartbeat.
    await admin!.sadd(`${prefix}:procs`, 'Pdead');
    await admin!.sadd(`${prefix}:users:Pdead`, 'only-dead', 'shared');
    await until(() => lost.length > 0, 'the dead process reaped', 3000);
    await new Promise((r) => setTimeout(r, 300)); // a few more beats: reaped once
    expect(lost).toEqual([['only-dead']]);
    expect(await admin!.sismember(`${prefix}:procs`, 'Pdead')).toBe(0);
    expect(await admin!.exists(`${prefix}:users:Pdead`)).toBe(0);
    expect(await a.online(['only-dead', 'shared'])).toEqual(new Set(['shared']));
  });

  it('puts its users back and announces them when it was taken for dead while alive', async () => {
    const { prefix, a, b } = await pair(600);
    const changes: [string[], boolean][] = [];
    a.onChange((userIds, online) => changes.push([userIds, online]));
    await a.connected('paused');
    await a.connected('elsewhere-too');
    await b.connected('elsewhere-too');
    // What another process's reap does to a process whose beats stopped for longer than the ttl.
    await admin!.srem(`${prefix}:procs`, a.id);
    await admin!.del(`${prefix}:users:${a.id}`);
    expect(await b.online(['paused'])).toEqual(new Set());
    await until(() => changes.length > 0, 'a back', 3000);
    // Only the user no other process had is announced again.
    expect(changes).toEqual([[['paused'], true]]);
    expect(await b.online(['paused', 'elsewhere-too'])).toEqual(new Set(['paused', 'elsewhere-too']));
    expect(await admin!.sismember(`${prefix}:procs`, a.id)).toBe(1);
  });

  it('leaves in good order on close: its keys go', async () => {
    const { prefix, a } = await pair();
    await a.connected('ada');
    await a.disconnected('ada');
    opened.splice(opened.indexOf(a), 1);
    await a.close();
    expect(await admin!.sismember(`${prefix}:procs`, a.id)).toBe(0);
    expect(await admin!.exists(`${prefix}:alive:${a.id}`, `${prefix}:users:${a.id}`)).toBe(0);
  });
});
