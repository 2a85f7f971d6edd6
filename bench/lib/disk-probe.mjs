// How long the disk under Parley's data directory takes to make a write durable. Every
// acknowledged message waits for one such flush (SQLite WAL, synchronous = FULL), so this is
// the floor under the ack and delivery latencies, printed beside them so they can be read.
import fs from 'node:fs';
import path from 'node:path';
import { makeTmpDir } from './procs.mjs';

const PAGE = 4096;

/**
 * Overwrites one 4 KiB page of a preallocated file and fdatasyncs it `rounds` times, the way a
 * WAL commit that does not grow the file does.
 *
 * @example
 * const { p50Ms, p99Ms } = probeDisk(); // e.g. { p50Ms: 0.4, p99Ms: 2.1, rounds: 200 }
 */
export function probeDisk(rounds = 200) {
  const dir = makeTmpDir('disk');
  const file = path.join(dir, 'probe.bin');
  const fd = fs.openSync(file, 'w+');
  try {
    const page = Buffer.alloc(PAGE, 1);
    fs.writeSync(fd, Buffer.alloc(PAGE * 64));
    fs.fsyncSync(fd);
    const ms = [];
    for (let i = 0; i < rounds; i += 1) {
      page.writeUInt32LE(i, 0);
      fs.writeSync(fd, page, 0, PAGE, (i % 64) * PAGE);
      const t = process.hrtime.bigint();
      fs.fdatasyncSync(fd);
      ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    ms.sort((a, b) => a - b);
    const at = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
    return { p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), maxMs: round(ms[ms.length - 1]), rounds, dir: path.dirname(dir) };
  } finally {
    fs.closeSync(fd);
  }
}

const round = (x) => Math.round(x * 1000) / 1000;
