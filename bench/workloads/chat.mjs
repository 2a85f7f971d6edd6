// Chat workloads shared by Parley and the baselines: fan-out, latency at fixed rates, ingest
// across many small groups, idle connections. Each builds client specs from a target, runs
// one load process (pinned to the load core) and returns the measured figures.
import fs from 'node:fs';
import path from 'node:path';
import { CORES, collectResult, makeTmpDir, spawnNode } from '../lib/procs.mjs';
import { ROOT } from '../lib/targets.mjs';
import { Histogram } from '../lib/hist.mjs';
import { rssKiB } from '../lib/proc.mjs';
import { nowUs } from '../lib/body.mjs';

const LOAD = path.join(ROOT, 'bench/load/chat-load.mjs');
let cfgDir = null;
let cfgSeq = 0;

/** Rooms each workload needs, as { key, members } (member 0 creates the room on Parley). */
export function roomsFor(scale) {
  const range = (n, from = 0) => Array.from({ length: n }, (_, i) => from + i);
  const rooms = [
    { key: 'fan100', members: range(100) },
    { key: `lat${scale.bigGroup}`, members: range(scale.bigGroup) },
  ];
  for (let g = 0; g < scale.ingestGroups; g += 1) rooms.push({ key: `ing${g}`, members: ingestMembers(g, scale) });
  return rooms;
}

/** Group g of the ingest workload: 3 members, created by user g mod senders. */
function ingestMembers(g, scale) {
  const n = scale.ingestUsers;
  return [g % n, (g + 1) % n, (g + 2) % n];
}

/** Writes the config to a file and runs one load process to its result. */
export async function runLoad(config, onLine) {
  cfgDir ??= makeTmpDir('load');
  cfgSeq += 1;
  const file = path.join(cfgDir, `load-${cfgSeq}.json`);
  fs.writeFileSync(file, JSON.stringify(config));
  const child = spawnNode(CORES.load, [LOAD, file]);
  return collectResult(child, (line) => onLine?.(line, child));
}

function summarise(r) {
  const delivery = Histogram.fromJSON(r.delivery).summary();
  const ack = Histogram.fromJSON(r.ack).summary();
  const problems = [];
  if (r.errors) problems.push(`${r.errors} error frames (${r.errorSamples[0]})`);
  if (r.undelivered) problems.push(`${r.undelivered} deliveries missing after drain`);
  if (r.totals.acks < r.totals.sent) problems.push(`${r.totals.sent - r.totals.acks} sends never acknowledged`);
  if (r.unexpectedCloses) problems.push(`${r.unexpectedCloses} connections closed (${r.closeSamples[0]})`);
  return {
    seconds: r.seconds,
    windowUs: r.windowUs,
    deliveriesPerSec: r.deliveries / r.seconds,
    acksPerSec: r.acks / r.seconds,
    perMsg: r.perMsg,
    serverCpuUs: r.serverCpuUs,
    serverCpuPct: r.serverCpuUs === null ? null : r.serverCpuUs / 1e4 / r.seconds,
    loadCpuPct: r.loadCpuUs / 1e4 / r.seconds,
    otherCpuPct: r.otherCpuUs === null ? null : Math.max(0, r.otherCpuUs) / 1e4 / r.seconds,
    deliveries: r.deliveries,
    acks: r.acks,
    delivery,
    ack,
    ackWorstMsPer100ms: r.ackWorstMsPer100ms,
    sendLagMaxMs: r.sendLagMaxMs,
    byLabel: Object.fromEntries(Object.entries(r.byLabel).map(([k, h]) => [k, Histogram.fromJSON(h).summary()])),
    problems,
  };
}

function groupClients(target, key, members, senders) {
  const id = target.roomId(key);
  return Array.from({ length: members }, (_, u) => ({
    ...target.client(u, [key]),
    sendTo: u < senders ? [id] : undefined,
  }));
}

const timing = (scale) => ({ warmupMs: scale.warmupMs, measureMs: scale.measureMs, drainMs: 5000 });

/** Fan-out: one group of 100, closed loop, as many deliveries per second as the server takes. */
export async function fanout(target, scale) {
  const r = await runLoad({
    mode: 'fanout',
    dialect: target.dialect,
    serverPids: target.pids,
    members: 100,
    window: scale.fanoutWindow,
    clients: groupClients(target, 'fan100', 100, 10),
    ...timing(scale),
  });
  const s = summarise(r);
  return { ...s, value: s.deliveriesPerSec, cpuPerUnit: s.serverCpuUs / r.deliveries };
}

