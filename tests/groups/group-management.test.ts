import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, Invitation, Message } from '@parley/sdk';
import { errorOf, nextEvent, serverWithUsers, settle, stopAll, type TestServer, type User } from './group-helpers.js';

let server: TestServer;
let admin: User;
let ann: User;
let ben: User;
let cat: User;

beforeAll(async () => {
  let users: User[];
  ({ server, users } = await serverWithUsers('admin', 'ann', 'ben', 'cat'));
  [admin, ann, ben, cat] = users as [User, User, User, User];
});
afterAll(() => stopAll(server, [admin, ann, ben, cat]));

async function groupWith(...members: User[]): Promise<Conversation> {
  const invited = members.map((m) => nextEvent(m.client, 'invitationReceived'));
  const { conversation } = await admin.client.createConversation({ title: 'Team', participants: members.map((m) => m.name) });
  await Promise.all(invited);
  for (const m of members) await m.client.acceptInvitation(conversation.id);
  return conversation;
}

describe('creating a group with members', () => {
  it('invites named users live, lists the invitation for later, and reports unknown names', async () => {
    const live = nextEvent(ann.client, 'invitationReceived');
    const result = await admin.client.createConversation({ title: 'Launch', subject: 'Friday', participants: ['ann', 'ben', 'ghost'] });
    expect(result.invited.sort()).toEqual(['ann', 'ben']);
    expect(result.unknownUsernames).toEqual(['ghost']);
    const invitation = await live;
    expect(invitation).toMatchObject({ conversationId: result.conversation.id, title: 'Launch', subject: 'Friday', invitedBy: 'admin' });
    expect((await ben.client.getInvitations()).map((i) => i.conversationId)).toContain(result.conversation.id);
    const participants = await result.conversation.getParticipants();
    expect(participants.map((p) => [p.username, p.status, p.role]).sort()).toEqual([
      ['admin', 'joined', 'admin'],
      ['ann', 'invited', 'member'],
      ['ben', 'invited', 'member'],
    ]);
  });
});

