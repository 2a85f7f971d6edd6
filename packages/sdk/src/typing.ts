import type { ServerEvents } from '@parley/protocol';

type Typing = ServerEvents['typingStarted'];

/**
 * Turns the server's repeated `typingStarted` events (at most one per 2 s while someone types)
 * into one `typingStarted` and one `typingEnded` per burst of typing. A burst ends with the
 * server's `typingEnded`, a message from that user, or `idleMs` of silence.
 *
 * @example
 * const typing = new TypingTracker((name, data) => client.emit(name, data));
 * typing.started({ conversationId: 'c1', userId: 'u2', username: 'grace' });
 */
export class TypingTracker {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly emit: (name: 'typingStarted' | 'typingEnded', data: Typing) => void,
    private readonly idleMs = 5000,
  ) {}

  started(data: Typing): void {
    const key = keyOf(data.conversationId, data.userId);
    const running = this.timers.get(key);
    if (running) clearTimeout(running);
    else this.emit('typingStarted', data);
    this.timers.set(
      key,
      setTimeout(() => this.ended(data), this.idleMs),
    );
  }

  ended(data: Typing): void {
    const key = keyOf(data.conversationId, data.userId);
    const running = this.timers.get(key);
    if (!running) return;
    clearTimeout(running);
    this.timers.delete(key);
    this.emit('typingEnded', data);
  }

  /** A message from the user ends their typing at once. */
  messageFrom(conversationId: string, userId: string, username: string): void {
    this.ended({ conversationId, userId, username });
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

function keyOf(conversationId: string, userId: string): string {
  return `${conversationId}\u0000${userId}`;
}
