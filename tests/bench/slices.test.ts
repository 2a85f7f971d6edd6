import { describe, expect, it } from 'vitest';

/** The bench's per-slice worst latency (plain JavaScript), typed as far as these tests use it. */
interface WorstPerSliceLike {
  start(startUs: number): void;
  record(atUs: number, latencyUs: number): void;
  toMs(): (number | null)[];
}
const { WorstPerSlice } = (await import(new URL('../../bench/lib/slices.mjs', import.meta.url).href)) as {
  WorstPerSlice: new (sliceUs: number) => WorstPerSliceLike;
};

describe('WorstPerSlice', () => {
  it('keeps the worst latency of each slice, by the time the work started', () => {
    const w = new WorstPerSlice(100_000);
    w.start(1_000_000);
    w.record(1_000_000, 2_000);
    w.record(1_099_999, 7_500);
    w.record(1_050_000, 3_000);
    // Started in the third slice, however late it ended.
    w.record(1_200_001, 150_049);
    expect(w.toMs()).toEqual([7.5, null, 150]);
  });

  it('ignores work started before the window, and starts afresh', () => {
    const w = new WorstPerSlice(100_000);
    w.start(500_000);
    w.record(499_999, 90_000);
    expect(w.toMs()).toEqual([]);
    w.record(500_000, 1_000);
    w.start(2_000_000);
    w.record(2_150_000, 4_200);
    expect(w.toMs()).toEqual([null, 4.2]);
  });
});
