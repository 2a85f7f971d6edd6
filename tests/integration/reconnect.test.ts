import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConnectionState, Message } from '@parley/sdk';
import { sharedConversation } from '../helpers/conversations.js';
import { startInProcessServer, type InProcessServer } from '../helpers/in-process-server.js';
import { range, signUp, trackedWebSocket, type TestUser } from '../helpers/users.js';

let server: InProcessServer;
const users: TestUser[] = [];

beforeAll(async () => {
  server = await startInProcessServer();
});

afterAll(async () => {
  for (const u of users) await u.client.shutdown();
  await server?.close();
});

/** Sends `count` messages one after another, calling `at(n)` after the n-th ack. */
async function sendMany(send: (body: string) => Promise<Message>, count: number, at: (n: number) => void): Promise<Message[]> {
  const acked: Message[] = [];
  for (let n = 1; n <= count; n++) {
    acked.push(await send(`msg ${n}`));
    at(n);
  }
  return acked;
}

describe('SDK against a real server: reconnect', () => {
  it('a reader whose socket is cut mid-stream ends with exactly 1..200', async () => {
    const tracked = trackedWebSocket();
    const sender = await signUp(server.baseUrl, 'sender');
    const reader = await signUp(server.baseUrl, 'reader', { WebSocket: tracked.Ctor });
    users.push(sender, reader);
    const [senderConv, readerConv] = await sharedConversation('Stream', sender, reader);
    const seen: number[] = [];
    readerConv!.on('messageAdded', (m) => seen.push(m.index));
    const states: ConnectionState[] = [];
    reader.client.on('connectionStateChanged', (s) => states.push(s));

    const acked = await sendMany((b) => senderConv!.sendMessage(b), 200, (n) => {
      // Client side cut (no close handshake), then a server-side cut, mid-stream.
      if (n === 40) tracked.sockets.at(-1)?.terminate();
      if (n === 120) server.terminateSockets();
    });

    expect(acked.map((m) => m.index)).toEqual(range(200));
    await vi.waitFor(() => expect(seen.length).toBeGreaterThanOrEqual(200), { timeout: 15_000 });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual(range(200));
    expect(states.filter((s) => s === 'connected').length).toBeGreaterThanOrEqual(2);
    expect(reader.client.connectionState).toBe('connected');
    expect(readerConv!.lastMessageIndex).toBe(200);
    expect(tracked.sockets.length).toBeGreaterThanOrEqual(3);
  });

  it('sends issued while the sender is cut off are delivered once after it reconnects', async () => {
    const tracked = trackedWebSocket();
    const sender = await signUp(server.baseUrl, 'offline_s', { WebSocket: tracked.Ctor });
    const reader = await signUp(server.baseUrl, 'offline_r');
    users.push(sender, reader);
    const [senderConv, readerConv] = await sharedConversation('Offline sends', sender, reader);
    const seen: Message[] = [];
    readerConv!.on('messageAdded', (m) => seen.push(m));

    const first = senderConv!.sendMessage('before');
    await first;
    tracked.sockets.at(-1)?.terminate();
    // Queued while disconnected (and some while reconnecting): all go out after `ready`.
    const pending = range(20).map((i) => senderConv!.sendMessage(`queued ${i}`));
    const acked = await Promise.all(pending);
    expect(new Set(acked.map((m) => m.index)).size).toBe(20);
    await vi.waitFor(() => expect(seen).toHaveLength(21));
    expect(seen.map((m) => m.index)).toEqual(range(21));
    expect(new Set(seen.map((m) => m.body)).size).toBe(21);
    const history = await readerConv!.getMessages({ limit: 100 });
    expect(history.items).toHaveLength(21);
  });

  it('a conversation joined while offline is announced after reconnecting', async () => {
    const tracked = trackedWebSocket();
    const alice = await signUp(server.baseUrl, 'joiner_a');
    const bob = await signUp(server.baseUrl, 'joiner_b', { WebSocket: tracked.Ctor });
    users.push(alice, bob);
    const { conversation } = await alice.client.createConversation({ title: 'Joined while offline' });
    const invite = await conversation.createInvite();

    const added = vi.fn();
    bob.client.on('conversationAdded', added);
    // Bob's socket is offline while he joins through REST from "another device".
    tracked.setOffline(true);
    tracked.sockets.at(-1)?.terminate();
    await vi.waitFor(() => expect(bob.client.connectionState).not.toBe('connected'));
    const otherDevice = await import('@parley/sdk').then(({ AuthClient }) => new AuthClient({ baseUrl: server.baseUrl }));
    await otherDevice.signIn(bob.username, bob.password);
    const res = await fetch(`${server.baseUrl}/api/invites/${invite.token}/join`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await otherDevice.getToken()}` },
    });
    expect(res.ok).toBe(true);
    expect(added).not.toHaveBeenCalled();
    tracked.setOffline(false);
    await vi.waitFor(() => expect(added.mock.calls.map(([c]) => c.id)).toContain(conversation.id), { timeout: 10_000 });
    expect(added.mock.calls.filter(([c]) => c.id === conversation.id)).toHaveLength(1);
  });

  it('edits and removals made while a reader is away reach it once, in the order made, after it reconnects', async () => {
    const tracked = trackedWebSocket();
    const author = await signUp(server.baseUrl, 'editor');
    const reader = await signUp(server.baseUrl, 'away', { WebSocket: tracked.Ctor });
    users.push(author, reader);
    const [authorConv, readerConv] = await sharedConversation('Edited while away', author, reader);
    const added: Message[] = [];
    const changes: [string, number, string][] = [];
    readerConv!.on('messageAdded', (m) => added.push(m));
    readerConv!.on('messageUpdated', (m) => changes.push(['updated', m.index, m.body]));
    readerConv!.on('messageRemoved', ({ index, message }) => changes.push(['removed', index, message.body]));
    const sent: Message[] = [];
    for (const body of ['m1', 'm2', 'm3', 'm4']) sent.push(await authorConv!.sendMessage(body));
    const [m1, m2, m3] = sent as [Message, Message, Message];
    await vi.waitFor(() => expect(readerConv!.lastMessageIndex).toBe(4));

    // Seen live, before going away.
    await authorConv!.updateMessage(m1.id, 'm1 live');
    await vi.waitFor(() => expect(changes).toEqual([['updated', 1, 'm1 live']]));
    expect(readerConv!.lastChangeIndex).toBe(1);

    tracked.setOffline(true);
    tracked.sockets.at(-1)?.terminate();
    await vi.waitFor(() => expect(reader.client.connectionState).not.toBe('connected'));
    await authorConv!.updateMessage(m3.id, 'm3 edited');
    await authorConv!.updateMessage(m2.id, 'm2 first');
    await authorConv!.updateMessage(m2.id, 'm2 second');
    await authorConv!.removeMessage(m3.id);
    const m5 = await authorConv!.sendMessage('m5');
    await authorConv!.updateMessage(m5.id, 'm5 edited');
    expect(changes).toHaveLength(1);

    tracked.setOffline(false);
    await vi.waitFor(() => expect(added.map((m) => m.index)).toContain(5), { timeout: 10_000 });
    // Each message changed while away comes once, as it is now, in the order of its latest
    // change; the one seen live does not come again, and m5 arrives with its edit.
    expect(changes).toEqual([
      ['updated', 1, 'm1 live'],
      ['updated', 2, 'm2 second'],
      ['removed', 3, ''],
    ]);
    expect(added.find((m) => m.index === 5)).toMatchObject({ body: 'm5 edited', changeIndex: 6 });
    expect(readerConv!.lastChangeIndex).toBe(6);
    expect(readerConv!.lastMessage).toMatchObject({ index: 5, body: 'm5 edited' });

    // Away and back again with nothing changed: nothing is replayed.
    tracked.sockets.at(-1)?.terminate();
    await vi.waitFor(() => expect(tracked.sockets.filter((ws) => ws.readyState === ws.OPEN)).toHaveLength(1));
    await vi.waitFor(() => expect(reader.client.connectionState).toBe('connected'));
    await authorConv!.updateMessage(m1.id, 'm1 after');
    await vi.waitFor(() => expect(changes.at(-1)).toEqual(['updated', 1, 'm1 after']));
    expect(changes).toHaveLength(4);
    expect(added.map((m) => m.index)).toEqual([1, 2, 3, 4, 5]);
  });
});
