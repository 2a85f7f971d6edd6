/**
 * Who is online: a user with at least one open WebSocket on any live process. The gateway
 * reports each user's first and last connection on its process; the store answers whether that
 * changed the user's state everywhere, so that exactly the transitions are announced.
 *
 * @example
 * if (await presence.connected('US1')) announce('US1', true);
 * const online = await presence.online(['US1', 'US2']);
 */
export interface PresenceStore {
  /** True when other processes share it, so a user leaving here may be back on another one. */
  readonly shared: boolean;
  /** `userId` now has a connection on this process; true when it had none on any process before. */
  connected(userId: string): Promise<boolean>;
  /** `userId` has no connection left on this process; true when it has none on any process now. */
  disconnected(userId: string): Promise<boolean>;
  /** Those of `userIds` that are online on some live process. */
  online(userIds: readonly string[]): Promise<Set<string>>;
  /**
   * Called with users whose state changed without a call here: offline because another process
   * died without saying so, or online again because this process had been taken for dead
   * (only stores shared by several processes have such changes).
   */
  onChange(handler: (userIds: string[], online: boolean) => void): void;
  close(): Promise<void>;
}

/**
 * Presence for a single process: the gateway's own view is the whole truth.
 *
 * @example
 * const presence = new MemoryPresence();
 * await presence.connected('US1'); // true
 */
export class MemoryPresence implements PresenceStore {
  readonly shared = false;
  private readonly users = new Set<string>();

  connected(userId: string): Promise<boolean> {
    const was = this.users.has(userId);
    this.users.add(userId);
    return Promise.resolve(!was);
  }

  disconnected(userId: string): Promise<boolean> {
    return Promise.resolve(this.users.delete(userId));
  }

  online(userIds: readonly string[]): Promise<Set<string>> {
    return Promise.resolve(new Set(userIds.filter((id) => this.users.has(id))));
  }

  onChange(): void {
    // One process: nobody else can die holding connections.
  }

  close(): Promise<void> {
    this.users.clear();
    return Promise.resolve();
  }
}
