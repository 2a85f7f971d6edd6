import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Account, groupOf, messagesOf, type Frame, type Socket } from './support/chat-client.js';
import { TcpProxy, ThrowawayRedis } from './support/fault-tools.js';
import { eventually, readyz, startServer, stopAllServers, type ServerProcess } from './support/server-process.js';
import { PG_URL, REDIS_URL, createSchema, servicesAvailable, uniqueChannel, type TestSchema } from './support/services.js';

/*
 * Faults without touching the machine's shared services: Redis is a throwaway
 * redis-server killed and restarted on its own port; PostgreSQL is reached through a TCP
 * proxy that the test cuts and restores.
 */
const available = await servicesAvailable('multi-process fault tests');

async function sendError(socket: Socket, conversationId: string, body: string): Promise<Frame> {
  try {
    await socket.send(conversationId, body);
  } catch (err) {
    const frame = (err as { frame?: Frame }).frame;
    if (frame) return frame;
    throw err;
  }
  throw new Error('send was acknowledged but should have failed');
}

describe.skipIf(!available)('faults', () => {
  let schema: TestSchema;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    schema = await createSchema();
  });

  afterAll(async () => {
    for (const socket of sockets) socket.kill();
    await stopAllServers();
    await schema?.drop();
  });

  describe('Redis goes away and comes back', () => {
    let redis: ThrowawayRedis;
    let p1: ServerProcess;
    let p2: ServerProcess;

    beforeAll(async () => {
      redis = await ThrowawayRedis.start();
      const env = { DATABASE_URL: schema.url, REDIS_URL: redis.url, PARLEY_REDIS_CHANNEL: uniqueChannel() };
      [p1, p2] = await Promise.all([startServer('p1', env), startServer('p2', env)]);
    });

    afterAll(async () => {
      await Promise.all([p1?.stop(), p2?.stop()]);
      await redis?.kill();
    });

    it('refuses sends with `unavailable`, reports not ready, and recovers fan-out without a restart', async () => {
      const ada = await Account.signUp(p1, 'ada');
      const bob = await Account.signUp(p2, 'bob');
      const room = await groupOf(p1, ada, [[bob, p2]]);
      const [adaWs, bobWs] = await Promise.all([ada.connect(p1), bob.connect(p2)]);
      sockets.push(adaWs, bobWs);
      await adaWs.send(room, 'before');
      await bobWs.event('messageAdded', (d) => (d.message as { body: string }).body === 'before');

      await redis.kill();
      for (const p of [p1, p2]) {
        const down = await eventually(`${p.name} not ready`, async () => {
          const r = await readyz(p);
          return r.status === 503 ? r : undefined;
        });
        expect(down.body.ready).toBe(false);
        expect(down.body.checks.storage).toBe('ok');
        expect(down.body.checks.bus).toMatch(/^redis (publisher|subscriber) /);
      }

      const refused = await sendError(adaWs, room, 'during outage (ws)');
      expect(refused.code).toBe('unavailable');
      expect(refused.retryAfterMs).toBe(1000);
      expect(String(refused.message)).toMatch(/redis/);
      const rest = await bob.request(p2, 'POST', `/conversations/${room}/messages`, { body: 'during outage (rest)', clientId: 'rest-1' });
      expect(rest.status).toBe(503);
      expect(rest.body).toMatchObject({ error: { code: 'unavailable' } });
      // Refused before commit: nothing was stored, so nothing can be missing from anyone's view.
      const during = await ada.api<{ messages: unknown[] }>(p1, 'GET', `/conversations/${room}/messages`);
      expect(during.messages).toHaveLength(1);
      // Sockets to Parley itself are unaffected.
      expect(adaWs.isOpen && bobWs.isOpen).toBe(true);
      // Presence cannot be told: the participant list leaves it out rather than guess.
      const listedDuring = await ada.api<{ participants: { online?: boolean }[] }>(p1, 'GET', `/conversations/${room}/participants`);
      expect(listedDuring.participants.map((p) => p.online)).toEqual([undefined, undefined]);

      await redis.start();
      for (const p of [p1, p2]) {
        const up = await eventually(`${p.name} ready again`, async () => {
          const r = await readyz(p);
          return r.status === 200 ? r : undefined;
        });
        expect(up.body).toEqual({ ready: true, checks: { storage: 'ok', bus: 'ok' } });
      }
      // Events published during the outage are gone, so each process asks its clients to
      // reconnect and resume (close 1012) rather than trust rooms that may be stale.
      expect(await adaWs.closed).toBe(1012);
      expect(await bobWs.closed).toBe(1012);
      const [ada2, bob2] = await Promise.all([ada.connect(p1), bob.connect(p2)]);
      sockets.push(ada2, bob2);
      for (const socket of [ada2, bob2]) {
        const resumed = await socket.request({ type: 'resume', positions: { [room]: 1 } });
        expect(resumed.type).toBe('resumed');
      }

      // Redis came back empty: the processes put their users back, and presence is right again.
      await eventually('presence back', async () => {
        const listed = await bob.api<{ participants: { online?: boolean }[] }>(p2, 'GET', `/conversations/${room}/participants`);
        return listed.participants.every((p) => p.online === true) ? listed : undefined;
      });

      const again = await ada2.send(room, 'after (from p1)');
      const back = await bob2.send(room, 'after (from p2)');
      expect([again.index, back.index]).toEqual([2, 3]);
      for (const socket of [ada2, bob2]) {
        await socket.event('messageAdded', (d) => (d.message as { index: number }).index === 3);
        expect(messagesOf(socket, room).map((m) => m.body)).toEqual(['after (from p1)', 'after (from p2)']);
      }
    });
  });

  describe('PostgreSQL becomes unreachable and returns', () => {
    let proxy: TcpProxy;
    let p3: ServerProcess;

    beforeAll(async () => {
      const target = new URL(PG_URL);
      proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
      const viaProxy = new URL(schema.url);
      viaProxy.host = `127.0.0.1:${proxy.port}`;
      p3 = await startServer('p3', { DATABASE_URL: viaProxy.toString(), REDIS_URL, PARLEY_REDIS_CHANNEL: uniqueChannel() });
    });

    afterAll(async () => {
      await p3?.stop();
      await proxy?.cut();
    });

    it('fails requests with a clean 5xx JSON error, stays up, and the pool recovers', async () => {
      const ada = await Account.signUp(p3, 'ada');
      const room = await groupOf(p3, ada, []);
      const ws = await ada.connect(p3);
      sockets.push(ws);
      await ws.send(room, 'one');

      // Requests in flight when the database vanishes.
      const inFlight = Array.from({ length: 20 }, (_, i) =>
        ada.request(p3, 'POST', `/conversations/${room}/messages`, { body: `burst ${i}`, clientId: `burst-${i}` }),
      );
      await new Promise((r) => setTimeout(r, 5));
      await proxy.cut();
      for (const result of await Promise.all(inFlight)) {
        if (result.status < 300) continue;
        expect(result.status).toBeGreaterThanOrEqual(500);
        expect(result.body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
        expect(JSON.stringify(result.body)).not.toMatch(/at .*\.js|ECONN|stack/);
      }

      const list = await ada.request(p3, 'GET', '/conversations');
      expect(list.status).toBeGreaterThanOrEqual(500);
      expect(list.body).toMatchObject({ error: { code: expect.any(String) } });
      const wsError = await sendError(ws, room, 'while the database is away');
      expect(['internal', 'unavailable']).toContain(wsError.code);
      expect(ws.isOpen).toBe(true);
      const down = await readyz(p3);
      expect(down.status).toBe(503);
      expect(down.body.checks.storage).toMatch(/^postgres unreachable: /);
      expect((await fetch(`${p3.url}/healthz`)).status).toBe(200);
      expect(p3.child.exitCode).toBeNull();

      await proxy.restore();
      await eventually('p3 ready again', async () => ((await readyz(p3)).status === 200 ? true : undefined));
      expect((await ada.request(p3, 'GET', '/conversations')).status).toBe(200);
      const after = await ws.send(room, 'after the database returned');
      expect(after.body).toBe('after the database returned');
      const history = await ada.api<{ messages: Array<{ index: number }> }>(p3, 'GET', `/conversations/${room}/messages`);
      expect(history.messages.map((m) => m.index)).toEqual(history.messages.map((_, i) => i + 1));
    });
  });
});
