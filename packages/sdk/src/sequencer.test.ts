import type { Message, MessagePage } from '@parley/protocol';
import { describe, expect, it, vi } from 'vitest';
import { ParleyError } from './errors.js';
import { MessageSequencer } from './sequencer.js';

function msg(index: number, conversationId = 'c1'): Message {
  return {
    id: `${conversationId}-${index}`,
    conversationId,
    index,
    authorId: 'u1',
    author: 'ada',
    body: `m${index}`,
    clientId: null,
    attributes: {},
    createdAt: new Date(0).toISOString(),
  };
}

/** A history store: messages 1..n per conversation, served 100 (or `pageSize`) at a time. */
function history(n: number, pageSize = 100) {
  const calls: Array<[string, number]> = [];
  const fetchAfter = vi.fn(async (conversationId: string, after: number): Promise<MessagePage> => {
    calls.push([conversationId, after]);
    const messages: Message[] = [];
    for (let i = after + 1; i <= n && messages.length < pageSize; i++) messages.push(msg(i, conversationId));
    return { messages, hasMore: after + messages.length < n };
  });
  return { fetchAfter, calls };
}

function setup(n = 0, pageSize = 100) {
  const delivered: number[] = [];
  const h = history(n, pageSize);
  const seq = new MessageSequencer({ fetchAfter: h.fetchAfter, deliver: (m) => delivered.push(m.index) });
  return { seq, delivered, ...h };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('MessageSequencer', () => {
  it('delivers in order and drops indexes already seen', () => {
    const { seq, delivered, fetchAfter } = setup();
    seq.setPosition('c1', 0);
    for (const i of [1, 2, 2, 1, 3]) seq.push(msg(i));
    expect(delivered).toEqual([1, 2, 3]);
    expect(seq.position('c1')).toBe(3);
    expect(fetchAfter).not.toHaveBeenCalled();
  });

  it('starts an unknown conversation at its first message', () => {
    const { seq, delivered } = setup();
    seq.push(msg(7));
    seq.push(msg(8));
    expect(delivered).toEqual([7, 8]);
  });

  it('ignores messages at or below a position set from the conversation list', () => {
    const { seq, delivered } = setup();
    seq.setPosition('c1', 5);
    seq.push(msg(4));
    seq.push(msg(5));
    seq.push(msg(6));
    expect(delivered).toEqual([6]);
    seq.setPosition('c1', 2); // already tracked: unchanged
    expect(seq.position('c1')).toBe(6);
  });

  it('fetches a gap over REST before delivering what came after it', async () => {
    const { seq, delivered, calls } = setup(10);
    seq.setPosition('c1', 2);
    seq.push(msg(6));
    expect(delivered).toEqual([]);
    seq.push(msg(7)); // arrives while the gap is being fetched
    await settle();
    expect(calls).toEqual([['c1', 2]]);
    expect(delivered).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('follows pages when the gap is larger than one page', async () => {
    const { seq, delivered, calls } = setup(250, 100);
    seq.setPosition('c1', 0);
    seq.push(msg(250));
    await vi.waitFor(() => expect(delivered).toHaveLength(250));
    expect(delivered).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(calls.map(([, after]) => after)).toEqual([0, 100, 200]);
  });

  it('handles a resume replay interleaved with live events exactly once', async () => {
    const { seq, delivered } = setup(200);
    seq.setPosition('c1', 50);
    // live 120 arrives first, then the replay 51..200 with live events mixed in
    seq.push(msg(120));
    for (let i = 51; i <= 200; i++) {
      seq.push(msg(i));
      if (i % 7 === 0) seq.push(msg(Math.min(200, i + 3)));
    }
    await vi.waitFor(() => expect(seq.position('c1')).toBe(200));
    await settle();
    expect(delivered).toEqual(Array.from({ length: 150 }, (_, i) => i + 51));
  });

  it('keeps conversations independent and reports positions for resume', () => {
    const { seq, delivered } = setup();
    seq.setPosition('a', 3);
    seq.setPosition('b', 0);
    seq.push(msg(4, 'a'));
    seq.push(msg(1, 'b'));
    expect(delivered).toEqual([4, 1]);
    expect(seq.positions()).toEqual({ a: 4, b: 1 });
    seq.forget('a');
    expect(seq.positions()).toEqual({ b: 1 });
  });

  it('retries a failed gap fetch and gives up on a conversation that is gone', async () => {
    let fail = 1;
    const delivered: number[] = [];
    const onError = vi.fn();
    const onGone = vi.fn();
    const seq = new MessageSequencer({
      fetchAfter: async (id, after) => {
        if (id === 'gone') throw new ParleyError('conversation_not_found');
        if (fail-- > 0) throw ParleyError.network(new Error('down'));
        return { messages: [msg(after + 1)], hasMore: false };
      },
      deliver: (m) => delivered.push(m.index),
      onError,
      onGone,
      backoff: { minMs: 5, maxMs: 10 },
    });
    seq.setPosition('c1', 0);
    seq.push(msg(2));
    await vi.waitFor(() => expect(delivered).toEqual([1, 2]));
    expect(onError).toHaveBeenCalledTimes(1);

    seq.setPosition('gone', 0);
    seq.push(msg(5, 'gone'));
    await vi.waitFor(() => expect(onGone).toHaveBeenCalledWith('gone'));
    expect(seq.position('gone')).toBeUndefined();
  });

  it('ignores everything after stop', () => {
    const { seq, delivered } = setup();
    seq.stop();
    seq.push(msg(1));
    expect(delivered).toEqual([]);
  });
});
