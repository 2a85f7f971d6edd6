import { describe, expect, it } from 'vitest';
import type { InviteRecord } from '../storage.js';
import { at, makeConversation, makeUser, uid, type GetStorage } from './fixtures.js';

/** Invite links: creation, lookup, revocation and use limits. */
export function invitesContract(get: GetStorage): void {
  async function makeInvite(maxUses: number | null): Promise<InviteRecord> {
    const s = get();
    const ada = await makeUser(s);
    const c = await makeConversation(s, ada);
    const invite: InviteRecord = {
      id: uid('IN'),
      conversationId: c.id,
      tokenHash: uid('th'),
      createdBy: ada.id,
      createdAt: at(1),
      expiresAt: at(3600),
      maxUses,
      uses: 0,
      revokedAt: null,
    };
    await s.createInvite(invite);
    return invite;
  }

  describe('invites', () => {
    it('finds an invite by token hash and lists the conversation invites', async () => {
      const s = get();
      const invite = await makeInvite(3);
      expect(await s.getInviteByTokenHash(invite.tokenHash)).toEqual(invite);
      expect(await s.listInvites(invite.conversationId)).toEqual([invite]);
      expect(await s.getInviteByTokenHash(uid('th'))).toBeUndefined();
    });

    it('counts uses up to max_uses and then refuses', async () => {
      const s = get();
      const invite = await makeInvite(2);
      expect(await s.consumeInvite(invite.id)).toBe(true);
      expect(await s.consumeInvite(invite.id)).toBe(true);
      expect(await s.consumeInvite(invite.id)).toBe(false);
      expect((await s.getInviteByTokenHash(invite.tokenHash))?.uses).toBe(2);
      expect(await s.consumeInvite(uid('IN'))).toBe(false);
    });

    it('never exceeds max_uses under concurrent joins, and has no limit without one', async () => {
      const s = get();
      const limited = await makeInvite(3);
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => s.consumeInvite(limited.id)));
      expect(outcomes.filter(Boolean)).toHaveLength(3);
      const open = await makeInvite(null);
      const all = await Promise.all(Array.from({ length: 10 }, () => s.consumeInvite(open.id)));
      expect(all.every(Boolean)).toBe(true);
      expect((await s.getInviteByTokenHash(open.tokenHash))?.uses).toBe(10);
    });

    it('revokes once, only within its own conversation', async () => {
      const s = get();
      const invite = await makeInvite(null);
      expect(await s.revokeInvite(uid('CH'), invite.id, at(5))).toBe(false);
      expect(await s.revokeInvite(invite.conversationId, invite.id, at(5))).toBe(true);
      expect(await s.revokeInvite(invite.conversationId, invite.id, at(6))).toBe(false);
      expect((await s.getInviteByTokenHash(invite.tokenHash))?.revokedAt).toBe(at(5));
      expect(await s.consumeInvite(invite.id)).toBe(false);
    });
  });
}
