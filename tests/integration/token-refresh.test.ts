import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConnectionState, Message } from '@parley/sdk';
import { sharedConversation } from '../helpers/conversations.js';
import { startInProcessServer, type InProcessServer } from '../helpers/in-process-server.js';
import { nextEvent, openClient, signUp, trackedWebSocket, type TestUser } from '../helpers/users.js';

const TTL_SECONDS = 5;
let server: InProcessServer;
const users: TestUser[] = [];

beforeAll(async () => {
  server = await startInProcessServer({ PARLEY_TOKEN_TTL_SECONDS: String(TTL_SECONDS) });
});

afterAll(async () => {
  for (const u of users) await u.client.shutdown();
  await server?.close();
});

describe('SDK against a real server: short-lived tokens', () => {
  it('refreshes through getToken on the live socket, without dropping it', async () => {
    const tracked = trackedWebSocket();
    const alice = await signUp(server.baseUrl, 'ttl_a', { WebSocket: tracked.Ctor });
    const bob = await signUp(server.baseUrl, 'ttl_b');
    users.push(alice, bob);
    const [aliceConv, bobConv] = await sharedConversation('Tokens', alice, bob);
    const states: ConnectionState[] = [];
    alice.client.on('connectionStateChanged', (s) => states.push(s));
    const warned = vi.fn();
    alice.client.on('tokenAboutToExpire', warned);
    const seen: Message[] = [];
    aliceConv!.on('messageAdded', (m) => seen.push(m));

    // Outlive the first token by a few seconds (several refreshes in a row).
    const started = Date.now();
    await vi.waitFor(
      () => {
        expect(alice.tokensIssued()).toBeGreaterThanOrEqual(3);
        expect(Date.now() - started).toBeGreaterThan((TTL_SECONDS + 1) * 1000);
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(warned).toHaveBeenCalled();
    expect(states).toEqual([]); // never left 'connected'
    expect(tracked.sockets).toHaveLength(1);
    await bobConv!.sendMessage('still there?');
    await vi.waitFor(() => expect(seen.map((m) => m.body)).toEqual(['still there?']));
    expect((await aliceConv!.sendMessage('yes')).index).toBe(2);
    // REST with the refreshed token works too.
    expect((await alice.client.getSubscribedConversations()).map((c) => c.id)).toContain(aliceConv!.id);
  }, 40_000);

  it('without getToken the client is denied at expiry, and updateToken brings it back', async () => {
    const alice = await signUp(server.baseUrl, 'deny_a');
    const bob = await signUp(server.baseUrl, 'deny_b');
    users.push(alice, bob);
    const [, bobConv] = await sharedConversation('Denied', alice, bob);
    const client = await openClient(server.baseUrl, await alice.auth.getToken());
    const seen: Message[] = [];
    client.on('messageAdded', (m) => seen.push(m));
    const expired = nextEvent(client, 'tokenExpired', () => true, 15_000);
    const denied = nextEvent(client, 'connectionStateChanged', (s) => s === 'denied', 15_000);
    await expired;
    await denied;
    expect(client.connectionState).toBe('denied');

    await bobConv!.sendMessage('sent while alice was denied');
    const connected = nextEvent(client, 'connectionStateChanged', (s) => s === 'connected');
    await client.updateToken(await alice.auth.getToken());
    await connected;
    await vi.waitFor(() => expect(seen.map((m) => m.body)).toEqual(['sent while alice was denied']));
    await client.shutdown();
  }, 40_000);
});
