import { describe, expect, it } from 'vitest';
import type { AppendResult, MessageRecord } from '../storage.js';
import { appendMany, at, expectOk, makeConversation, makeUser, newMessage, uid, type GetStorage } from './fixtures.js';

/** Appending (indexes, idempotency, membership) and history paging. */
export function messagesContract(get: GetStorage): void {
  describe('appendMessage', () => {
    it('assigns indexes 1, 2, 3 and updates the conversation', async () => {
      const s = get();
      const ada = await makeUser(s);
      const c = await makeConversation(s, ada);
      const first = expectOk(await s.appendMessage(newMessage(c.id, ada, { body: 'one', attributes: { k: 'v' }, createdAt: at(200) })));
      expect(first.duplicate).toBe(false);
      expect(first.message).toMatchObject({ index: 1, body: 'one', author: ada.username, authorId: ada.id, attributes: { k: 'v' }, createdAt: at(200) });
      expect(await appendMany(s, c.id, ada, 2)).toEqual([2, 3]);
      expect(await s.getConversation(c.id)).toMatchObject({ lastMessageIndex: 3, lastActivityAt: at(101) });
      const stored = await s.listMessages(c.id, { limit: 1, after: 0 });
      expect(stored.messages[0]).toEqual(first.message);
    });

    it('refuses authors who are not joined, and unknown conversations', async () => {
      const s = get();
      const ada = await makeUser(s);
      const bob = await makeUser(s);
      const eve = await makeUser(s);
      const c = await makeConversation(s, ada, { members: [bob], others: [{ userId: eve.id, role: 'member', status: 'invited', invitedBy: ada.id }] });
      expect(await s.appendMessage(newMessage(c.id, eve))).toEqual({ kind: 'not_participant' });
      expect(await s.appendMessage(newMessage(uid('CH'), ada))).toEqual({ kind: 'not_participant' });
      expectOk(await s.appendMessage(newMessage(c.id, bob)));
      await s.setParticipantStatus(c.id, bob.id, { status: 'removed', now: at(300) });
      expect(await s.appendMessage(newMessage(c.id, bob))).toEqual({ kind: 'not_participant' });
      expect((await s.getConversation(c.id))?.lastMessageIndex).toBe(1);
    });

    it('returns the stored message for a retried client id and writes nothing', async () => {
      const s = get();
      const ada = await makeUser(s);
      const bob = await makeUser(s);
      const c = await makeConversation(s, ada, { members: [bob] });
      const original = expectOk(await s.appendMessage(newMessage(c.id, ada, { clientId: 'same', body: 'first' })));
      const retry = expectOk(await s.appendMessage(newMessage(c.id, ada, { clientId: 'same', body: 'second' })));
      expect(retry).toEqual({ kind: 'ok', duplicate: true, message: original.message });
      // The same client id from another author, or no client id at all, is a new message.
      expect(expectOk(await s.appendMessage(newMessage(c.id, bob, { clientId: 'same' }))).message.index).toBe(2);
      expect(expectOk(await s.appendMessage(newMessage(c.id, ada, { clientId: null }))).message.index).toBe(3);
      expect(expectOk(await s.appendMessage(newMessage(c.id, ada, { clientId: null }))).message.index).toBe(4);
      expect((await s.getConversation(c.id))?.lastMessageIndex).toBe(4);
    });

    it('stores one message when the same client id is sent concurrently', async () => {
      const s = get();
      const ada = await makeUser(s);
      const c = await makeConversation(s, ada);
      const sends = Array.from({ length: 10 }, () => s.appendMessage(newMessage(c.id, ada, { clientId: 'retry-storm' })));
      const results = (await Promise.all(sends)).map((r) => expectOk(r));
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
      expect(results.every((r) => r.message.index === 1)).toBe(true);
      expect((await s.getConversation(c.id))?.lastMessageIndex).toBe(1);
    });

    it('keeps indexes gapless under 200 concurrent appends across conversations', async () => {
      const s = get();
      const users = await Promise.all([1, 2, 3, 4].map(() => makeUser(s)));
      const [admin, ...members] = users as [typeof users[number], ...typeof users];
      const conversations = await Promise.all([1, 2, 3, 4].map(() => makeConversation(s, admin, { members })));
      const sends: Promise<AppendResult>[] = [];
      for (let i = 0; i < 200; i += 1) {
        const conversation = conversations[i % conversations.length];
        const author = users[i % users.length];
        if (conversation === undefined || author === undefined) throw new Error('fixture');
        sends.push(s.appendMessage(newMessage(conversation.id, author, { body: `n${i}` })));
      }
      const results = (await Promise.all(sends)).map((r) => expectOk(r));
      for (const conversation of conversations) {
        const indexes = results.filter((r) => r.message.conversationId === conversation.id).map((r) => r.message.index);
        expect(indexes.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, k) => k + 1));
        const page = await s.listMessages(conversation.id, { limit: 100 });
        expect(page.messages.map((m) => m.index)).toEqual(Array.from({ length: 50 }, (_, k) => k + 1));
        expect((await s.getConversation(conversation.id))?.lastMessageIndex).toBe(50);
      }
    });

    it('fails a bad append alone, leaving the others of the same moment intact and gapless', async () => {
      const s = get();
      const ada = await makeUser(s);
      const c = await makeConversation(s, ada);
      const taken = expectOk(await s.appendMessage(newMessage(c.id, ada))).message.id;
      const sends = [
        s.appendMessage(newMessage(c.id, ada)),
        s.appendMessage(newMessage(c.id, ada, { id: taken })),
        s.appendMessage(newMessage(c.id, ada)),
      ];
      const [a, bad, b] = await Promise.allSettled(sends);
      expect(bad?.status).toBe('rejected');
      const ok = [a, b].map((r) => (r?.status === 'fulfilled' ? expectOk(r.value).message.index : -1));
      expect(ok.sort()).toEqual([2, 3]);
      expect((await s.getConversation(c.id))?.lastMessageIndex).toBe(3);
    });
  });

  describe('listMessages', () => {
    it('pages backwards from the newest and forwards from an index, oldest first', async () => {
      const s = get();
      const ada = await makeUser(s);
      const c = await makeConversation(s, ada);
      await appendMany(s, c.id, ada, 12);
      const bodies = (r: { messages: { body: string }[] }) => r.messages.map((m) => m.body);
      const newest = await s.listMessages(c.id, { limit: 5 });
      expect(bodies(newest)).toEqual(['m8', 'm9', 'm10', 'm11', 'm12']);
      expect(newest.hasMore).toBe(true);
      const older = await s.listMessages(c.id, { before: 8, limit: 5 });
      expect(older.messages.map((m) => m.index)).toEqual([3, 4, 5, 6, 7]);
      expect(older.hasMore).toBe(true);
      expect(await s.listMessages(c.id, { before: 3, limit: 5 })).toMatchObject({ hasMore: false });
      expect((await s.listMessages(c.id, { before: 3, limit: 5 })).messages.map((m) => m.index)).toEqual([1, 2]);
      const forward = await s.listMessages(c.id, { after: 2, limit: 4 });
      expect(forward.messages.map((m) => m.index)).toEqual([3, 4, 5, 6]);
      expect(forward.hasMore).toBe(true);
      const tail = await s.listMessages(c.id, { after: 8, limit: 4 });
      expect(tail.messages.map((m) => m.index)).toEqual([9, 10, 11, 12]);
      expect(tail.hasMore).toBe(false);
      expect(await s.listMessages(c.id, { after: 12, limit: 4 })).toEqual({ messages: [], hasMore: false });
      expect((await s.listMessages(c.id, { limit: 12 })).hasMore).toBe(false);
    });

    it('gives the same pages as JSON text, for any body, client id and attributes', async () => {
      const s = get();
      const ada = await makeUser(s);
      const bob = await makeUser(s);
      const c = await makeConversation(s, ada, { members: [bob] });
      const awkward = [
        'plain',
        'quote " backslash \\ slash / tab \t newline \n return \r',
        'controls \u0001 \u001f \u007f (NUL is refused before storage)',
        'unicode é ß 中文 😀 \u2028 \u2029 \ud83d\ude00',
        '</script><b>not bold</b> {"json":"inside"}',
      ];
      for (const [i, body] of awkward.entries()) {
        const author = i % 2 === 0 ? ada : bob;
        const attributes = i === 3 ? { nested: { list: [1, 2.5, -3e-7, true, null, 'x"y'] }, emoji: '😀' } : {};
        expectOk(await s.appendMessage(newMessage(c.id, author, { body, clientId: i === 1 ? 'id "with" quotes \\ é' : null, attributes })));
      }
      await appendMany(s, c.id, ada, 7);
      const pages = [{ limit: 50 }, { limit: 4 }, { before: 6, limit: 3 }, { before: 2, limit: 3 }, { after: 1, limit: 5 }, { after: 2, before: 6, limit: 10 }, { after: 2, before: 6, limit: 2 }, { after: 12, limit: 5 }, { limit: 0 }];
      for (const page of pages) {
        const objects = await s.listMessages(c.id, page);
        const text = await s.listMessagesJson(c.id, page);
        expect({ page, messages: JSON.parse(text.messagesJson) as unknown, hasMore: text.hasMore }).toEqual({ page, ...objects });
      }
      expect(await s.listMessagesJson(uid('CH'), { limit: 50 })).toEqual({ messagesJson: '[]', hasMore: false });
    });

    it('returns an empty page for an empty or unknown conversation', async () => {
      const s = get();
      const ada = await makeUser(s);
      const c = await makeConversation(s, ada);
      expect(await s.listMessages(c.id, { limit: 50 })).toEqual({ messages: [], hasMore: false });
      expect(await s.listMessages(uid('CH'), { limit: 50 })).toEqual({ messages: [], hasMore: false });
    });
  });

  describe('changeMessage', () => {
    it('edits a body, then removes the message, keeping its index taken and every read in step', async () => {
      const s = get();
      const ada = await makeUser(s);
      const c = await makeConversation(s, ada);
      const first = expectOk(await s.appendMessage(newMessage(c.id, ada, { body: 'tpyo', clientId: 'c-1', attributes: { k: 'v' } }))).message;
      const second = expectOk(await s.appendMessage(newMessage(c.id, ada, { body: 'second' }))).message;
      expect(first.editedAt).toBeUndefined();
      expect(await s.getMessage(c.id, first.id)).toEqual(first);

      const edited = await s.changeMessage(c.id, first.id, { kind: 'edit', body: 'typo', at: at(500) });
      expect(edited).toEqual({ changed: true, message: { ...first, body: 'typo', editedAt: at(500), changeIndex: 1 } });
      const removed = await s.changeMessage(c.id, second.id, { kind: 'remove', at: at(600) });
      expect(removed).toEqual({ changed: true, message: { ...second, body: '', attributes: {}, removedAt: at(600), changeIndex: 2 } });
      // A removed message stays removed: no edit, no second removal time.
      expect(await s.changeMessage(c.id, second.id, { kind: 'edit', body: 'back', at: at(700) })).toEqual({ changed: false, message: removed?.message });
      expect(await s.changeMessage(c.id, second.id, { kind: 'remove', at: at(800) })).toEqual({ changed: false, message: removed?.message });

      const page = await s.listMessages(c.id, { limit: 10 });
      expect(page.messages).toEqual([edited?.message, removed?.message]);
      const json = await s.listMessagesJson(c.id, { limit: 10 });
      expect(JSON.parse(json.messagesJson)).toEqual(page.messages);
      expect((await s.getConversationForUser(c.id, ada.id))?.lastMessage).toEqual(removed?.message);
      // A retried send answers with the message as it is now.
      expect(expectOk(await s.appendMessage(newMessage(c.id, ada, { body: 'tpyo', clientId: 'c-1' })))).toEqual({
        kind: 'ok',
        duplicate: true,
        message: edited?.message,
      });
      // The removed message's index is not given again.
      expect(expectOk(await s.appendMessage(newMessage(c.id, ada))).message.index).toBe(3);
      // The refused changes took no change index.
      expect((await s.getConversation(c.id))?.lastChangeIndex).toBe(2);
    });

    it('numbers the changes of a conversation and lists the changed messages in the order of their latest change', async () => {
      const s = get();
      const ada = await makeUser(s);
      const c = await makeConversation(s, ada);
      const other = await makeConversation(s, ada);
      const appended = [];
      for (let i = 0; i < 4; i += 1) appended.push(expectOk(await s.appendMessage(newMessage(c.id, ada))).message);
      const [m1, m2, m3, m4] = appended as [MessageRecord, MessageRecord, MessageRecord, MessageRecord];
      expect((await s.getConversation(c.id))?.lastChangeIndex).toBe(0);

      await s.changeMessage(c.id, m1.id, { kind: 'edit', body: 'one', at: at(500) });
      await s.changeMessage(c.id, m3.id, { kind: 'edit', body: 'three', at: at(501) });
      await s.changeMessage(c.id, m1.id, { kind: 'edit', body: 'one again', at: at(502) });
      await s.changeMessage(c.id, m4.id, { kind: 'remove', at: at(503) });
      const otherMessage = expectOk(await s.appendMessage(newMessage(other.id, ada))).message;
      await s.changeMessage(other.id, otherMessage.id, { kind: 'edit', body: 'elsewhere', at: at(504) });

      expect(await s.getConversation(c.id)).toMatchObject({ lastChangeIndex: 4, lastMessageIndex: 4 });
      expect((await s.getConversationForUser(c.id, ada.id))?.conversation.lastChangeIndex).toBe(4);
      expect((await s.getConversation(other.id))?.lastChangeIndex).toBe(1);

      const all = await s.listChangedMessages(c.id, { afterChange: 0, upTo: 4, limit: 10 });
      expect(all.hasMore).toBe(false);
      expect(all.messages.map((m) => [m.index, m.changeIndex, m.body])).toEqual([
        [3, 2, 'three'],
        [1, 3, 'one again'],
        [4, 4, ''],
      ]);
      expect(all.messages[2]?.removedAt).toBe(at(503));
      const history = (await s.listMessages(c.id, { limit: 10 })).messages;
      expect(all.messages).toEqual([history[2], history[0], history[3]]);
      // After a change seen, above an index, one page at a time.
      expect((await s.listChangedMessages(c.id, { afterChange: 2, upTo: 4, limit: 10 })).messages.map((m) => m.index)).toEqual([1, 4]);
      expect((await s.listChangedMessages(c.id, { afterChange: 0, upTo: 3, limit: 10 })).messages.map((m) => m.index)).toEqual([3, 1]);
      expect(await s.listChangedMessages(c.id, { afterChange: 0, upTo: 4, limit: 1 })).toMatchObject({ hasMore: true, messages: [{ index: 3 }] });
      expect(await s.listChangedMessages(c.id, { afterChange: 4, upTo: 4, limit: 10 })).toEqual({ messages: [], hasMore: false });
      expect(await s.listChangedMessages(uid('CH'), { afterChange: 0, upTo: 10, limit: 10 })).toEqual({ messages: [], hasMore: false });
      expect(m2.changeIndex).toBeUndefined();
    });

    it('gives concurrent changes of one conversation distinct numbers', async () => {
      const s = get();
      const ada = await makeUser(s);
      const c = await makeConversation(s, ada);
      const messages: MessageRecord[] = [];
      for (let i = 0; i < 12; i += 1) messages.push(expectOk(await s.appendMessage(newMessage(c.id, ada))).message);
      const results = await Promise.all(
        messages.map((m, i) => s.changeMessage(c.id, m.id, i % 3 === 0 ? { kind: 'remove', at: at(500 + i) } : { kind: 'edit', body: `e${i}`, at: at(500 + i) })),
      );
      const numbers = results.map((r) => r?.message.changeIndex ?? 0).sort((a, b) => a - b);
      expect(numbers).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect((await s.getConversation(c.id))?.lastChangeIndex).toBe(12);
    });

    it('finds nothing for an unknown message, or a message of another conversation', async () => {
      const s = get();
      const ada = await makeUser(s);
      const c = await makeConversation(s, ada);
      const other = await makeConversation(s, ada);
      const m = expectOk(await s.appendMessage(newMessage(c.id, ada))).message;
      expect(await s.getMessage(other.id, m.id)).toBeUndefined();
      expect(await s.getMessage(c.id, uid('IM'))).toBeUndefined();
      expect(await s.changeMessage(other.id, m.id, { kind: 'remove', at: at(500) })).toBeUndefined();
      expect(await s.changeMessage(c.id, uid('IM'), { kind: 'edit', body: 'x', at: at(500) })).toBeUndefined();
      expect(await s.changeMessage(uid('CH'), m.id, { kind: 'edit', body: 'x', at: at(500) })).toBeUndefined();
      expect(await s.getMessage(c.id, m.id)).toEqual(m);
      expect((await s.getConversation(c.id))?.lastChangeIndex).toBe(0);
      expect((await s.getConversation(other.id))?.lastChangeIndex).toBe(0);
    });
  });
}
