#!/usr/bin/env node
// Storage alone, no HTTP or WebSocket: appends across many small conversations through
// `openSqliteStorage` (append worker, checkpoint worker), as the ingest workload makes them.
// For A/B runs of storage changes, whose effect the whole-server benchmark's noise hides.
//
//   taskset -c 0 node bench/tools/storage-ingest.mjs [--groups 1000] [--messages 150000]
//     [--in-flight 800] [--rate 10000] [--timeline] [--client-ids v7|v4|seq] [--wal-frames]
//
// Prints messages/s and CPU us/message (every thread of the process) at saturation, then, with
// --rate, the append latency p50/p99 at that many appends/s (open loop). With --wal-frames, at
// the end: the frames the WAL holds since its last restart, by the b-tree each page belongs to,
// per commit (which pages a commit writes, and how many).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = (p) => import(path.join(root, 'packages/server/dist', p));
const { openSqliteStorage } = await dist('storage/sqlite/sqlite-storage.js');
const Database = createRequire(path.join(root, 'packages/server/package.json'))('better-sqlite3');
const { newId, newMessageId } = await dist('ids.js');
const { uuid7 } = await import(path.join(root, 'packages/sdk/dist/uuid7.js'));

const { values: o } = parseArgs({
  options: {
    groups: { type: 'string', default: '1000' },
    messages: { type: 'string', default: '150000' },
    'in-flight': { type: 'string', default: '800' },
    rate: { type: 'string', default: '0' },
    'rate-seconds': { type: 'string', default: '5' },
    // Also print the worst append latency of each 100 ms of the rate phase.
    timeline: { type: 'boolean', default: false },
    'wal-frames': { type: 'boolean', default: false },
    dir: { type: 'string', default: '/tmp/parley-storage-ingest' },
    // v7: time-ordered, as the SDK makes them (uuid7()); v4: random; seq: the load generator's.
    'client-ids': { type: 'string', default: 'v7' },
  },
});
const groups = Number(o.groups);
const total = Number(o.messages);
const inFlight = Number(o['in-flight']);

fs.rmSync(o.dir, { recursive: true, force: true });
const file = path.join(o.dir, 'parley.sqlite');
const storage = await openSqliteStorage({ file });
await storage.migrate();

const now = new Date().toISOString();
const users = [];
for (let i = 0; i < 100; i += 1) {
  const id = newId('US');
  await storage.createUser({ id, username: `u${i}`, passwordHash: 'x', createdAt: now });
  users.push(id);
}
const convs = [];
for (let g = 0; g < groups; g += 1) {
  const id = newId('CH');
  const members = [users[g % 100], users[(g + 33) % 100], users[(g + 67) % 100]];
  await storage.createConversation(
    { id, title: `g${g}`, subject: '', attributes: {}, invitePolicy: 'members', createdBy: members[0],
      createdAt: now, updatedAt: now, lastActivityAt: now, lastMessageIndex: 0 },
    members.map((userId, k) => ({ userId, role: k === 0 ? 'admin' : 'member', status: 'joined', invitedBy: null })),
  );
  convs.push({ id, members });
}

const body = 'x'.repeat(100);
let n = 0;
const nonce = randomUUID().slice(0, 8);
const clientId = { v7: uuid7, v4: randomUUID, seq: () => `${nonce}-${n}` }[o['client-ids']];
if (clientId === undefined) throw new Error('--client-ids is v7, v4 or seq');
function next() {
  const c = convs[Math.floor(Math.random() * groups)];
  n += 1;
  return storage.appendMessage({
    id: newMessageId(), conversationId: c.id, authorId: c.members[n % 3], body,
    clientId: clientId(), attributes: {}, createdAt: new Date().toISOString(),
  });
}

/** CPU ms per thread of this process (utime + stime from /proc, 10 ms ticks), by thread id. */
function threadCpu() {
  const out = new Map();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(f[11]) + Number(f[12])) * 10);
    } catch {}
  }
  return out;
}
function threadReport(before, count) {
  const after = threadCpu();
  const parts = [];
  for (const [tid, ms] of after) {
    const d = ms - (before.get(tid) ?? 0);
    if (d > 0) parts.push(`${tid === String(process.pid) ? 'main' : tid} ${((d * 1000) / count).toFixed(1)}`);
  }
  return `us/msg by thread: ${parts.join(', ')}`;
}

