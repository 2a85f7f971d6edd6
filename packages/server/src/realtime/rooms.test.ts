import { describe, expect, it } from 'vitest';
import { Rooms, type RoomMember } from './rooms.js';

function conn(userId: string): RoomMember {
  return { userId, subscriptions: new Set(), pendingGone: null };
}

describe('Rooms', () => {
  it('subscribes every connection of a user who joins and drops them when they go', () => {
    const rooms = new Rooms<RoomMember>();
    const [tab1, tab2, other] = [conn('u1'), conn('u1'), conn('u2')];
    for (const c of [tab1, tab2, other]) rooms.addConnection(c);
    rooms.apply({ kind: 'joined', conversationId: 'c1', userId: 'u1' });
    expect([...rooms.inConversation('c1')]).toEqual([tab1, tab2]);
    rooms.apply({ kind: 'gone', conversationId: 'c1', userId: 'u1' });
    expect([...rooms.inConversation('c1')]).toEqual([]);
    expect(tab1.subscriptions.size).toBe(0);
  });

  it('does not resubscribe a conversation that was left while loading', () => {
    const rooms = new Rooms<RoomMember>();
    const c = conn('u1');
    rooms.addConnection(c);
    rooms.beginLoading(c);
    rooms.apply({ kind: 'gone', conversationId: 'c1', userId: 'u1' });
    rooms.apply({ kind: 'deleted', conversationId: 'c2' });
    rooms.finishLoading(c, ['c1', 'c2', 'c3']); // read before the changes committed
    expect([...c.subscriptions]).toEqual(['c3']);
  });

  it('empties a deleted conversation for everyone', () => {
    const rooms = new Rooms<RoomMember>();
    const a = conn('u1');
    const b = conn('u2');
    rooms.addConnection(a);
    rooms.addConnection(b);
    rooms.subscribe(a, 'c1');
    rooms.subscribe(b, 'c1');
    rooms.apply({ kind: 'deleted', conversationId: 'c1' });
    expect([...rooms.inConversation('c1')]).toEqual([]);
    rooms.removeConnection(a);
    expect([...rooms.ofUser('u1')]).toEqual([]);
  });
});
