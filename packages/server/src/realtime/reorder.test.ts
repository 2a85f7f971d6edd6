import { describe, expect, it } from 'vitest';
import type { BusEnvelope } from './bus.js';
import { Reorder } from './reorder.js';

function message(index: number, conversationId = 'c1'): BusEnvelope {
  const data = { conversationId, message: { index } } as never;
  return { audience: { conversationId }, event: { name: 'messageAdded', data } };
}
const indexOf = (e: BusEnvelope) => (e.event.data as { message: { index: number } }).message.index;

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
});
