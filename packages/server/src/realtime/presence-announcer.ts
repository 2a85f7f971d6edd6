import type { Logger } from 'pino';
import type { Bus } from './bus.js';
import type { PresenceStore } from './presence.js';

/**
 * Turns this process's connections into presence: counts each user's open connections here,
 * tells the store about a user's first and last one, and publishes one `presenceChanged`,
 * addressed to whoever follows the user (`watchPresence`, on any process), when the store says
 * the user's state changed everywhere. A user whose last connection closes stays online for `graceMs`, so
 * a page reload or a quick reconnect is not announced as offline and online again.
 *
 * Presence is best effort: a store or bus failure is logged and the change is not announced.
 *
 * @example
 * const announcer = new PresenceAnnouncer(store, bus, log, 2000);
 * announcer.opened('US1'); // ... later
 * announcer.closed('US1');
 */
export class PresenceAnnouncer {
  /** Open connections here per user. */
  private readonly counts = new Map<string, number>();
  /** Users whose last connection here closed, until their grace period ends. */
  private readonly leaving = new Map<string, NodeJS.Timeout>();
  /** Each user's store calls, one after another, so they reach it in the order they happened. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    private readonly store: PresenceStore,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly graceMs: number,
  ) {
    store.onChange((userIds, online) => {
      for (const userId of userIds) void this.announce(userId, online);
    });
  }

  /** A connection of `userId` is open and subscribed on this process. */
  opened(userId: string): void {
    const count = (this.counts.get(userId) ?? 0) + 1;
    this.counts.set(userId, count);
    if (count > 1) return;
    const pending = this.leaving.get(userId);
    if (pending !== undefined) {
      // Back within the grace period: the store never heard it leave.
      clearTimeout(pending);
      this.leaving.delete(userId);
      return;
    }
    this.enqueue(userId, async () => {
      if (await this.store.connected(userId)) await this.announce(userId, true);
    });
  }

  /** A connection of `userId` that `opened` was told about has closed. */
  closed(userId: string): void {
    const count = (this.counts.get(userId) ?? 0) - 1;
    if (count > 0) {
      this.counts.set(userId, count);
      return;
    }
    this.counts.delete(userId);
    const timer = setTimeout(() => {
      this.leaving.delete(userId);
      this.leave(userId);
    }, this.graceMs);
    timer.unref();
    this.leaving.set(userId, timer);
  }

  /** Which of `userIds` are online anywhere; rejects when the store cannot be asked. */
  online(userIds: readonly string[]): Promise<Set<string>> {
    return this.store.online(userIds);
  }

  /**
   * Shutting down: the gateway has closed every socket, so every user here is leaving. With a
   * shared store their clients are reconnecting to other processes meanwhile, so this waits out
   * the grace period first: whoever is back elsewhere by then is not announced offline (a
   * rolling restart does not flicker). Then the rest leave, and the calls under way finish.
   */
  async close(): Promise<void> {
    if (this.store.shared && this.leaving.size > 0) await new Promise((resolve) => setTimeout(resolve, this.graceMs));
    for (const [userId, timer] of this.leaving) {
      clearTimeout(timer);
      this.leave(userId);
    }
    this.leaving.clear();
    await Promise.allSettled([...this.queues.values()]);
  }

  private leave(userId: string): void {
    this.enqueue(userId, async () => {
      if (await this.store.disconnected(userId)) await this.announce(userId, false);
    });
  }

  private enqueue(userId: string, work: () => Promise<void>): void {
    const previous = this.queues.get(userId) ?? Promise.resolve();
    const next = previous.then(work).catch((err: unknown) => this.log.warn({ err, userId }, 'presence update failed'));
    this.queues.set(userId, next);
    void next.then(() => {
      if (this.queues.get(userId) === next) this.queues.delete(userId);
    });
  }

  private async announce(userId: string, online: boolean): Promise<void> {
    try {
      // To whoever follows the user, on every process: no lookup here, whatever the user's groups.
      await this.bus.publish({ audience: { presenceOf: userId }, event: { name: 'presenceChanged', data: { userId, online } } });
    } catch (err) {
      this.log.warn({ err, userId, online }, 'announcing presence failed');
    }
  }
}