/** Latency: `members` in one group, open loop at `deliveriesPerSec`. */
export async function latency(target, scale, members, deliveriesPerSec) {
  const key = members === 100 ? 'fan100' : `lat${members}`;
  const r = await runLoad({
    mode: 'rate',
    dialect: target.dialect,
    serverPids: target.pids,
    members,
    rate: deliveriesPerSec / members,
    clients: groupClients(target, key, members, 10),
    connectConcurrency: 64,
    ...timing(scale),
    measureMs: scale.latencyMs,
  });
  const s = summarise(r);
  return { ...s, cpuPerUnit: r.deliveries ? s.serverCpuUs / r.deliveries : null };
}

function ingestClients(target, scale) {
  const rooms = new Map();
  const owned = new Map();
  for (let g = 0; g < scale.ingestGroups; g += 1) {
    const key = `ing${g}`;
    const members = ingestMembers(g, scale);
    for (const u of members) rooms.set(u, [...(rooms.get(u) ?? []), key]);
    owned.set(members[0], [...(owned.get(members[0]) ?? []), target.roomId(key)]);
  }
  return Array.from({ length: scale.ingestUsers }, (_, u) => ({ ...target.client(u, rooms.get(u) ?? []), sendTo: owned.get(u) }));
}

/** Durable ingest: every user sends to the small groups it created, `window` unacked each. */
export async function ingest(target, scale) {
  const r = await runLoad({
    mode: 'ingest',
    dialect: target.dialect,
    serverPids: target.pids,
    window: scale.ingestWindow,
    clients: ingestClients(target, scale),
    ...timing(scale),
  });
  const s = summarise(r);
  return { ...s, value: s.acksPerSec, cpuPerUnit: s.serverCpuUs / r.acks };
}

/** Ack latency of the ingest workload at a fixed rate of messages per second. */
export async function ingestAtRate(target, scale, rate) {
  const r = await runLoad({
    mode: 'rate',
    dialect: target.dialect,
    serverPids: target.pids,
    rate,
    clients: ingestClients(target, scale),
    ...timing(scale),
    measureMs: scale.latencyMs,
  });
  const s = summarise(r);
  return { ...s, cpuPerUnit: r.acks ? s.serverCpuUs / r.acks : null };
}

/**
 * Idle connections: `count` clients spread over several load processes and source addresses,
 * held while the server's RSS is read; memory per connection is RSS growth / connections.
 */
export async function connections(target, scale, count, users) {
  const perProc = Math.ceil(count / scale.connProcs);
  const localAddresses = Array.from({ length: scale.sourceAddresses }, (_, i) => `127.0.0.${i + 2}`);
  const paths = Array.from({ length: users }, (_, u) => target.client(u, []).path);
  const pid = target.pids[0];
  await new Promise((r) => setTimeout(r, 300));
  const rssBefore = rssKiB(pid);
  const t0 = nowUs();
  let tConnected = null;
  let connectedProcs = 0;
  let release;
  const allConnected = new Promise((r) => {
    release = r;
  });
  const children = [];
  const runs = [];
  for (let p = 0; p < scale.connProcs; p += 1) {
    const n = Math.min(perProc, count - p * perProc);
    runs.push(
      runLoad(
        {
          mode: 'connections',
          dialect: target.dialect,
          serverPids: [pid],
          connectConcurrency: 128,
          connectTimeoutMs: 60_000,
          holdTimeoutMs: 300_000,
          clientTemplate: { count: n, ports: [target.ports[0]], paths: rotate(paths, p * perProc), localAddresses },
        },
        (line, child) => {
          if (line.event !== 'connected') return;
          children.push(child);
          connectedProcs += 1;
          if (connectedProcs === scale.connProcs) {
            tConnected = nowUs();
            release();
          }
        },
      ),
    );
  }
  await Promise.race([allConnected, Promise.all(runs)]);
  await new Promise((r) => setTimeout(r, scale.holdMs));
  const rssAfter = rssKiB(pid);
  for (const c of children) c.stdin.write('close\n');
  const results = await Promise.all(runs);
  const connected = results.reduce((a, r) => a + r.connected, 0);
  const stillOpen = results.reduce((a, r) => a + r.stillOpen, 0);
  const problems = results.flatMap((r) => (r.failed ? [`${r.failed} failed: ${r.failureSamples[0]}`] : []));
  if (stillOpen < connected) problems.push(`${connected - stillOpen} dropped while idle`);
  return {
    windowUs: [t0, tConnected ?? nowUs()],
    requested: count,
    connected,
    held: stillOpen,
    connectsPerSec: connected / Math.max(...results.map((r) => r.connectSeconds)),
    rssBeforeKiB: rssBefore,
    rssAfterKiB: rssAfter,
    kibPerConnection: rssBefore && rssAfter && connected ? (rssAfter - rssBefore) / connected : null,
    problems,
  };
}

function rotate(list, by) {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}
