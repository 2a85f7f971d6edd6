import { describe, expect, it } from 'vitest';
import { PauseGate } from './pause-gate.js';

describe('PauseGate', () => {
  it('grants at once when idle, waits for the batch in flight otherwise, and resumes after the last release', async () => {
    let resumed = 0;
    const gate = new PauseGate(() => (resumed += 1));
    const first = await gate.pause(false);
    expect(gate.paused).toBe(true);

    let granted = false;
    const second = gate.pause(true).then((release) => ((granted = true), release));
    await Promise.resolve();
    expect(granted).toBe(false);
    gate.batchEnded();
    const releaseSecond = await second;
    expect(granted).toBe(true);

    first();
    first(); // a second call of the same release counts once
    expect(gate.paused).toBe(true);
    expect(resumed).toBe(0);
    releaseSecond();
    expect(gate.paused).toBe(false);
    expect(resumed).toBe(1);
  });
});
