import { describe, expect, it } from 'vitest';
import { appendMany, at, makeConversation, makeUser, uid, type GetStorage } from './fixtures.js';

/** Participant rows, roles, invitations and read positions. */
export function participantsContract(get: GetStorage): void {
  describe('participants', () => {
    it('inserts a new participant with defaults, then updates it keeping what was not given', async () => {
      const s = get();
      const ada = await makeUser(s);
      const bob = await makeUser(s);
      const c = await makeConversation(s, ada);
      const invited = await s.setParticipantStatus(c.id, bob.id, { status: 'invited', invitedBy: ada.id, now: at(20) });
      expect(invited).toEqual({
        conversationId: c.id,
        userId: bob.id,
        username: bob.username,
        role: 'member',
        status: 'invited',
        lastReadIndex: 0,
        invitedBy: ada.id,
        createdAt: at(20),
        updatedAt: at(20),
      });
      const joined = await s.setParticipantStatus(c.id, bob.id, { status: 'joined', now: at(30) });
      expect(joined).toMatchObject({ status: 'joined', role: 'member', invitedBy: ada.id, createdAt: at(20), updatedAt: at(30) });
      const promoted = await s.setParticipantStatus(c.id, bob.id, { status: 'joined', role: 'admin', invitedBy: null, now: at(31) });
      expect(promoted).toMatchObject({ role: 'admin', invitedBy: null });
      expect(await s.getParticipant(c.id, bob.id)).toEqual(promoted);
      expect(await s.getParticipant(c.id, uid('US'))).toBeUndefined();
    });

    it('starts the read position at the newest message when joining with readFromLatest', async () => {
      const s = get();
      const ada = await makeUser(s);
      const bob = await makeUser(s);
      const c = await makeConversation(s, ada);
      await appendMany(s, c.id, ada, 3);
      const joined = await s.setParticipantStatus(c.id, bob.id, { status: 'joined', readFromLatest: true, now: at(40) });
      expect(joined.lastReadIndex).toBe(3);
      await appendMany(s, c.id, ada, 1);
      await s.setParticipantStatus(c.id, bob.id, { status: 'left', now: at(41) });
      const back = await s.setParticipantStatus(c.id, bob.id, { status: 'joined', readFromLatest: true, now: at(42) });
      expect(back.lastReadIndex).toBe(4);
    });

    it('lists every participant whatever the status, oldest first', async () => {
      const s = get();
      const ada = await makeUser(s);
      const bob = await makeUser(s);
      const eve = await makeUser(s);
      const c = await makeConversation(s, ada, { lastActivityAt: at(1) });
      await s.setParticipantStatus(c.id, bob.id, { status: 'invited', now: at(2) });
      await s.setParticipantStatus(c.id, eve.id, { status: 'joined', now: at(3) });
      await s.setParticipantStatus(c.id, eve.id, { status: 'removed', now: at(4) });
      const list = await s.listParticipants(c.id);
      expect(list.map((p) => [p.userId, p.status])).toEqual([
        [ada.id, 'joined'],
        [bob.id, 'invited'],
        [eve.id, 'removed'],
      ]);
    });

    it("lists a user's contacts: the others joined to a conversation the user is joined to, each once", async () => {
      const s = get();
      const [ada, bob, cat, dan, eve, fay] = await Promise.all([1, 2, 3, 4, 5, 6].map(() => makeUser(s)));
      if (!ada || !bob || !cat || !dan || !eve || !fay) throw new Error('six users');
      await makeConversation(s, ada, { members: [bob, cat] });
      await makeConversation(s, bob, { members: [ada] }); // bob twice
      const invited = await makeConversation(s, dan, { others: [{ userId: ada.id, role: 'member', status: 'invited', invitedBy: dan.id }] });
      const left = await makeConversation(s, ada, { members: [eve] });
      await s.setParticipantStatus(left.id, ada.id, { status: 'left', now: at(60) });
      await makeConversation(s, fay); // unrelated
      expect((await s.listContactIds(ada.id)).sort()).toEqual([bob.id, cat.id].sort());
      expect((await s.listContactIds(cat.id)).sort()).toEqual([ada.id, bob.id].sort());
      // Invited is not joined: dan and ada do not see each other until ada accepts.
      expect(await s.listContactIds(dan.id)).toEqual([]);
      await s.setParticipantStatus(invited.id, ada.id, { status: 'joined', now: at(61) });
      expect(await s.listContactIds(dan.id)).toEqual([ada.id]);
      expect(await s.listContactIds(eve.id)).toEqual([]);
      expect(await s.listContactIds(uid('US'))).toEqual([]);
    });

    it('changes roles and counts joined admins', async () => {
      const s = get();
      const ada = await makeUser(s);
      const bob = await makeUser(s);
      const c = await makeConversation(s, ada, { members: [bob] });
      expect(await s.countJoinedAdmins(c.id)).toBe(1);
      expect(await s.setParticipantRole(c.id, bob.id, 'admin', at(50))).toMatchObject({ role: 'admin', updatedAt: at(50) });
      expect(await s.countJoinedAdmins(c.id)).toBe(2);
      await s.setParticipantStatus(c.id, ada.id, { status: 'left', now: at(51) });
      expect(await s.countJoinedAdmins(c.id)).toBe(1);
      expect(await s.setParticipantRole(c.id, uid('US'), 'admin', at(52))).toBeUndefined();
    });
  });

  describe('pending invitations', () => {
    it('lists invitations with the inviter until they are answered', async () => {
      const s = get();
      const ada = await makeUser(s);
      const bob = await makeUser(s);
      const c1 = await makeConversation(s, ada);
      const c2 = await makeConversation(s, ada);
      await s.setParticipantStatus(c1.id, bob.id, { status: 'invited', invitedBy: ada.id, now: at(60) });
      await s.setParticipantStatus(c2.id, bob.id, { status: 'invited', invitedBy: null, now: at(61) });
      const pending = await s.listPendingInvitations(bob.id);
      expect(pending.map((p) => [p.conversation.id, p.invitedByUsername, p.participant.status])).toEqual([
        [c2.id, null, 'invited'],
        [c1.id, ada.username, 'invited'],
      ]);
      expect(pending[1]?.conversation).toEqual(c1);
      await s.setParticipantStatus(c1.id, bob.id, { status: 'joined', now: at(62) });
      await s.setParticipantStatus(c2.id, bob.id, { status: 'declined', now: at(63) });
      expect(await s.listPendingInvitations(bob.id)).toEqual([]);
    });
  });

  describe('markRead', () => {
    it('raises the read position, caps it at the newest message and never lowers it', async () => {
      const s = get();
      const ada = await makeUser(s);
      const bob = await makeUser(s);
      const c = await makeConversation(s, ada, { members: [bob] });
      await appendMany(s, c.id, ada, 5);
      expect(await s.markRead(c.id, bob.id, 3)).toBe(3);
      expect(await s.markRead(c.id, bob.id, 2)).toBe(3);
      expect(await s.markRead(c.id, bob.id, 99)).toBe(5);
      expect((await s.getParticipant(c.id, bob.id))?.lastReadIndex).toBe(5);
      expect(await s.markRead(c.id, uid('US'), 1)).toBeUndefined();
      expect(await s.markRead(uid('CH'), bob.id, 1)).toBeUndefined();
    });
  });
}