describe('accepting and declining', () => {
  it('accept joins, decline records declined, and everyone sees the statuses live', async () => {
    const { conversation } = await admin.client.createConversation({ title: 'Votes', participants: ['ann', 'ben'] });
    const joined = nextEvent(admin.client, 'participantJoined');
    await ann.client.acceptInvitation(conversation.id);
    expect((await joined).participant).toMatchObject({ username: 'ann', status: 'joined' });
    const declined = nextEvent(ann.client, 'participantUpdated', (e) => e.participant.username === 'ben');
    await ben.client.declineInvitation(conversation.id);
    expect((await declined).participant.status).toBe('declined');
    expect((await ben.client.getInvitations()).some((i) => i.conversationId === conversation.id)).toBe(false);
    // A declined user can be invited again.
    const again = nextEvent(ben.client, 'invitationReceived');
    await conversation.addParticipant('ben');
    expect((await again).conversationId).toBe(conversation.id);
  });

  it('an invited user cannot read history, send, or see messages', async () => {
    const { conversation } = await admin.client.createConversation({ title: 'Not yet', participants: ['cat'] });
    const seen: Message[] = [];
    cat.client.on('messageAdded', (m) => void (m.conversationId === conversation.id && seen.push(m)));
    await conversation.sendMessage('before you join');
    expect((await errorOf(cat.client.getConversation(conversation.id))).code).toBe('conversation_not_found');
    const res = await fetch(`${server.url}/api/conversations/${conversation.id}/messages`, {
      headers: { authorization: `Bearer ${await cat.auth.getToken()}` },
    });
    expect(res.status).toBe(404);
    const send = await fetch(`${server.url}/api/conversations/${conversation.id}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await cat.auth.getToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'sneaky', clientId: 'x1' }),
    });
    expect(send.status).toBe(404);
    await settle(cat);
    expect(seen).toEqual([]);
    const mine = await cat.client.acceptInvitation(conversation.id);
    const history = await mine.getMessages();
    expect(history.items.map((m) => m.body)).toEqual(['before you join']);
  });
});

describe('admin powers', () => {
  it('renames, changes the subject and hands over the admin role, live for members', async () => {
    const conversation = await groupWith(ann);
    const renamed = nextEvent(ann.client, 'conversationUpdated', (c) => c.title === 'Renamed');
    await conversation.update({ title: 'Renamed', subject: 'New subject' });
    expect((await renamed).subject).toBe('New subject');
    const annId = (await conversation.getParticipants()).find((p) => p.username === 'ann')!.userId;
    const promoted = nextEvent(ann.client, 'participantUpdated', (e) => e.participant.role === 'admin');
    await conversation.setRole(annId, 'admin');
    await promoted;
    // With another admin, the original admin may now leave.
    await conversation.leave();
    const annView = await ann.client.getConversation(conversation.id);
    const list = await annView.getParticipants();
    expect(list.find((p) => p.username === 'admin')?.status).toBe('left');
  });

  it('a removed participant loses access at once: REST 404 and nothing more on their open socket', async () => {
    const conversation = await groupWith(ann, ben);
    const annConversation = await ann.client.getConversation(conversation.id);
    const annId = (await conversation.getParticipants()).find((p) => p.username === 'ann')!.userId;
    const annSaw: Message[] = [];
    ann.client.on('messageAdded', (m) => void (m.conversationId === conversation.id && annSaw.push(m)));
    await conversation.sendMessage('still here');
    const removed = nextEvent(ann.client, 'conversationRemoved');
    const benSees = nextEvent(ben.client, 'participantLeft');
    await conversation.removeParticipant(annId);
    expect(await removed).toMatchObject({ conversationId: conversation.id, reason: 'removed' });
    expect((await benSees).participant).toMatchObject({ username: 'ann', status: 'removed' });
    const benGot = nextEvent(ben.client, 'messageAdded', (m) => m.body === 'after removal');
    await conversation.sendMessage('after removal');
    await benGot;
    await settle(ann);
    expect(annSaw.map((m) => m.body)).not.toContain('after removal');
    expect((await errorOf(annConversation.getMessages())).code).toBe('conversation_not_found');
    expect((await errorOf(annConversation.sendMessage('let me back'))).code).toBe('conversation_not_found');
    expect((await ann.client.getSubscribedConversations()).map((c) => c.id)).not.toContain(conversation.id);
  });

  it('deleting removes the group live for every member and kills its history and invite links', async () => {
    const conversation = await groupWith(ann, ben);
    const invite = await conversation.createInvite();
    const annConversation = await ann.client.getConversation(conversation.id);
    const gone = [ann, ben].map((u) => nextEvent(u.client, 'conversationRemoved', (e) => e.reason === 'deleted'));
    await conversation.delete();
    await Promise.all(gone);
    for (const u of [admin, ann, ben]) {
      expect((await u.client.getSubscribedConversations()).map((c) => c.id)).not.toContain(conversation.id);
    }
    expect((await errorOf(annConversation.getMessages())).code).toBe('conversation_not_found');
    expect((await errorOf(cat.client.joinByInvite(invite.url!))).code).toBe('invite_not_found');
  });
});

describe('members', () => {
  it('a member leaves and the others see it live', async () => {
    const conversation = await groupWith(ann, ben);
    const annConversation = await ann.client.getConversation(conversation.id);
    const seen = nextEvent(ben.client, 'participantLeft');
    await annConversation.leave();
    expect((await seen).participant).toMatchObject({ username: 'ann', status: 'left' });
  });

  it('the last admin cannot leave and is told what to do instead', async () => {
    const conversation = await groupWith(ann);
    const error = await errorOf(conversation.leave());
    expect(error.code).toBe('last_admin_cannot_leave');
    expect(error.message).toMatch(/admin role|delete/);
    expect(error.status).toBe(409);
  });

  it('a member gets 403 not_admin for every admin action', async () => {
    const conversation = await groupWith(ann, ben);
    const asAnn = await ann.client.getConversation(conversation.id);
    const benId = (await conversation.getParticipants()).find((p) => p.username === 'ben')!.userId;
    const attempts = [
      asAnn.addParticipant('cat'),
      asAnn.removeParticipant(benId),
      asAnn.update({ title: 'mine' }),
      asAnn.update({ subject: 'mine' }),
      asAnn.setRole(benId, 'admin'),
      asAnn.delete(),
    ];
    for (const error of await Promise.all(attempts.map(errorOf))) {
      expect(error.code).toBe('not_admin');
      expect(error.status).toBe(403);
    }
    expect((await conversation.getParticipants()).find((p) => p.username === 'ben')?.status).toBe('joined');
  });
});

describe('who may invite by link', () => {
  it('members may by default; only admins when the group says so', async () => {
    const conversation = await groupWith(ann);
    const asAnn = await ann.client.getConversation(conversation.id);
    expect((await asAnn.createInvite()).url).toMatch(/\/join\//);
    await conversation.update({ invitePolicy: 'admins' });
    const error = await errorOf(asAnn.createInvite());
    expect(error.code).toBe('invites_admin_only');
    expect(error.status).toBe(403);
    expect((await conversation.createInvite()).token).toBeTruthy();
  });
});
