// Message bodies carry their send time, so any receiver can compute end-to-end latency
// without a lookup. All load processes run on one machine, and `process.hrtime()` reads the
// system-wide monotonic clock, so timestamps compare across processes.
const MARK = '~P~';
const MARK_BUF = Buffer.from(MARK);
const TS_DIGITS = 16;

/** Monotonic time in microseconds (fractional). */
export function nowUs() {
  const [s, ns] = process.hrtime();
  return s * 1e6 + ns / 1e3;
}

/** A body of exactly `size` ASCII bytes that embeds the send time. */
export function makeBody(size, tUs = nowUs()) {
  const ts = String(Math.round(tUs * 10)).padStart(TS_DIGITS, '0');
  const head = `${MARK}${ts}~`;
  return head + 'x'.repeat(Math.max(0, size - head.length));
}

/** The send time (us) embedded in a frame's body, or -1 when none is found in [start, end). */
export function readSendTimeUs(buf, start, end) {
  const at = buf.indexOf(MARK_BUF, start);
  if (at < 0 || at + MARK.length + TS_DIGITS > end) return -1;
  let v = 0;
  for (let i = at + MARK.length, stop = i + TS_DIGITS; i < stop; i += 1) v = v * 10 + (buf[i] - 48);
  return v / 10;
}
