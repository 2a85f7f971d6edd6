// The worst latency in each fixed slice of a measurement window: where a tail sits in time (one
// queue at the window's start, a stall every checkpoint, or spread evenly), which a percentile
// cannot say.

/**
 * @example
 * const w = new WorstPerSlice(100_000); w.start(t0);
 * w.record(t0 + 250_000, 812); // slice 2
 * w.toMs() // [null, null, 0.8]
 */
export class WorstPerSlice {
  /** @param {number} sliceUs the slice length in microseconds */
  constructor(sliceUs) {
    this.sliceUs = sliceUs;
    this.startUs = 0;
    this.worst = [];
  }

  /** Starts the window at `startUs`; what was recorded before is dropped. */
  start(startUs) {
    this.startUs = startUs;
    this.worst = [];
  }

  /** Records a latency (us) in the slice of `atUs`; times before the window's start are ignored. */
  record(atUs, latencyUs) {
    const slice = Math.floor((atUs - this.startUs) / this.sliceUs);
    if (slice < 0) return;
    const prev = this.worst[slice];
    if (prev === undefined || latencyUs > prev) this.worst[slice] = latencyUs;
  }

  /** Each slice's worst in ms (0.1 ms steps), `null` for a slice with nothing recorded. */
  toMs() {
    return Array.from(this.worst, (v) => (v === undefined ? null : Math.round(v / 100) / 10));
  }
}
