import { describe, expect, it } from 'vitest';
import type { ConversationCursor } from '../storage.js';
import { appendMany, at, makeConversation, makeUser, newMessage, uid, type GetStorage } from './fixtures.js';

/** Conversations, the per-user list and deletion. */
export function conversationsContract(get: GetStorage): void {
  describe('conversations', () => {
    it('keeps unique names unique, finds a conversation by one, and lets one be cleared and taken again', async () => {
      const s = get();
      const ada = await makeUser(s);
      const name = uid('order-');
      const first = await makeConversation(s, ada, { uniqueName: name });
      await makeConversation(s, ada);
      await makeConversation(s, ada); // many conversations without one
      expect((await s.getConversation(first.id))?.uniqueName).toBe(name);
      expect(await s.findConversationByUniqueName(name, null)).toBe(first.id);
      expect(await s.findConversationByUniqueName(name.toUpperCase(), null)).toBeUndefined();
      expect(await s.findConversationByUniqueName(uid('none-'), null)).toBeUndefined();
      await expect(makeConversation(s, ada, { uniqueName: name })).rejects.toMatchObject({ name: 'UniqueViolation', what: 'uniqueName' });
      const second = await makeConversation(s, ada, { uniqueName: `${name}-2` });
      await expect(s.updateConversation(second.id, { uniqueName: name, updatedAt: at(20) })).rejects.toMatchObject({ what: 'uniqueName' });
      expect((await s.getConversation(second.id))?.uniqueName).toBe(`${name}-2`);
      expect(await s.updateConversation(first.id, { uniqueName: null, updatedAt: at(21) })).toMatchObject({ uniqueName: null });
      expect(await s.updateConversation(second.id, { uniqueName: name, updatedAt: at(22) })).toMatchObject({ uniqueName: name });
      expect(await s.findConversationByUniqueName(name, null)).toBe(second.id);
    });

    it('keeps unique names per API key: each key has its own, apart from those of conversations made without one', async () => {
      const s = get();
      const ada = await makeUser(s);
      const name = uid('order-');
      const [shop, other] = [uid('SK'), uid('SK')];
      const plain = await makeConversation(s, ada, { uniqueName: name });
      const mine = await makeConversation(s, ada, { uniqueName: name, apiKeyId: shop });
      const theirs = await makeConversation(s, ada, { uniqueName: name, apiKeyId: other });
      expect(await s.findConversationByUniqueName(name, null)).toBe(plain.id);
      expect(await s.findConversationByUniqueName(name, shop)).toBe(mine.id);
      expect(await s.findConversationByUniqueName(name, other)).toBe(theirs.id);
      expect(await s.findConversationByUniqueName(name, uid('SK'))).toBeUndefined();
      await expect(makeConversation(s, ada, { uniqueName: name, apiKeyId: shop })).rejects.toMatchObject({ what: 'uniqueName' });
      const another = await makeConversation(s, ada, { uniqueName: `${name}-b`, apiKeyId: shop });
      await expect(s.updateConversation(another.id, { uniqueName: name, updatedAt: at(20) })).rejects.toMatchObject({ what: 'uniqueName' });
    });

    it('creates a conversation with its participants and reads it back', async () => {
      const s = get();
      const ada = await makeUser(s, 'ada');
      const bob = await makeUser(s, 'bob');
      const c = await makeConversation(s, ada, { members: [bob] });
      expect(await s.getConversation(c.id)).toEqual(c);
      const participants = await s.listParticipants(c.id);
      expect(participants.map((p) => [p.username, p.role, p.status, p.lastReadIndex]).sort()).toEqual(
        [
          [ada.username, 'admin', 'joined', 0],
          [bob.username, 'member', 'joined', 0],
        ].sort(),
      );
      expect(await s.getConversation(uid('CH'))).toBeUndefined();
    });

    it('updates only the given fields', async () => {
      const s = get();
      const ada = await makeUser(s);
      const c = await makeConversation(s, ada);
      const updated = await s.updateConversation(c.id, { title: 'Renamed', attributes: { x: [1, 2] }, updatedAt: at(50) });
      expect(updated).toEqual({ ...c, title: 'Renamed', attributes: { x: [1, 2] }, updatedAt: at(50) });
      const again = await s.updateConversation(c.id, { invitePolicy: 'admins', subject: '', updatedAt: at(60) });
      expect(again).toMatchObject({ title: 'Renamed', subject: '', invitePolicy: 'admins', updatedAt: at(60) });
      expect(await s.updateConversation(uid('CH'), { title: 'x', updatedAt: at(1) })).toBeUndefined();
    });

    it('reports the newest message as the counter and last activity, on every read and after an update', async () => {
      const s = get();
      const ada = await makeUser(s);
      const bob = await makeUser(s);
      const c = await makeConversation(s, ada, { members: [bob], lastActivityAt: at(10) });
      await s.setParticipantStatus(c.id, bob.id, { status: 'invited', now: at(11) });
      await appendMany(s, c.id, ada, 3);
      const head = { lastMessageIndex: 3, lastActivityAt: at(102) };
      expect(await s.updateConversation(c.id, { title: 'Renamed', updatedAt: at(200) })).toMatchObject({ ...head, title: 'Renamed' });
      expect(await s.getConversation(c.id)).toMatchObject(head);
      const listed = await s.listConversationsForUser(ada.id, { limit: 10 });
      expect(listed.items[0]?.conversation).toMatchObject(head);
      expect(listed.items[0]?.lastMessage).toMatchObject({ index: 3, body: 'm3' });
      expect((await s.getConversationForUser(c.id, ada.id))?.conversation).toMatchObject(head);
      const [pending] = await s.listPendingInvitations(bob.id);
      expect(pending?.conversation).toMatchObject(head);
      // Rejoining from the newest message reads the same counter.
      await s.setParticipantStatus(c.id, bob.id, { status: 'joined', now: at(12), readFromLatest: true });
      expect((await s.getParticipant(c.id, bob.id))?.lastReadIndex).toBe(3);
      expect(await s.markRead(c.id, ada.id, 99)).toBe(3);
    });

    it('deletes a conversation with its messages, participants and invites', async () => {
      const s = get();
      const ada = await makeUser(s);
      const c = await makeConversation(s, ada);
      await appendMany(s, c.id, ada, 3);
      const tokenHash = uid('hash');
      await s.createInvite({ id: uid('IN'), conversationId: c.id, tokenHash, createdBy: ada.id, createdAt: at(1), expiresAt: null, maxUses: null, uses: 0, revokedAt: null });
      expect(await s.deleteConversation(c.id)).toBe(true);
      expect(await s.getConversation(c.id)).toBeUndefined();
      expect(await s.listParticipants(c.id)).toEqual([]);
      expect(await s.listMessages(c.id, { limit: 10 })).toEqual({ messages: [], hasMore: false });
      expect(await s.getInviteByTokenHash(tokenHash)).toBeUndefined();
      expect(await s.listInvites(c.id)).toEqual([]);
      expect(await s.listJoinedConversationIds(ada.id)).toEqual([]);
      expect(await s.deleteConversation(c.id)).toBe(false);
      expect(await s.appendMessage(newMessage(c.id, ada))).toEqual({ kind: 'not_participant' });
    });
  });

  describe('conversation list', () => {
    it('lists joined conversations newest activity first with cursor paging and a total', async () => {
      const s = get();
      const ada = await makeUser(s);
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) ids.push((await makeConversation(s, ada, { lastActivityAt: at(i * 10) })).id);
      // Two with the same activity time: ties are broken by id, descending.
      const tieA = await makeConversation(s, ada, { lastActivityAt: at(20), id: `${ids[2]}a` });
      const expected = [ids[4], ids[3], tieA.id, ids[2], ids[1], ids[0]];
      const seen: string[] = [];
      let cursor: ConversationCursor | undefined;
      for (let page = 0; page < 4; page += 1) {
        const { items, total } = await s.listConversationsForUser(ada.id, { limit: 2, ...(cursor ? { cursor } : {}) });
        expect(total).toBe(6);
        seen.push(...items.map((i) => i.conversation.id));
        const last = items.at(-1);
        if (last === undefined) break;
        cursor = { lastActivityAt: last.conversation.lastActivityAt, id: last.conversation.id };
      }
      expect(seen).toEqual(expected);
    });

    it('includes the participant row and the last message, and moves on new activity', async () => {
      const s = get();
      const ada = await makeUser(s);
      const bob = await makeUser(s);
      const quiet = await makeConversation(s, ada, { members: [bob], lastActivityAt: at(10) });
      const busy = await makeConversation(s, ada, { members: [bob], lastActivityAt: at(5) });
      await s.appendMessage(newMessage(busy.id, bob, { body: 'latest', createdAt: at(30) }));
      const { items } = await s.listConversationsForUser(ada.id, { limit: 10 });
      expect(items.map((i) => i.conversation.id)).toEqual([busy.id, quiet.id]);
      const [first, second] = items;
      expect(first?.conversation).toMatchObject({ lastMessageIndex: 1, lastActivityAt: at(30) });
      expect(first?.participant).toMatchObject({ userId: ada.id, username: ada.username, role: 'admin', status: 'joined' });
      expect(first?.lastMessage).toMatchObject({ index: 1, body: 'latest', author: bob.username, authorId: bob.id });
      expect(second?.lastMessage).toBeNull();
    });

    it('leaves out conversations the user is invited to, left or was removed from', async () => {
      const s = get();
      const ada = await makeUser(s);
      const bob = await makeUser(s);
      const joined = await makeConversation(s, ada, { members: [bob] });
      const invited = await makeConversation(s, ada, { others: [{ userId: bob.id, role: 'member', status: 'invited', invitedBy: ada.id }] });
      const left = await makeConversation(s, ada, { members: [bob] });
      await s.setParticipantStatus(left.id, bob.id, { status: 'left', now: at(40) });
      const result = await s.listConversationsForUser(bob.id, { limit: 10 });
      expect(result.total).toBe(1);
      expect(result.items.map((i) => i.conversation.id)).toEqual([joined.id]);
      expect(await s.listJoinedConversationIds(bob.id)).toEqual([joined.id]);
      expect(await s.getConversationForUser(invited.id, bob.id)).toBeUndefined();
      expect(await s.getConversationForUser(left.id, bob.id)).toBeUndefined();
      expect((await s.getConversationForUser(joined.id, bob.id))?.participant.userId).toBe(bob.id);
      expect(await s.listConversationsForUser(uid('US'), { limit: 10 })).toEqual({ items: [], total: 0 });
    });
  });
}
