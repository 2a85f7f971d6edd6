/**
 * The pause both SQLite batchers give the checkpoint worker: while any pause is held no new
 * batch starts; a pause is granted once the batch in flight (if any) has ended; when the last
 * pause is released, `onResume` lets queued batches go on.
 *
 * @example
 * const gate = new PauseGate(() => this.flush());
 * const resume = await gate.pause(this.running); // ... RESTART ...; resume();
 * // when a batch ends: gate.batchEnded();  before starting one: if (gate.paused) return;
 */
export class PauseGate {
  #held = 0;
  #waiting: (() => void)[] = [];

  constructor(private readonly onResume: () => void) {}

  /** Whether new batches must wait. */
  get paused(): boolean {
    return this.#held > 0;
  }

  /** Holds new batches; resolves when no batch is in flight, with the function that releases. */
  pause(batchInFlight: boolean): Promise<() => void> {
    this.#held += 1;
    let released = false;
    const resume = (): void => {
      if (released) return;
      released = true;
      this.#held -= 1;
      if (this.#held === 0) this.onResume();
    };
    if (!batchInFlight) return Promise.resolve(resume);
    return new Promise((resolve) => this.#waiting.push(() => resolve(resume)));
  }

  /** The batch in flight has ended (or will never end): grants the pauses waiting for it. */
  batchEnded(): void {
    for (const grant of this.#waiting.splice(0)) grant();
  }
}
