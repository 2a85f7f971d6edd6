/**
 * Fixed-window counters in memory, per key. Good enough for one process; with several
 * processes each enforces its own share, which bounds abuse without a shared store.
 *
 * @example
 * const limiter = new RateLimiter(10, 60_000);
 * if (!limiter.take('ip:1.2.3.4')) throw new AppError('rate_limited');
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one hit; false when the key is over its limit in this window. */
  take(key: string, now = Date.now()): boolean {
    const window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      if (this.windows.size > 100_000) this.sweep(now);
      this.windows.set(key, { start: now, count: 1 });
      return true;
    }
    window.count += 1;
    return window.count <= this.limit;
  }

  /** True when the key is already over its limit, without counting a hit. */
  blocked(key: string, now = Date.now()): boolean {
    const window = this.windows.get(key);
    return window !== undefined && now - window.start < this.windowMs && window.count >= this.limit;
  }

  /** Milliseconds until the key's window ends. */
  retryAfterMs(key: string, now = Date.now()): number {
    const window = this.windows.get(key);
    return window ? Math.max(0, window.start + this.windowMs - now) : 0;
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (now - window.start >= this.windowMs) this.windows.delete(key);
  }
}
