import { describe, expect, it } from 'vitest';
import type { AppendResult } from '../storage.js';
import { expectOk, makeConversation, makeUser, newMessage, uid, type GetStorage } from './fixtures.js';

/**
 * Appends issued in the same moment (one batch on SQLite, concurrent statements on
 * PostgreSQL): each outcome is the one it would have alone, and no index is skipped.
 */
export function batchedAppendsContract(get: GetStorage): void {
  describe('appendMessage in one moment', () => {
    it('mixes duplicates, outsiders, a failing item and two conversations, failing only the bad item', async () => {
      const s = get();
      const ada = await makeUser(s);
      const bob = await makeUser(s);
      const eve = await makeUser(s);
      const one = await makeConversation(s, ada, { members: [bob] });
      const two = await makeConversation(s, ada, { members: [bob] });
      const first = expectOk(await s.appendMessage(newMessage(one.id, ada, { clientId: 'kept' }))).message;

      const sends: Promise<AppendResult>[] = [
        s.appendMessage(newMessage(one.id, ada, { body: 'a' })),
        s.appendMessage(newMessage(two.id, bob, { body: 'b' })),
        s.appendMessage(newMessage(one.id, eve)),
        s.appendMessage(newMessage(one.id, ada, { clientId: 'kept', body: 'retry' })),
        s.appendMessage(newMessage(one.id, ada, { id: first.id })),
        s.appendMessage(newMessage(two.id, ada, { body: 'c' })),
        s.appendMessage(newMessage(uid('CH'), ada)),
        s.appendMessage(newMessage(one.id, bob, { body: 'd', clientId: 'twice' })),
        s.appendMessage(newMessage(one.id, bob, { body: 'e', clientId: 'twice' })),
        s.appendMessage(newMessage(one.id, ada, { body: 'f' })),
      ];
      const settled = await Promise.allSettled(sends);
      const value = (i: number): AppendResult => {
        const r = settled[i];
        if (r?.status !== 'fulfilled') throw new Error(`send ${i} was rejected`);
        return r.value;
      };

      expect(settled[4]?.status).toBe('rejected');
      expect(value(2)).toEqual({ kind: 'not_participant' });
      expect(value(6)).toEqual({ kind: 'not_participant' });
      expect(value(3)).toEqual({ kind: 'ok', duplicate: true, message: first });
      const twice = [expectOk(value(7)), expectOk(value(8))];
      expect(twice.filter((r) => r.duplicate)).toHaveLength(1);
      expect(twice[0]?.message).toEqual(twice[1]?.message);

      const newIn = (id: string, picks: number[]) =>
        picks.map((i) => expectOk(value(i))).filter((r) => !r.duplicate).map((r) => r.message.index).sort((a, b) => a - b);
      expect(newIn(one.id, [0, 7, 8, 9])).toEqual([2, 3, 4]);
      expect(newIn(two.id, [1, 5])).toEqual([1, 2]);
      expect((await s.getConversation(one.id))?.lastMessageIndex).toBe(4);
      expect((await s.getConversation(two.id))?.lastMessageIndex).toBe(2);
      const stored = await s.listMessages(one.id, { limit: 10 });
      expect(stored.messages.map((m) => m.index)).toEqual([1, 2, 3, 4]);
      // Concurrent statements (PostgreSQL) may store either of the two same-client-id sends.
      const kept = twice.find((r) => !r.duplicate)?.message.body ?? 'none';
      expect(stored.messages.map((m) => m.body).sort()).toEqual(['a', kept, 'f', 'hello'].sort());
      expect((await s.listMessages(two.id, { limit: 10 })).messages.map((m) => m.body).sort()).toEqual(['b', 'c']);
    });

    it('keeps appending after a failed item: the next moment continues the same sequence', async () => {
      const s = get();
      const ada = await makeUser(s);
      const c = await makeConversation(s, ada);
      const taken = expectOk(await s.appendMessage(newMessage(c.id, ada))).message.id;
      await Promise.allSettled([s.appendMessage(newMessage(c.id, ada, { id: taken })), s.appendMessage(newMessage(c.id, ada, { id: taken }))]);
      const next = expectOk(await s.appendMessage(newMessage(c.id, ada)));
      expect(next.message.index).toBe(2);
      expect((await s.listMessages(c.id, { limit: 10 })).messages.map((m) => m.index)).toEqual([1, 2]);
    });
  });
}
