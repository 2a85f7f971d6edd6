import { describe, expect, it } from 'vitest';
import type { Storage, WebhookRecord } from '../storage.js';
import { appendMany, at, makeConversation, makeUser, uid, type GetStorage } from './fixtures.js';

/**
 * Webhooks (ADR 0016): which conversations a key's webhook hears and from where, the membership
 * outbox written with each change, and the delivery lease, cursor and back-off.
 */
export function webhooksContract(get: GetStorage): void {
  const FAR = '2100-01-01T00:00:00.000Z';
  const NOW = () => new Date().toISOString();
  const later = (ms: number) => new Date(Date.now() + ms).toISOString();

  async function hook(s: Storage, apiKeyId: string): Promise<WebhookRecord> {
    const webhook: WebhookRecord = { apiKeyId, url: 'http://127.0.0.1:9/hook', events: ['messageAdded', 'participantJoined'], createdAt: at(1), updatedAt: at(1) };
    await s.setWebhook(webhook);
    return webhook;
  }

  /** Saves one cursor as `owner`: true when `owner` still held its lease. */
  async function advance(s: Storage, conversationId: string, owner: string, to: { messageIndex: number; changeIndex: number; deliveredOutboxIds?: string[]; leaseUntil: string }): Promise<boolean> {
    return (await s.saveWebhookCursors(owner, [{ conversationId, ...to }], [])).length === 0;
  }

  /** Whether the conversation is among the work ready now (other tests' rows are left out). */
  async function ready(s: Storage, conversationId: string): Promise<boolean> {
    return (await s.listWebhookWork(NOW(), 100_000)).includes(conversationId);
  }

  describe('webhooks', () => {
    it('hears the key’s conversations from where they stand when the webhook is set, and nobody else’s', async () => {
      const s = get();
      const key = uid('SK');
      const ada = await makeUser(s, 'wh');
      const before = await makeConversation(s, ada, { apiKeyId: key });
      await appendMany(s, before.id, ada, 3);
      const otherKey = await makeConversation(s, ada, { apiKeyId: uid('SK') });
      const noKey = await makeConversation(s, ada);
      const webhook = await hook(s, key);
      expect(await s.getWebhook(key)).toEqual(webhook);
      const hooked = await s.listHookedConversationIds();
      expect(hooked).toContain(before.id);
      expect(hooked).not.toContain(otherKey.id);
      expect(hooked).not.toContain(noKey.id);

      const owner = uid('owner');
      const cursor = await s.claimWebhookCursor(before.id, owner, NOW(), later(30_000));
      expect(cursor).toMatchObject({ conversationId: before.id, webhook, messageIndex: 3, changeIndex: 0, attempts: 0 });
      await s.releaseWebhookCursor(before.id, owner);
      expect(await ready(s, before.id)).toBe(false);
      expect(await s.claimWebhookCursor(otherKey.id, owner, NOW(), later(30_000))).toBeUndefined();
      expect(await s.claimWebhookCursor(noKey.id, owner, NOW(), later(30_000))).toBeUndefined();

      // Setting it again keeps where every conversation stood.
      await appendMany(s, before.id, ada, 1);
      await s.setWebhook({ ...webhook, url: 'http://127.0.0.1:9/other', updatedAt: at(2) });
      expect(await s.claimWebhookCursor(before.id, owner, NOW(), later(30_000))).toMatchObject({ messageIndex: 3 });
      await s.releaseWebhookCursor(before.id, owner);
    });

    it('hears a conversation created through the key from its start, with its first members in the outbox', async () => {
      const s = get();
      const key = uid('SK');
      await hook(s, key);
      const ada = await makeUser(s, 'wh');
      const bob = await makeUser(s, 'wh');
      const c = await makeConversation(s, ada, { apiKeyId: key, others: [{ userId: bob.id, role: 'member', status: 'invited', invitedBy: ada.id }] });
      expect(await ready(s, c.id)).toBe(true);
      const outbox = await s.listWebhookOutbox(c.id, 10);
      expect(outbox.map((o) => [o.type, o.participant.username]).sort()).toEqual(
        [
          ['participantInvited', bob.username],
          ['participantJoined', ada.username],
        ].sort(),
      );
      // A later change goes to the outbox in the same transaction.
      await s.setParticipantStatus(c.id, bob.id, { status: 'joined', now: at(20) });
      const after = await s.listWebhookOutbox(c.id, 10);
      expect(after).toHaveLength(3);
      expect(after[2]).toMatchObject({ type: 'participantJoined', participant: { userId: bob.id, status: 'joined' } });
    });

    it('writes no outbox rows for a conversation that is not hooked', async () => {
      const s = get();
      const ada = await makeUser(s, 'wh');
      const bob = await makeUser(s, 'wh');
      const c = await makeConversation(s, ada, { apiKeyId: uid('SK') });
      await s.setParticipantStatus(c.id, bob.id, { status: 'invited', invitedBy: ada.id, now: at(20) });
      expect(await s.listWebhookOutbox(c.id, 10)).toEqual([]);
      expect(await ready(s, c.id)).toBe(false);
    });

    it('leases a conversation to one owner at a time, moves its cursor only for the holder, and backs off after a failure', async () => {
      const s = get();
      const key = uid('SK');
      await hook(s, key);
      const ada = await makeUser(s, 'wh');
      const c = await makeConversation(s, ada, { apiKeyId: key });
      await appendMany(s, c.id, ada, 2);
      const [joined] = await s.listWebhookOutbox(c.id, 10);
      expect(await ready(s, c.id)).toBe(true);

      const first = uid('owner');
      const second = uid('owner');
      expect(await s.claimWebhookCursor(c.id, first, NOW(), later(30_000))).toMatchObject({ messageIndex: 0 });
      expect(await ready(s, c.id)).toBe(false);
      expect(await s.claimWebhookCursor(c.id, second, NOW(), later(30_000))).toEqual({ heldUntil: expect.any(String) });
      expect(await advance(s, c.id, second, { messageIndex: 2, changeIndex: 0, leaseUntil: later(30_000) })).toBe(false);
      expect(await advance(s, c.id, first, { messageIndex: 1, changeIndex: 0, deliveredOutboxIds: [joined!.id], leaseUntil: later(30_000) })).toBe(true);
      expect(await s.listWebhookOutbox(c.id, 10)).toEqual([]);

      await s.releaseWebhookCursor(c.id, first, { error: 'the receiver answered HTTP 500', nextAttemptAt: FAR });
      expect(await ready(s, c.id)).toBe(false);
      expect(await s.webhookFailures(key)).toEqual({ failing: 1, lastError: 'the receiver answered HTTP 500', nextAttemptAt: FAR });
      // The back-off is the pollers' business: a claim still works (a timer that fired), and counts.
      const retried = await s.claimWebhookCursor(c.id, second, NOW(), later(30_000));
      expect(retried).toMatchObject({ messageIndex: 1, attempts: 1 });
      expect(await advance(s, c.id, second, { messageIndex: 2, changeIndex: 0, leaseUntil: later(30_000) })).toBe(true);
      await s.releaseWebhookCursor(c.id, second);
      expect(await s.webhookFailures(key)).toEqual({ failing: 0, lastError: null, nextAttemptAt: null });
      expect(await ready(s, c.id)).toBe(false);

      // An expired lease can be taken over.
      expect(await s.claimWebhookCursor(c.id, first, NOW(), new Date(Date.now() - 1000).toISOString())).toMatchObject({ conversationId: c.id });
      expect(await s.claimWebhookCursor(c.id, second, NOW(), later(30_000))).toMatchObject({ conversationId: c.id });
      await s.releaseWebhookCursor(c.id, second);

      // A process that owns the database alone takes back whatever its killed predecessor held.
      expect(await s.claimWebhookCursor(c.id, first, NOW(), FAR)).toMatchObject({ conversationId: c.id });
      expect(await s.claimWebhookCursor(c.id, second, NOW(), later(30_000))).toEqual({ heldUntil: FAR });
      await s.releaseWebhookLeases();
      expect(await s.claimWebhookCursor(c.id, second, NOW(), later(30_000))).toMatchObject({ conversationId: c.id });
      await s.releaseWebhookCursor(c.id, second);
    });

    it('saves and releases several cursors in one call, skipping those whose lease was lost', async () => {
      const s = get();
      const key = uid('SK');
      await hook(s, key);
      const ada = await makeUser(s, 'wh');
      const [a, b, c] = [await makeConversation(s, ada, { apiKeyId: key }), await makeConversation(s, ada, { apiKeyId: key }), await makeConversation(s, ada, { apiKeyId: key })];
      const me = uid('owner');
      for (const x of [a, b, c]) await s.claimWebhookCursor(x.id, me, NOW(), later(30_000));
      await s.releaseWebhookCursor(b.id, me);
      await s.claimWebhookCursor(b.id, uid('other'), NOW(), later(30_000));
      const [joined] = await s.listWebhookOutbox(a.id, 10);
      const lost = await s.saveWebhookCursors(
        me,
        [
          { conversationId: a.id, messageIndex: 0, changeIndex: 0, deliveredOutboxIds: [joined!.id], leaseUntil: later(60_000) },
          { conversationId: b.id, messageIndex: 5, changeIndex: 0, leaseUntil: later(60_000) },
        ],
        [c.id],
      );
      expect(lost).toEqual([b.id]);
      expect(await s.listWebhookOutbox(a.id, 10)).toEqual([]);
      expect(await s.listWebhookOutbox(b.id, 10)).toHaveLength(1);
      expect(await s.claimWebhookCursor(c.id, uid('third'), NOW(), later(30_000))).toMatchObject({ conversationId: c.id });
      expect(await s.claimWebhookCursor(a.id, uid('third'), NOW(), later(30_000))).toEqual({ heldUntil: expect.any(String) });
      expect(await s.saveWebhookCursors(me, [], [])).toEqual([]);
    });

    it('lists a conversation whose messages were edited or removed after its change cursor', async () => {
      const s = get();
      const key = uid('SK');
      const ada = await makeUser(s, 'wh');
      const c = await makeConversation(s, ada, { apiKeyId: key });
      await appendMany(s, c.id, ada, 2);
      await hook(s, key);
      expect(await ready(s, c.id)).toBe(false);
      const [first] = (await s.listMessages(c.id, { limit: 1, after: 0 })).messages;
      await s.changeMessage(c.id, first!.id, { kind: 'edit', body: 'edited', at: at(50) });
      expect(await ready(s, c.id)).toBe(true);
    });

    it('forgets a removed webhook’s cursors and outbox, and a deleted conversation’s', async () => {
      const s = get();
      const key = uid('SK');
      await hook(s, key);
      const ada = await makeUser(s, 'wh');
      const kept = await makeConversation(s, ada, { apiKeyId: key });
      const deleted = await makeConversation(s, ada, { apiKeyId: key });
      expect(await s.deleteConversation(deleted.id)).toBe(true);
      expect(await s.listWebhookOutbox(deleted.id, 10)).toEqual([]);
      expect(await ready(s, deleted.id)).toBe(false);

      expect(await s.deleteWebhook(key)).toBe(true);
      expect(await s.deleteWebhook(key)).toBe(false);
      expect(await s.getWebhook(key)).toBeUndefined();
      expect(await s.listWebhookOutbox(kept.id, 10)).toEqual([]);
      expect(await s.claimWebhookCursor(kept.id, uid('owner'), NOW(), later(30_000))).toBeUndefined();
    });
  });
}