// Warm-up, then saturation.
await Promise.all(Array.from({ length: 2000 }, next));
const cpu0 = process.cpuUsage();
const th0 = threadCpu();
const t0 = process.hrtime.bigint();
let done = 0;
await new Promise((resolve, reject) => {
  let started = 0;
  const one = () => {
    if (started >= total) return;
    started += 1;
    next().then(() => {
      done += 1;
      if (done === total) resolve();
      else one();
    }, reject);
  };
  for (let i = 0; i < inFlight; i += 1) one();
});
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const walBytes = fs.statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
console.log(`saturation: ${groups} groups, ${total} appends, ${inFlight} in flight: ${Math.round(total / secs)} msg/s, ` +
  `${((cpu.user + cpu.system) / total).toFixed(1)} us CPU/msg (user ${(cpu.user / total).toFixed(1)}, system ${(cpu.system / total).toFixed(1)}); WAL file ${(walBytes / 2 ** 20).toFixed(1)} MiB`);
console.log(`  ${threadReport(th0, total)}`);

if (Number(o.rate) > 0) {
  const rate = Number(o.rate);
  const count = rate * Number(o['rate-seconds']);
  const lat = [];
  const worst = [];
  const c0 = process.cpuUsage();
  const th1 = threadCpu();
  const start = performance.now();
  await new Promise((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    const tick = () => {
      const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000));
      for (; sent < due; sent += 1) {
        const at = start + (sent * 1000) / rate;
        next().then(() => {
          const ms = performance.now() - at;
          lat.push(ms);
          const bucket = Math.floor((at - start) / 100);
          worst[bucket] = Math.max(worst[bucket] ?? 0, ms);
          acked += 1;
          if (acked === count) resolve();
        }, reject);
      }
      if (sent < count) setTimeout(tick, 1);
    };
    tick();
  });
  const c = process.cpuUsage(c0);
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))].toFixed(2);
  console.log(`rate: ${rate}/s for ${o['rate-seconds']} s: append p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, ` +
    `${((c.user + c.system) / count).toFixed(1)} us CPU/msg`);
  console.log(`  ${threadReport(th1, count)}`);
  if (o.timeline) console.log(`  worst append (ms) per 100 ms: ${worst.map((x) => x.toFixed(0)).join(' ')}`);
}
if (o['wal-frames']) walFrames(file);
await storage.close();
fs.rmSync(o.dir, { recursive: true, force: true });

/**
 * Counts the frames of the WAL's current generation (those whose salts match its header) by
 * the b-tree their page belongs to now (SQLite's dbstat table, read on a connection of its own).
 */
function walFrames(dbFile) {
  const wal = fs.readFileSync(`${dbFile}-wal`);
  if (wal.length < 32) return console.log('wal frames: the WAL is empty');
  const pageSize = wal.readUInt32BE(8);
  const salt = [wal.readUInt32BE(16), wal.readUInt32BE(20)];
  const pages = [];
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salt[0] || wal.readUInt32BE(at + 12) !== salt[1]) break;
    pages.push(wal.readUInt32BE(at));
    if (wal.readUInt32BE(at + 4) > 0) commits += 1;
  }
  const db = new Database(dbFile, { readonly: true });
  const owner = new Map(db.prepare('select pageno, name, pagetype from dbstat').all().map((r) => [r.pageno, `${r.name} ${r.pagetype}`]));
  db.close();
  const byTree = new Map();
  for (const pgno of pages) {
    const tree = pgno === 1 ? 'page 1 (header)' : (owner.get(pgno) ?? 'free or unknown');
    byTree.set(tree, (byTree.get(tree) ?? 0) + 1);
  }
  console.log(`wal frames: ${pages.length} frames of ${pageSize} bytes in ${commits} commits, ${(pages.length / Math.max(1, commits)).toFixed(1)} per commit`);
  for (const [tree, n] of [...byTree].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${(n / Math.max(1, commits)).toFixed(2).padStart(6)} per commit  ${tree}`);
  }
}
