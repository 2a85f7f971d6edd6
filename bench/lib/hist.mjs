// A mergeable log-bucket latency histogram: 0.5 % relative precision from 1 us to 100 s, a
// few KiB, so load processes can ship it to the harness and percentiles are never averaged.
const GROWTH = 1.005;
const LOG_G = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(1e8) / LOG_G) + 2;

/**
 * @example
 * const h = new Histogram(); h.record(812); h.percentile(0.99) // ~812 (us)
 */
export class Histogram {
  constructor() {
    this.counts = new Uint32Array(BUCKETS);
    this.count = 0;
    this.sum = 0;
    this.max = 0;
    this.min = Infinity;
  }

  /** Records one value in microseconds. */
  record(us) {
    const v = us < 1 ? 1 : us;
    let i = Math.floor(Math.log(v) / LOG_G);
    if (i >= BUCKETS) i = BUCKETS - 1;
    this.counts[i] += 1;
    this.count += 1;
    this.sum += us;
    if (us > this.max) this.max = us;
    if (us < this.min) this.min = us;
  }

  /** Value (us) below which a fraction `q` of the records fall. */
  percentile(q) {
    if (this.count === 0) return null;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i += 1) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.max, GROWTH ** (i + 0.5));
    }
    return this.max;
  }

  merge(other) {
    for (let i = 0; i < BUCKETS; i += 1) this.counts[i] += other.counts[i];
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
    this.min = Math.min(this.min, other.min);
    return this;
  }

  /** Compact JSON form: only non-empty buckets. */
  toJSON() {
    const buckets = [];
    for (let i = 0; i < BUCKETS; i += 1) if (this.counts[i] > 0) buckets.push([i, this.counts[i]]);
    return { count: this.count, sum: this.sum, max: this.max, min: this.count ? this.min : null, buckets };
  }

  static fromJSON(json) {
    const h = new Histogram();
    for (const [i, c] of json.buckets) h.counts[i] = c;
    h.count = json.count;
    h.sum = json.sum;
    h.max = json.max;
    h.min = json.min ?? Infinity;
    return h;
  }

  /** Summary in milliseconds. */
  summary() {
    const ms = (us) => (us === null ? null : Math.round(us) / 1000);
    return {
      count: this.count,
      p50Ms: ms(this.percentile(0.5)),
      p99Ms: ms(this.percentile(0.99)),
      p999Ms: ms(this.percentile(0.999)),
      maxMs: this.count ? ms(this.max) : null,
      meanMs: this.count ? ms(this.sum / this.count) : null,
    };
  }
}
