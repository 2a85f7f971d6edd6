import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '@parley/protocol';
import { Account, groupOf } from './support/chat-client.js';
import { FailoverClient } from './support/failover-client.js';
import { startServer, stopAllServers, type ServerProcess } from './support/server-process.js';
import { REDIS_URL, createSchema, servicesAvailable, uniqueChannel, type TestSchema } from './support/services.js';

/*
 * SIGKILL one of two processes while both have senders and receivers: the killed
 * process's clients reconnect to the survivor and resume; every acknowledged message is
 * present exactly once, everywhere.
 */
const available = await servicesAvailable('multi-process failover tests');

describe.skipIf(!available)('SIGKILL of one process mid-stream', () => {
  let schema: TestSchema;
  let p1: ServerProcess;
  let p2: ServerProcess;
  const clients: FailoverClient[] = [];

  beforeAll(async () => {
    schema = await createSchema();
    const env = { DATABASE_URL: schema.url, REDIS_URL, PARLEY_REDIS_CHANNEL: uniqueChannel() };
    p1 = await startServer('p1', env);
    p2 = await startServer('p2', env);
  });

  afterAll(async () => {
    for (const client of clients) client.stop();
    await stopAllServers();
    await schema?.drop();
  });

  it('moves the killed process clients to the survivor with nothing lost or duplicated', async () => {
    const ada = await Account.signUp(p1, 'ada'); // sends via p1
    const bob = await Account.signUp(p2, 'bob'); // sends via p2
    const cy = await Account.signUp(p1, 'cy'); // reads via p1
    const dan = await Account.signUp(p2, 'dan'); // reads via p2
    const room = await groupOf(p1, ada, [[bob, p2], [cy, p1], [dan, p2]]);
    const start = (who: Account, home: ServerProcess, away: ServerProcess): Promise<FailoverClient> =>
      FailoverClient.start(who, [home, away], room).then((client) => {
        clients.push(client);
        return client;
      });
    const [adaC, bobC, cyC, danC] = await Promise.all([start(ada, p1, p2), start(bob, p2, p1), start(cy, p1, p2), start(dan, p2, p1)]);

    const perSender = 120;
    const killAfter = 40;
    const acked: Message[] = [];
    let killed: Promise<void> | undefined;
    const stream = async (client: FailoverClient, name: string): Promise<void> => {
      for (let i = 0; i < perSender; i += 1) {
        acked.push(await client.send(`${name} ${i}`, `${name}-${i}`));
        // Kill without waiting: ada's next sends are in flight on the dying process.
        if (name === 'ada' && i === killAfter) killed = p1.stop('SIGKILL');
      }
    };
    await Promise.all([stream(adaC, 'ada'), stream(bobC, 'bob')]);
    await killed;
    expect(await p1.exited).toBe('SIGKILL');

    const total = perSender * 2;
    // Each acknowledged clientId is stored exactly once, with indexes 1..total.
    const stored = new Map<number, Message>();
    for (let after = 0; ; ) {
      const page = await ada.api<{ messages: Message[]; hasMore: boolean }>(p2, 'GET', `/conversations/${room}/messages?after=${after}&limit=100`);
      for (const m of page.messages) stored.set(m.index, m);
      if (!page.hasMore) break;
      after = page.messages.at(-1)!.index;
    }
    expect([...stored.keys()]).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const clientIds = [...stored.values()].map((m) => m.clientId);
    expect(new Set(clientIds).size).toBe(total);
    expect(new Set(acked.map((m) => m.clientId))).toEqual(new Set(clientIds));
    for (const m of acked) expect(stored.get(m.index)?.id).toBe(m.id);

    for (const client of [adaC, bobC, cyC, danC]) {
      await client.waitFor(total);
      expect(client.messages.size).toBe(total);
      expect([...client.messages.values()].map((m) => m.id).sort()).toEqual([...stored.values()].map((m) => m.id).sort());
    }
    // The clients of p1 moved to p2; bob and dan never lost their socket.
    expect(adaC.reconnects).toBeGreaterThanOrEqual(1);
    expect(cyC.reconnects).toBeGreaterThanOrEqual(1);
    expect(bobC.reconnects).toBe(0);
    expect(danC.reconnects).toBe(0);
  });
});
