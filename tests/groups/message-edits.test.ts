import { describe, expect, it } from 'vitest';
import type { Conversation } from '@parley/sdk';
import { errorOf, nextEvent, settle, useServerWithUsers } from './group-helpers.js';

/** Editing and removing messages (SPEC 2.4) through the SDK against a real server. */
const t = useServerWithUsers('edit_', 'admin', 'ann', 'ben', 'cat');

/** A group of the admin with ann and ben joined; each user's own view of it. */
async function group(): Promise<{ mine: Conversation; anns: Conversation; bens: Conversation }> {
  const invited = [t.ann, t.ben].map((u) => nextEvent(u.client, 'invitationReceived'));
  const { conversation } = await t.admin.client.createConversation({ title: 'Edits', participants: [t.ann.name, t.ben.name] });
  await Promise.all(invited);
  for (const u of [t.ann, t.ben]) await u.client.acceptInvitation(conversation.id);
  const anns = await t.ann.client.getConversation(conversation.id);
  const bens = await t.ben.client.getConversation(conversation.id);
  return { mine: conversation, anns, bens };
}

describe('editing a message', () => {
  it('changes the body for everyone, live and in history, and marks it edited', async () => {
    const { anns, bens } = await group();
    const sent = await anns.sendMessage('see you at 11');
    const seen = nextEvent(t.ben.client, 'messageUpdated');
    const edited = await anns.updateMessage(sent.id, 'see you at 10');
    expect(edited).toMatchObject({ id: sent.id, index: sent.index, body: 'see you at 10', createdAt: sent.createdAt });
    expect(Date.parse(edited.editedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(sent.createdAt));
    expect(await seen).toEqual(edited);
    expect((await bens.getMessages()).items).toEqual([edited]);
    expect(bens.lastMessage).toEqual(edited);
    const listed = (await t.ben.client.getSubscribedConversations()).find((c) => c.id === bens.id);
    expect(listed?.lastMessage).toEqual(edited);
    // Edited again: the newest edit wins.
    const again = await anns.updateMessage(sent.id, 'see you at 9:30');
    expect((await bens.getMessages()).items).toEqual([again]);
  });

  it('is for the author only: another member, even an admin, gets not_message_author', async () => {
    const { mine, bens } = await group();
    const sent = await bens.sendMessage('mine to edit');
    expect((await errorOf(mine.updateMessage(sent.id, 'admin rewrites'))).code).toBe('not_message_author');
    const anns = await t.ann.client.getConversation(mine.id);
    const error = await errorOf(anns.updateMessage(sent.id, 'ann rewrites'));
    expect(error).toMatchObject({ code: 'not_message_author', status: 403 });
    expect((await bens.getMessages()).items.map((m) => [m.body, m.editedAt])).toEqual([['mine to edit', undefined]]);
  });

  it('refuses a blank or too long body, an unknown message and a message of another conversation', async () => {
    const { anns } = await group();
    const other = await group();
    const sent = await anns.sendMessage('original');
    const elsewhere = await other.anns.sendMessage('elsewhere');
    expect(await errorOf(anns.updateMessage(sent.id, '   '))).toMatchObject({ code: 'validation_failed', status: 400 });
    expect((await errorOf(anns.updateMessage(sent.id, ''))).code).toBe('validation_failed');
    const tooLong = await errorOf(anns.updateMessage(sent.id, 'x'.repeat(4001)));
    expect(tooLong.code).toBe('validation_failed');
    expect(tooLong.message).toMatch(/body/);
    expect(await errorOf(anns.updateMessage('IM_no_such_message', 'x'))).toMatchObject({ code: 'message_not_found', status: 404 });
    expect((await errorOf(anns.updateMessage(elsewhere.id, 'x'))).code).toBe('message_not_found');
    expect((await anns.getMessages()).items.map((m) => m.body)).toEqual(['original']);
  });
});

describe('removing a message', () => {
  it('keeps its index with an empty body, tells everyone, and the next message takes the next index', async () => {
    const { anns, bens } = await group();
    const first = await anns.sendMessage('oops, wrong group', { attributes: { kind: 'note' } });
    const seen = nextEvent(t.ben.client, 'messageRemoved');
    await anns.removeMessage(first.id);
    const event = await seen;
    expect(event).toMatchObject({ conversationId: anns.id, messageId: first.id, index: first.index });
    expect(event.message).toMatchObject({ id: first.id, index: first.index, body: '', attributes: {}, author: t.ann.name });
    expect(event.message.removedAt).toEqual(expect.any(String));
    expect((await bens.getMessages()).items).toEqual([event.message]);
    expect(bens.lastMessage).toEqual(event.message);
    const next = await bens.sendMessage('after the removal');
    expect(next.index).toBe(first.index + 1);
    // Removed for good: no edit, and removing again changes nothing.
    expect(await errorOf(anns.updateMessage(first.id, 'bring it back'))).toMatchObject({ code: 'message_removed', status: 410 });
    await anns.removeMessage(first.id);
    expect((await anns.getMessages()).items.map((m) => [m.index, m.body])).toEqual([
      [first.index, ''],
      [next.index, 'after the removal'],
    ]);
  });

  it("lets an admin remove anyone's message, and no member remove someone else's", async () => {
    const { mine, anns, bens } = await group();
    const bensMessage = await bens.sendMessage('spam');
    const adminsMessage = await mine.sendMessage('welcome');
    expect(await errorOf(anns.removeMessage(bensMessage.id))).toMatchObject({ code: 'not_message_author', status: 403 });
    expect((await errorOf(bens.removeMessage(adminsMessage.id))).code).toBe('not_message_author');
    const seen = nextEvent(t.ben.client, 'messageRemoved');
    await mine.removeMessage(bensMessage.id);
    expect((await seen).messageId).toBe(bensMessage.id);
    expect((await anns.getMessages()).items.map((m) => [m.body, m.removedAt !== undefined])).toEqual([
      ['', true],
      ['welcome', false],
    ]);
  });

  it('is closed to outsiders and to removed participants, even for their own messages', async () => {
    const { mine, bens } = await group();
    const sent = await bens.sendMessage('before I was removed');
    expect((await errorOf(t.cat.client.getConversation(mine.id))).code).toBe('conversation_not_found');
    await mine.removeParticipant(t.ben.client.user.id);
    await settle(t.ben);
    expect(await errorOf(bens.updateMessage(sent.id, 'after'))).toMatchObject({ code: 'conversation_not_found', status: 404 });
    expect((await errorOf(bens.removeMessage(sent.id))).code).toBe('conversation_not_found');
    expect((await mine.getMessages()).items.map((m) => m.body)).toEqual(['before I was removed']);
  });
});
