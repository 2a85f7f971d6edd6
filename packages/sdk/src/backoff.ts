/** Options for {@link Backoff}. */
export interface BackoffOptions {
  /** Base delay and the cap of the first attempt, in ms (default 250). */
  minMs?: number;
  /** Largest delay, in ms (default 10 000). */
  maxMs?: number;
  /** Random source in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter: attempt `n` waits a uniformly random time in
 * `[0, min(maxMs, minMs * 2^n))`. Full jitter spreads a crowd of clients that all lost the same
 * server, so they do not reconnect in lock-step when it comes back.
 *
 * @example
 * const backoff = new Backoff({ minMs: 250, maxMs: 10_000 });
 * setTimeout(reconnect, backoff.next());
 * // ...once connected:
 * backoff.reset();
 */
export class Backoff {
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.minMs = Math.max(1, opts.minMs ?? 250);
    this.maxMs = Math.max(this.minMs, opts.maxMs ?? 10_000);
    this.random = opts.random ?? Math.random;
  }

  /** Number of delays handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /**
   * The delay before the next attempt, in ms; each call raises the cap until `maxMs`.
   *
   * @example
   * new Backoff({ random: () => 0.5 }).next() // 125
   */
  next(): number {
    const cap = this.cap(this.attempt);
    this.attempt += 1;
    return Math.floor(this.random() * cap);
  }

  /**
   * The cap for attempt `n` (0-based), without jitter.
   *
   * @example
   * new Backoff({ minMs: 100, maxMs: 1000 }).cap(3) // 800
   */
  cap(n: number): number {
    // Exponent clamped so a long outage cannot overflow to Infinity.
    return Math.min(this.maxMs, this.minMs * 2 ** Math.min(n, 30));
  }

  /**
   * Starts over from the smallest cap (call after a successful connection).
   *
   * @example
   * backoff.reset();
   */
  reset(): void {
    this.attempt = 0;
  }
}
