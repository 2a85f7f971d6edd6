// How long the disk under Parley's data directory takes to make a write durable. Every
// acknowledged message waits for one such flush (SQLite WAL, synchronous = FULL), so this is
// the floor under the ack and delivery latencies, printed beside them so they can be read.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
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
    const underWriteback = await probeCommitsUnderWriteback(dir);
    return { ...summary(busy), rounds, idle: { ...summary(idle), rounds: idleRounds, idleMs }, underWriteback, dir: path.dirname(dir) };
  } finally {
    fs.closeSync(fd);
  }
}

/*
 * The shape of the ingest workload at 10,000 msg/s across 1,000 groups, read off Parley's own
 * storage (`bench/tools/storage-ingest.mjs --groups 1000 --rate 10000`, `perf stat --per-thread`
 * on pwrite64 and fsync): a commit every ~1.4 ms writes ~30 WAL frames and fsyncs them, and the
 * checkpoint worker writes ~1,470 database pages every 250 ms (about 800 rewritten in place
 * and 670 appended as the file grows) and fsyncs the database.
 */
const COMMIT_PAGES = 30;
const COMMIT_GAP_MS = 1;
const CHECKPOINT = { everyMs: 250, rewrite: 800, append: 670, fileMiB: 64 };

// The checkpoint's writes, on a thread of their own as in the server (CommonJS, evaluated).
const WRITEBACK_SOURCE = `
const fs = require('node:fs');
const { workerData, parentPort } = require('node:worker_threads');
const { file, everyMs, rewrite, append, fileMiB } = workerData;
const fd = fs.openSync(file, 'r+');
const page = Buffer.alloc(${PAGE}, 3);
let pages = (fileMiB * 1024 * 1024) / ${PAGE};
const timer = setInterval(() => {
  for (let i = 0; i < rewrite; i += 1) fs.writeSync(fd, page, 0, ${PAGE}, Math.floor(Math.random() * pages) * ${PAGE});
  for (let i = 0; i < append; i += 1, pages += 1) fs.writeSync(fd, page, 0, ${PAGE}, pages * ${PAGE});
  fs.fsyncSync(fd);
}, everyMs);
parentPort.once('message', () => { clearInterval(timer); fs.closeSync(fd); parentPort.close(); });
`;

/**
 * Times WAL-sized commits (write ${COMMIT_PAGES} pages at the head of a preallocated log, fsync,
 * ~${COMMIT_GAP_MS} ms apart) first alone, then while another thread writes and fsyncs a
 * checkpoint's worth of database pages every 250 ms, as at 10,000 msg/s across 1,000 groups.
 * Both files share the one disk, so the second p99 is what a commit waits for when a
 * checkpoint flushes: the floor under that workload's ack p99, before any CPU is spent.
 */
async function probeCommitsUnderWriteback(dir, { aloneMs = 1500, withMs = 3000 } = {}) {
  const logFile = path.join(dir, 'wal.bin');
  const dbFile = path.join(dir, 'db.bin');
  const logBytes = 32 * 1024 * 1024;
  fs.writeFileSync(logFile, Buffer.alloc(logBytes));
  fs.writeFileSync(dbFile, Buffer.alloc(CHECKPOINT.fileMiB * 1024 * 1024));
  const fd = fs.openSync(logFile, 'r+');
  fs.fsyncSync(fd);
  const commit = Buffer.alloc(COMMIT_PAGES * PAGE, 5);
  const gap = new Int32Array(new SharedArrayBuffer(4));
  let offset = 0;
  const commits = (ms) => {
    const times = [];
    for (const end = performance.now() + ms; performance.now() < end; ) {
      const t = process.hrtime.bigint();
      fs.writeSync(fd, commit, 0, commit.length, offset);
      fs.fsyncSync(fd);
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
      offset = (offset + commit.length) % logBytes;
      Atomics.wait(gap, 0, 0, COMMIT_GAP_MS);
    }
    return times;
  };
  try {
    const alone = commits(aloneMs);
    const writer = new Worker(WRITEBACK_SOURCE, { eval: true, workerData: { file: dbFile, ...CHECKPOINT } });
    await new Promise((resolve) => writer.once('online', resolve));
    // Blocking this thread is fine: the writer runs on its own thread and timer.
    const withWriteback = commits(withMs);
    writer.postMessage('stop');
    await new Promise((resolve) => writer.once('exit', resolve));
    return {
      commitPages: COMMIT_PAGES,
      checkpointPages: CHECKPOINT.rewrite + CHECKPOINT.append,
      checkpointEveryMs: CHECKPOINT.everyMs,
      alone: { ...summary(alone), commits: alone.length },
      withWriteback: { ...summary(withWriteback), commits: withWriteback.length },
    };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(logFile, { force: true });
    fs.rmSync(dbFile, { force: true });
  }
}

/**
 * The probe as one line of the report.
 *
 * @example
 * describeDisk(await probeDisk()); // 'disk under /tmp: fsync of one 4 KiB page p50 0.3 ms ...'
 */
export function describeDisk(d) {
  const w = d.underWriteback;
  return `disk under ${d.dir}: fsync of one 4 KiB page p50 ${d.p50Ms} ms, p99 ${d.p99Ms} ms, max ${d.maxMs} ms (${d.rounds} back to back); ` +
    `after ${d.idle.idleMs} ms idle p50 ${d.idle.p50Ms} ms, p99 ${d.idle.p99Ms} ms (${d.idle.rounds}): the floor under every durable ack\n` +
    `disk under load: a ${w.commitPages}-page commit (write + fsync) p50 ${w.alone.p50Ms} ms, p99 ${w.alone.p99Ms} ms alone; ` +
    `p50 ${w.withWriteback.p50Ms} ms, p99 ${w.withWriteback.p99Ms} ms, max ${w.withWriteback.maxMs} ms while ${w.checkpointPages} database pages ` +
    `are written and fsynced every ${w.checkpointEveryMs} ms (a checkpoint at 10,000 msg/s across 1,000 groups): the floor under that ack p99`;
}

function summary(ms) {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), maxMs: round(sorted[sorted.length - 1]) };
}

const round = (x) => Math.round(x * 1000) / 1000;
