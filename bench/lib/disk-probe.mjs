// How long the disk under Parley's data directory takes to make a write durable. Every
// acknowledged message waits for one such flush (SQLite WAL, synchronous = FULL), so this is
// the floor under the ack and delivery latencies, printed beside them so they can be read.
import fs from 'node:fs';
import path from 'node:path';
import { makeTmpDir } from './procs.mjs';

const PAGE = 4096;

/**
 * Overwrites one 4 KiB page of a preallocated file and fsyncs it (SQLite's unix VFS calls
 * fsync, not fdatasync, unless built with HAVE_FDATASYNC; better-sqlite3's build does not),
 * the way a WAL commit that does not grow the file does: `rounds` times back to back, then
 * `idleRounds` times each after `idleMs` of sleep, as a commit at a low message rate comes
 * (the latency workload sends every 10 ms; on a virtual disk a flush after idle costs more).
 *
 * @example
 * const probe = await probeDisk(); // e.g. { p50Ms: 0.3, p99Ms: 2.1, idle: { p50Ms: 0.8, ... }, ... }
 */
export async function probeDisk({ rounds = 200, idleRounds = 50, idleMs = 10 } = {}) {
  const dir = makeTmpDir('disk');
  const file = path.join(dir, 'probe.bin');
  const fd = fs.openSync(file, 'w+');
  try {
    const page = Buffer.alloc(PAGE, 1);
    fs.writeSync(fd, Buffer.alloc(PAGE * 64));
    fs.fsyncSync(fd);
    const flush = (i) => {
      page.writeUInt32LE(i, 0);
      fs.writeSync(fd, page, 0, PAGE, (i % 64) * PAGE);
      const t = process.hrtime.bigint();
      fs.fsyncSync(fd);
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    const busy = [];
    for (let i = 0; i < rounds; i += 1) busy.push(flush(i));
    const idle = [];
    for (let i = 0; i < idleRounds; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, idleMs));
      idle.push(flush(i));
    }
    return { ...summary(busy), rounds, idle: { ...summary(idle), rounds: idleRounds, idleMs }, dir: path.dirname(dir) };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The probe as one line of the report.
 *
 * @example
 * describeDisk(await probeDisk()); // 'disk under /tmp: fsync of one 4 KiB page p50 0.3 ms ...'
 */
export function describeDisk(d) {
  return `disk under ${d.dir}: fsync of one 4 KiB page p50 ${d.p50Ms} ms, p99 ${d.p99Ms} ms, max ${d.maxMs} ms (${d.rounds} back to back); ` +
    `after ${d.idle.idleMs} ms idle p50 ${d.idle.p50Ms} ms, p99 ${d.idle.p99Ms} ms (${d.idle.rounds}): the floor under every durable ack`;
}

function summary(ms) {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), maxMs: round(sorted[sorted.length - 1]) };
}

const round = (x) => Math.round(x * 1000) / 1000;
