import { afterEach, describe, expect, it, vi } from 'vitest';
import { TypingTracker } from './typing.js';

const grace = { conversationId: 'c1', userId: 'u2', username: 'grace' };

describe('TypingTracker', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('emits one start per burst and an end after the idle time', () => {
    vi.useFakeTimers();
    const events: string[] = [];
    const t = new TypingTracker((name) => events.push(name), 5000);
    t.started(grace);
    vi.advanceTimersByTime(2000);
    t.started(grace);
    vi.advanceTimersByTime(4999);
    expect(events).toEqual(['typingStarted']);
    vi.advanceTimersByTime(1);
    expect(events).toEqual(['typingStarted', 'typingEnded']);
  });

  it('ends typing when the user sends a message, once', () => {
    vi.useFakeTimers();
    const events: string[] = [];
    const t = new TypingTracker((name) => events.push(name));
    t.started(grace);
    t.messageFrom('c1', 'u2', 'grace');
    vi.runAllTimers();
    t.ended(grace);
    expect(events).toEqual(['typingStarted', 'typingEnded']);
  });

  it('tracks users and conversations separately', () => {
    const events: string[] = [];
    const t = new TypingTracker((name, d) => events.push(`${name}:${d.conversationId}:${d.userId}`));
    t.started(grace);
    t.started({ ...grace, conversationId: 'c2' });
    t.started({ ...grace, userId: 'u3' });
    t.stop();
    expect(events).toHaveLength(3);
  });
});
