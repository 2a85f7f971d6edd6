import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { MessagePage } from '@parley/protocol';
import { ParleyError, type Message } from '@parley/sdk';
import { sharedConversation } from '../helpers/conversations.js';
import { startInProcessServer, type InProcessServer } from '../helpers/in-process-server.js';
import { openClient, range, recordMessages, signUp, nextEvent, type TestUser } from '../helpers/users.js';

let server: InProcessServer;
const users: TestUser[] = [];

async function user(prefix: string): Promise<TestUser> {
  const u = await signUp(server.baseUrl, prefix);
  users.push(u);
  return u;
}

function indexesIn(messages: Message[], conversationId: string): number[] {
  return messages.filter((m) => m.conversationId === conversationId).map((m) => m.index);
}

beforeAll(async () => {
  server = await startInProcessServer();
});

afterAll(async () => {
  for (const u of users) await u.client.shutdown();
  await server?.close();
});

describe('SDK against a real server: chatting', () => {
  it('two clients chat both ways', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const [aliceConv, bobConv] = await sharedConversation('Both ways', alice, bob);
    const aliceSeen = recordMessages(alice.client);
    const bobSeen: Message[] = [];
    bobConv!.on('messageAdded', (m) => bobSeen.push(m));

    await aliceConv!.sendMessage('hi bob');
    await vi.waitFor(() => expect(bobSeen.map((m) => m.body)).toEqual(['hi bob']));
    await bobConv!.sendMessage('hi alice');
    await vi.waitFor(() => expect(aliceSeen.map((m) => m.body)).toEqual(['hi bob', 'hi alice']));
    expect(bobSeen.map((m) => [m.index, m.author])).toEqual([
      [1, alice.username],
      [2, bob.username],
    ]);
    expect(aliceConv!.lastMessage?.body).toBe('hi alice');
    expect(aliceConv!.unreadCount).toBe(1);
    await aliceConv!.setAllMessagesRead();
    expect(aliceConv!.unreadCount).toBe(0);
  });

  it('every tab of one user gets every message exactly once', async () => {
    const alice = await user('tabs_a');
    const bob = await user('tabs_b');
    const [aliceConv] = await sharedConversation('Tabs', alice, bob);
    const tabs = [bob.client, await openClient(server.baseUrl, await bob.auth.getToken()), await openClient(server.baseUrl, await bob.auth.getToken())];
    const seen = tabs.map((tab) => recordMessages(tab));
    for (const body of ['one', 'two', 'three', 'four', 'five']) await aliceConv!.sendMessage(body);
    for (const s of seen) await vi.waitFor(() => expect(indexesIn(s, aliceConv!.id)).toEqual([1, 2, 3, 4, 5]));
    await new Promise((r) => setTimeout(r, 100)); // nothing extra arrives late
    for (const s of seen) expect(indexesIn(s, aliceConv!.id)).toEqual([1, 2, 3, 4, 5]);
    for (const tab of tabs.slice(1)) await tab.shutdown();
  });

  it('sendMessage resolves with the acknowledged message; indexes increase by one', async () => {
    const alice = await user('ack');
    const { conversation } = await alice.client.createConversation({ title: 'Acks' });
    const acked: Message[] = [];
    for (let i = 0; i < 5; i++) acked.push(await conversation.sendMessage(`m${i}`, { attributes: { n: i } }));
    expect(acked.map((m) => m.index)).toEqual([1, 2, 3, 4, 5]);
    expect(acked[2]).toMatchObject({ body: 'm2', author: alice.username, authorId: alice.client.user.id, attributes: { n: 2 } });
    expect(acked.every((m) => typeof m.clientId === 'string' && m.clientId.length > 0)).toBe(true);
    const concurrent = await Promise.all(range(10).map((i) => conversation.sendMessage(`c${i}`)));
    expect(concurrent.map((m) => m.index).sort((a, b) => a - b)).toEqual(range(10, 6));
    expect(conversation.lastMessageIndex).toBe(15);
  });

  it('a retried clientId is acknowledged with the stored message, not duplicated', async () => {
    const alice = await user('retry');
    const bob = await user('retry_b');
    const [aliceConv, bobConv] = await sharedConversation('Retries', alice, bob);
    const bobSeen: Message[] = [];
    bobConv!.on('messageAdded', (m) => bobSeen.push(m));
    const first = await aliceConv!.sendMessage('only once', { clientId: 'fixed-client-id' });
    const again = await aliceConv!.sendMessage('only once', { clientId: 'fixed-client-id' });
    expect(again.id).toBe(first.id);
    expect(again.index).toBe(first.index);
    // Another tab of the same author retrying the same clientId is deduplicated too.
    const tab = await openClient(server.baseUrl, await alice.auth.getToken());
    const fromTab = await (await tab.getConversation(aliceConv!.id)).sendMessage('only once', { clientId: 'fixed-client-id' });
    expect(fromTab.id).toBe(first.id);
    await tab.shutdown();
    const next = await aliceConv!.sendMessage('next');
    expect(next.index).toBe(first.index + 1);
    await vi.waitFor(() => expect(bobSeen.map((m) => m.index)).toEqual([1, 2]));
    const page = await bobConv!.getMessages();
    expect(page.items.map((m) => m.body)).toEqual(['only once', 'next']);
  });

  it('pages history backwards, oldest first within a page', async () => {
    const alice = await user('history');
    const { conversation } = await alice.client.createConversation({ title: 'History' });
    for (let i = 1; i <= 25; i++) await conversation.sendMessage(`n${i}`);
    let page = await conversation.getMessages({ limit: 10 });
    expect(page.items.map((m) => m.index)).toEqual(range(10, 16));
    expect(page.hasPrevPage).toBe(true);
    page = await page.prevPage();
    expect(page.items.map((m) => m.index)).toEqual(range(10, 6));
    page = await page.prevPage();
    expect(page.items.map((m) => m.index)).toEqual(range(5, 1));
    expect(page.hasPrevPage).toBe(false);
    expect((await page.prevPage()).items).toEqual([]);
    const before = await conversation.getMessages({ before: 3 });
    expect(before.items.map((m) => m.body)).toEqual(['n1', 'n2']);
  });

  it('answers history as JSON that matches the Message schema and the sent messages exactly', async () => {
    const alice = await user('history_json');
    const { conversation } = await alice.client.createConversation({ title: 'History JSON' });
    const sent = [
      await conversation.sendMessage('quote " backslash \\ newline \n tab \t \u0001 é 中文 😀 \u2028', { attributes: { nested: { n: [1, 2.5, null, 'x"y'] } } }),
      await conversation.sendMessage('<b>not bold</b>'),
    ];
    const res = await fetch(`${server.baseUrl}/api/conversations/${conversation.id}/messages?limit=10`, {
      headers: { authorization: `Bearer ${await alice.auth.getToken()}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const page: unknown = await res.json();
    if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v));
    expect([...Value.Errors(MessagePage, page)].map((e) => `${e.path} ${e.message}`)).toEqual([]);
    expect(page).toEqual({ messages: sent, hasMore: false });
  });

  it('invitations arrive live and can be accepted; errors are typed', async () => {
    const alice = await user('inv_a');
    const bob = await user('inv_b');
    const { conversation } = await alice.client.createConversation({ title: 'Invites' });
    const received = nextEvent(bob.client, 'invitationReceived', (i) => i.conversationId === conversation.id);
    const participant = await conversation.addParticipant(bob.username);
    expect(participant.status).toBe('invited');
    expect((await received).title).toBe('Invites');
    expect((await bob.client.getInvitations()).map((i) => i.conversationId)).toContain(conversation.id);
    const added = nextEvent(bob.client, 'conversationAdded', (c) => c.id === conversation.id);
    const joined = await bob.client.acceptInvitation(conversation.id);
    expect(await added).toBe(joined);
    expect(joined.myStatus).toBe('joined');

    const err = await bob.client.getConversation('CHdoesnotexist').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParleyError);
    expect(err).toMatchObject({ code: 'conversation_not_found', status: 404 });
    await expect(alice.client.joinByInvite(`${server.baseUrl}/join/not-a-real-token`)).rejects.toMatchObject({ status: 404 });
    await expect(conversation.leave()).rejects.toMatchObject({ code: 'last_admin_cannot_leave', status: 409 });
  });
});
