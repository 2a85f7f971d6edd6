// The chat measurements every target runs, and a runner that records results or errors.
import * as chat from './chat.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { machineBusyMicros } from '../lib/proc.mjs';

let profileDir = null;

/** With `--profile DIR`, measurement windows are logged to DIR/windows.json for profile-summary. */
export function setProfileDir(dir) {
  profileDir = dir;
}

export function recordWindow(target, measure, windowUs) {
  if (!profileDir || !windowUs) return;
  const file = path.join(profileDir, 'windows.json');
  const list = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : [];
  list.push({ target: target.key ?? target, measure, pids: target.pids ?? [], windowUs });
  fs.mkdirSync(profileDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(list, null, 2));
}

export const log = (msg) => process.stderr.write(`${msg}\n`);

/** The chat measurements a baseline or Parley runs, by workload. */
export function chatSuite(scale, selected) {
  const steps = [];
  if (selected('fanout')) steps.push(['fanout', 'fanout', (t) => chat.fanout(t, scale)]);
  if (selected('latency')) {
    steps.push(['latency', 'latency100', (t) => chat.latency(t, scale, 100, 10_000)]);
    steps.push(['latency', 'latencyBig', (t) => chat.latency(t, scale, scale.bigGroup, scale.bigRate)]);
  }
  if (selected('ingest')) {
    steps.push(['ingest', 'ingest', (t) => chat.ingest(t, scale)]);
    steps.push(['ingest', 'ingestRate', (t) => chat.ingestAtRate(t, scale, scale.ingestRate)]);
  }
  // On a fresh server: memory per connection is RSS growth, which a heap grown by earlier
  // workloads would hide (freed space is reused before RSS grows).
  if (selected('connections')) {
    steps.push(['connections', 'connections', (t) => chat.connections(t, scale, scale.connections, scale.connUsers), { fresh: true }]);
  }
  return steps;
}

/** Runs `steps` against a target, recording results or errors into `out`. */
export async function runSteps(target, steps, out, quietWaitMs = 3000, makeFresh = null) {
  for (const [workload, name, fn, opts] of steps) {
    await waitQuiet(quietWaitMs);
    const t0 = Date.now();
    let fresh = null;
    try {
      if (opts?.fresh && makeFresh) fresh = await makeFresh();
      const t = fresh ?? target;
      const r = await fn(t);
      out[name] = r;
      recordWindow(t, name, r.windowUs);
      log(`  ${name}: ${describe(r)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (err) {
      out[name] = { error: err.message };
      (out.errors ??= {})[workload] = err.message;
      log(`  ${name}: FAILED ${err.message}`);
    } finally {
      await fresh?.stop();
    }
  }
}

function describe(r) {
  const parts = [];
  if (r.value !== undefined) parts.push(`${Math.round(r.value).toLocaleString('en-US')}/s`);
  if (r.delivery?.count) parts.push(`delivery p50 ${r.delivery.p50Ms} p99 ${r.delivery.p99Ms} ms`);
  if (r.ack?.count) parts.push(`ack p50 ${r.ack.p50Ms} p99 ${r.ack.p99Ms} ms`);
  if (r.cpuPerUnit) parts.push(`${r.cpuPerUnit.toFixed(2)} us CPU/unit`);
  if (r.serverCpuPct !== undefined && r.serverCpuPct !== null) parts.push(`server ${r.serverCpuPct.toFixed(0)}% load ${r.loadCpuPct.toFixed(0)}% other ${r.otherCpuPct?.toFixed(0)}%`);
  if (r.held !== undefined) parts.push(`${r.held} held, ${r.kibPerConnection?.toFixed(2)} KiB each, ${Math.round(r.connectsPerSec)} connects/s`);
  if (r.latency) parts.push(`p50 ${r.latency.p50Ms} p99 ${r.latency.p99Ms} ms at ${Math.round(r.achievedRate)} req/s`);
  if (r.problems?.length) parts.push(`PROBLEMS: ${r.problems.join('; ')}`);
  return parts.join(', ');
}

/**
 * Other engineers' builds and tests share this machine. Before a measurement, wait (up to
 * `maxMs`) until the machine's CPU use, with the target idle, drops under a quarter core.
 * The CPU used by others during each window is also recorded (`otherCpuPct`).
 */
let quietBudgetMs = Infinity;

/** Caps the total time all waits for quiet may take in one run (the quick run's 3 minutes). */
export function setQuietBudget(ms) {
  quietBudgetMs = ms;
}

export async function waitQuiet(maxMs) {
  const started = Date.now();
  const end = started + Math.min(maxMs, quietBudgetMs);
  let busyPct = 0;
  for (;;) {
    const a = machineBusyMicros();
    await new Promise((r) => setTimeout(r, 250));
    const b = machineBusyMicros();
    if (a === null || b === null) return;
    busyPct = (b - a) / 2500;
    if (busyPct < 25 || Date.now() >= end) break;
  }
  quietBudgetMs = Math.max(0, quietBudgetMs - (Date.now() - started));
  if (busyPct >= 25) log(`  (machine busy with other work: ${busyPct.toFixed(0)}% CPU; measuring anyway)`);
}
