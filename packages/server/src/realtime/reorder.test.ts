import { describe, expect, it } from 'vitest';
import type { BusEnvelope } from './bus.js';
import { Reorder } from './reorder.js';

function message(index: number, conversationId = 'c1'): BusEnvelope {
  const data = { conversationId, message: { index } } as never;
  return { audience: { conversationId }, event: { name: 'messageAdded', data } };
}
const indexOf = (e: BusEnvelope) => (e.event.data as { message: { index: number } }).message.index;
/** An edit (`messageUpdated`) or a removal (`messageRemoved`) of message `index`. */
function change(kind: 'messageUpdated' | 'messageRemoved', index: number, conversationId = 'c1'): BusEnvelope {
  const data = (kind === 'messageUpdated' ? { conversationId, message: { index } } : { conversationId, messageId: `m${index}`, index, message: { index } }) as never;
  return { audience: { conversationId }, event: { name: kind, data } };
}
/** `3` for message 3, `u3` / `r3` for its edit / removal. */
const label = (e: BusEnvelope): string => ({ messageAdded: '', messageUpdated: 'u', messageRemoved: 'r' })[e.event.name as 'messageAdded'] + String(indexOf(e));

describe('Reorder', () => {
  it('delivers out-of-order commits in index order', () => {
    const out: number[] = [];
    const reorder = new Reorder((e) => out.push(indexOf(e)), () => true, 1000);
    for (const i of [1, 3, 4, 2, 5]) reorder.push(message(i));
    expect(out).toEqual([1, 2, 3, 4, 5]);
  });

  it('releases held messages after the hold time when a predecessor never comes', async () => {
    const out: number[] = [];
    const reorder = new Reorder((e) => out.push(indexOf(e)), () => true, 10);
    reorder.push(message(1));
    reorder.push(message(4));
    reorder.push(message(3));
    expect(out).toEqual([1]);
    await new Promise((r) => setTimeout(r, 30));
    expect(out).toEqual([1, 3, 4]);
    reorder.push(message(5));
    expect(out).toEqual([1, 3, 4, 5]);
  });

  it('passes other events and conversations without listeners straight through', () => {
    const out: string[] = [];
    const reorder = new Reorder((e) => out.push(e.event.name), (id) => id !== 'quiet', 1000);
    reorder.push(message(1));
    reorder.push(message(7, 'quiet'));
    reorder.push({ audience: { userIds: ['u'] }, event: { name: 'invitationRemoved', data: { conversationId: 'c1' } } });
    expect(out).toEqual(['messageAdded', 'messageAdded', 'invitationRemoved']);
  });

  it('holds an edit or a removal of a message not yet delivered until that message goes out', () => {
    const out: string[] = [];
    const reorder = new Reorder((e) => out.push(label(e)), () => true, 1000);
    reorder.push(message(1));
    reorder.push(message(3));
    reorder.push(change('messageUpdated', 3));
    reorder.push(change('messageRemoved', 3));
    reorder.push(change('messageUpdated', 1));
    expect(out).toEqual(['1', 'u1']);
    reorder.push(message(2));
    expect(out).toEqual(['1', 'u1', '2', '3', 'u3', 'r3']);
  });

  it('releases a change whose message never comes here after the hold time, after the held messages', async () => {
    const out: string[] = [];
    const reorder = new Reorder((e) => out.push(label(e)), () => true, 10);
    reorder.push(message(1));
    reorder.push(change('messageRemoved', 5));
    reorder.push(message(3));
    reorder.push(change('messageUpdated', 3));
    expect(out).toEqual(['1']);
    await new Promise((r) => setTimeout(r, 30));
    expect(out).toEqual(['1', '3', 'u3', 'r5']);
    // Nothing is left behind: the next message goes straight out.
    reorder.push(message(4));
    expect(out).toEqual(['1', '3', 'u3', 'r5', '4']);
  });

  it('passes a change straight through where nothing was delivered yet or nobody listens', () => {
    const out: string[] = [];
    const reorder = new Reorder((e) => out.push(label(e)), (id) => id !== 'quiet', 1000);
    reorder.push(change('messageUpdated', 9));
    reorder.push(message(1, 'quiet'));
    reorder.push(change('messageUpdated', 4, 'quiet'));
    expect(out).toEqual(['u9', '1', 'u4']);
  });
});
