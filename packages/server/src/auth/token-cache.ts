/** One verified token: what it proved, and until when that holds. */
export interface CachedToken<T> {
  value: T;
  keyId: string;
  /** `exp` in seconds: the entry is dead from this second on (jose: `exp <= now` is expired). */
  exp: number;
  /** `nbf` in seconds, when the token had one. */
  nbf: number | undefined;
}

/**
 * Verified tokens by their exact string, so a reconnect storm of one token costs a Map
 * lookup instead of an HMAC. Bounded: when full, the oldest entry goes first. An entry is
 * only returned while its token would still verify on time claims; the caller proved the
 * signature when it stored it, and the key is the whole token, so nothing else can hit it.
 *
 * @example
 * const cache = new TokenCache<string>(1000);
 * cache.set(token, { value: 'ada', keyId: 'SK1', exp, nbf: undefined });
 * cache.get(token, Math.floor(Date.now() / 1000)); // 'ada' until exp
 */
export class TokenCache<T> {
  private readonly entries = new Map<string, CachedToken<T>>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached value, or undefined when absent or no longer valid at `nowSeconds`. */
  get(token: string, nowSeconds: number): T | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.exp <= nowSeconds || (entry.nbf !== undefined && entry.nbf > nowSeconds)) {
      // Expired: let the caller verify again, so it reports exactly what it always did.
      this.entries.delete(token);
      return undefined;
    }
    return entry.value;
  }

  set(token: string, entry: CachedToken<T>): void {
    if (this.entries.size >= this.maxEntries && !this.entries.has(token)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, entry);
  }

  /** Drops every token signed with the key, e.g. because it was revoked. */
  dropKey(keyId: string): void {
    for (const [token, entry] of this.entries) if (entry.keyId === keyId) this.entries.delete(token);
  }
}
