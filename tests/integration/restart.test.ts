import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Message } from '@parley/sdk';
import { sharedConversation } from '../helpers/conversations.js';
import { spawnServer, type SpawnedServer } from '../helpers/spawned-server.js';
import { range, signUp, type TestUser } from '../helpers/users.js';

const servers: SpawnedServer[] = [];
const users: TestUser[] = [];

afterAll(async () => {
  for (const u of users) await u.client.shutdown();
  for (const s of servers) await s.kill('SIGKILL');
});

/**
 * Sends `count` messages with up to `window` in flight at once (so several are unacknowledged
 * at any moment), calling `onAck` after each acknowledgement.
 */
async function pipeline(send: (body: string) => Promise<Message>, count: number, window: number, onAck: (m: Message, n: number) => void) {
  const acked: Message[] = [];
  let next = 1;
  const worker = async (): Promise<void> => {
    while (next <= count) {
      const n = next++;
      const message = await send(`msg ${n}`);
      acked.push(message);
      onAck(message, acked.length);
    }
  };
  await Promise.all(range(window).map(() => worker()));
  return acked;
}

describe('SDK against a spawned server: crash and restart', () => {
  it('survives SIGKILL mid-stream: every acked message is kept and read exactly once', async () => {
    const first = await spawnServer();
    servers.push(first);
    const sender = await signUp(first.baseUrl, 'crash_s');
    const reader = await signUp(first.baseUrl, 'crash_r');
    users.push(sender, reader);
    const [senderConv, readerConv] = await sharedConversation('Crash', sender, reader);
    const seen: Message[] = [];
    readerConv!.on('messageAdded', (m) => seen.push(m));

    let restarted: Promise<SpawnedServer> | undefined;
    const ackedBeforeKill: Message[] = [];
    const acked = await pipeline((b) => senderConv!.sendMessage(b), 200, 8, (message, n) => {
      if (!restarted) ackedBeforeKill.push(message);
      if (n === 60 && !restarted) {
        restarted = first.kill('SIGKILL').then(() => spawnServer({ dataDir: first.dataDir, port: first.port }));
        restarted.then((s) => servers.push(s), () => undefined);
      }
    });
    const second = await restarted!;
    expect(second.port).toBe(first.port);

    // Every send resolved exactly once with a distinct index: nothing lost, nothing doubled.
    expect(acked.map((m) => m.index).sort((a, b) => a - b)).toEqual(range(200));
    await vi.waitFor(() => expect(seen.length).toBeGreaterThanOrEqual(200), { timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.map((m) => m.index)).toEqual(range(200));
    expect(new Set(seen.map((m) => m.id)).size).toBe(200);

    // After the restart the store holds every message acknowledged before (and after) the crash.
    const stored: Message[] = [];
    let page = await readerConv!.getMessages({ limit: 100 });
    stored.unshift(...page.items);
    while (page.hasPrevPage) {
      page = await page.prevPage();
      stored.unshift(...page.items);
    }
    expect(stored.map((m) => m.index)).toEqual(range(200));
    const storedIds = new Set(stored.map((m) => m.id));
    expect(ackedBeforeKill.length).toBeGreaterThanOrEqual(60);
    for (const m of acked) expect(storedIds.has(m.id)).toBe(true);
    expect(new Set(stored.map((m) => m.clientId)).size).toBe(200);
    expect(reader.client.connectionState).toBe('connected');
    expect(sender.client.connectionState).toBe('connected');
  }, 90_000);
});
