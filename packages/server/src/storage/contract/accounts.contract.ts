import { describe, expect, it } from 'vitest';
import { UniqueViolation } from '../storage.js';
import { at, makeUser, uid, type GetStorage } from './fixtures.js';

/** Users, sessions, API keys and housekeeping. */
export function accountsContract(get: GetStorage): void {
  describe('users', () => {
    it('stores usernames lowercase and finds them case-insensitively', async () => {
      const s = get();
      const name = `Ada_${uid('')}`;
      const created = await s.createUser({ id: uid('US'), username: name, passwordHash: 'h', createdAt: at(1) });
      expect(created.username).toBe(name.toLowerCase());
      expect(await s.getUserByUsername(name.toUpperCase())).toEqual(created);
      expect(await s.getUserById(created.id)).toEqual({
        id: created.id,
        username: name.toLowerCase(),
        passwordHash: 'h',
        createdAt: at(1),
      });
    });

    it('returns undefined for unknown users', async () => {
      const s = get();
      expect(await s.getUserById(uid('US'))).toBeUndefined();
      expect(await s.getUserByUsername(`nobody_${uid('')}`)).toBeUndefined();
    });

    it('rejects a duplicate username whatever its case with UniqueViolation', async () => {
      const s = get();
      const user = await makeUser(s, 'dup');
      const again = s.createUser({ id: uid('US'), username: user.username.toUpperCase(), passwordHash: 'x', createdAt: at(2) });
      await expect(again).rejects.toBeInstanceOf(UniqueViolation);
      expect(await s.getUserByUsername(user.username)).toMatchObject({ id: user.id });
    });

    it('looks up several usernames at once, ignoring unknown ones', async () => {
      const s = get();
      const a = await makeUser(s, 'many');
      const b = await makeUser(s, 'many');
      const found = await s.getUsersByUsernames([a.username.toUpperCase(), b.username, `ghost_${uid('')}`]);
      expect(found.map((u) => u.id).sort()).toEqual([a.id, b.id].sort());
      expect(await s.getUsersByUsernames([])).toEqual([]);
    });
  });

  describe('sessions', () => {
    it('creates, reads and deletes a session', async () => {
      const s = get();
      const user = await makeUser(s);
      const session = { id: uid('SE'), userId: user.id, createdAt: at(0), expiresAt: at(3600) };
      await s.createSession(session);
      expect(await s.getSession(session.id)).toEqual(session);
      await s.deleteSession(session.id);
      expect(await s.getSession(session.id)).toBeUndefined();
      await expect(s.deleteSession(session.id)).resolves.toBeUndefined();
    });

    it('deletes only expired sessions and counts them', async () => {
      const s = get();
      const user = await makeUser(s);
      // Far-future expiry times keep other tests' sessions out of the count.
      const base = 10_000_000_000;
      const old1 = { id: uid('SE'), userId: user.id, createdAt: at(0), expiresAt: at(base + 1) };
      const old2 = { id: uid('SE'), userId: user.id, createdAt: at(0), expiresAt: at(base + 2) };
      const fresh = { id: uid('SE'), userId: user.id, createdAt: at(0), expiresAt: at(base + 1000) };
      for (const session of [old1, old2, fresh]) await s.createSession(session);
      expect(await s.deleteExpiredSessions(at(base + 2))).toBeGreaterThanOrEqual(2);
      expect(await s.getSession(old1.id)).toBeUndefined();
      expect(await s.getSession(old2.id)).toBeUndefined();
      expect(await s.getSession(fresh.id)).toEqual(fresh);
    });
  });

  describe('API keys', () => {
    it('creates, lists and revokes keys once', async () => {
      const s = get();
      const key = { id: uid('SK'), secret: 'sssh', name: 'backend', createdAt: at(5), revokedAt: null };
      await s.createApiKey(key);
      expect(await s.getApiKey(key.id)).toEqual(key);
      expect(await s.listApiKeys()).toContainEqual(key);
      expect(await s.revokeApiKey(key.id, at(6))).toBe(true);
      expect(await s.revokeApiKey(key.id, at(7))).toBe(false);
      expect((await s.getApiKey(key.id))?.revokedAt).toBe(at(6));
      expect(await s.revokeApiKey(uid('SK'), at(6))).toBe(false);
      expect(await s.getApiKey(uid('SK'))).toBeUndefined();
    });
  });

  describe('housekeeping', () => {
    it('answers ping and migrates again without error', async () => {
      const s = get();
      await expect(s.ping()).resolves.toBeUndefined();
      await expect(s.migrate()).resolves.toBeUndefined();
    });
  });
}
