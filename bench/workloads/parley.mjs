// Everything that runs against Parley: the shared chat suite on one SQLite-backed process,
// then the Parley-only workloads (history, PostgreSQL ingest, two processes with Redis).
// A workload that cannot run records why; it never records a number it did not measure.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { PARLEY_MAIN, ROOT, parleyTarget, setupParley, startParley } from '../lib/targets.mjs';
import { onCleanup } from '../lib/procs.mjs';
import { watchRedis } from '../lib/redis-watch.mjs';
import { Histogram } from '../lib/hist.mjs';
import { roomsFor } from './chat.mjs';
import * as chat from './chat.mjs';
import { history } from './history.mjs';
import { log, runSteps } from './suite.mjs';

const PG_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Rooms and user count the selected chat steps need. */
function needs(scale, steps) {
  const names = new Set(steps.map((s) => s[1]));
  const all = roomsFor(scale);
  const rooms = all.filter(
    (r) =>
      (r.key === 'fan100' && (names.has('fanout') || names.has('latency100'))) ||
      (r.key === `lat${scale.bigGroup}` && names.has('latencyBig')) ||
      (r.key.startsWith('ing') && (names.has('ingest') || names.has('ingestRate'))),
  );
  const users = rooms.reduce((m, r) => Math.max(m, ...r.members.map((u) => u + 1)), 1);
  return { rooms, users };
}

/**
 * Brings packages/server/dist up to date (`tsc -b`, incremental: a few seconds when nothing
 * changed), so a clean clone benchmarks without a separate build and a stale dist is never
 * measured by mistake. A failed build falls back to an existing dist, with a warning.
 */
function buildServer() {
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  if (!fs.existsSync(tsc)) return log('parley: typescript is not installed; using packages/server/dist as it is');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [tsc, '-b', 'packages/protocol', 'packages/server'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status === 0) log(`parley: server built (tsc -b, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  else log(`parley: WARNING tsc -b failed, measuring the existing dist:\n${(r.stdout + r.stderr).split('\n').slice(0, 8).join('\n')}`);
}

export async function runParley({ scale, selected, steps, raw, reasons, profileDir, nodeFlags = [], build = true }) {
  if (build) buildServer();
  if (!fs.existsSync(PARLEY_MAIN)) {
    reasons.all = 'packages/server/dist/main.js is missing (npm run build)';
    log(`parley: ${reasons.all}`);
    return;
  }
  // Node's own flags for every Parley process (`--node-flag`, for experiments), then the profiler's.
  const execArgv = [...nodeFlags, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(profileDir)] : [])];
  if (steps.length) await runMain({ scale, steps, raw, reasons, execArgv });
  const extra = [
    ['history', () => history({ scale, raw, reasons, execArgv })],
    ['ingest-postgres', () => ingestPostgres({ scale, raw, reasons, execArgv })],
    ['scaleout', () => scaleout({ scale, raw, reasons, execArgv })],
  ];
  for (const [name, fn] of extra) {
    if (!selected(name)) continue;
    try {
      await fn();
    } catch (err) {
      reasons[name] = err.message;
      log(`  ${name}: FAILED ${err.message}`);
    }
  }
}

async function runMain({ scale, steps, raw, reasons, execArgv }) {
  log('parley (SQLite, one process)');
  let server;
  try {
    server = await startParley({ execArgv });
    const { rooms, users } = needs(scale, steps.filter((s) => !s[3]?.fresh));
    const target = await setupParley([server], { userCount: users, rooms, log });
    const fresh = async () => {
      const s = await startParley({ execArgv });
      try {
        const t = await setupParley([s], { userCount: scale.connUsers, rooms: [], log });
        return { ...t, stop: () => s.stop() };
      } catch (err) {
        await s.stop();
        throw err;
      }
    };
    await runSteps(target, steps, raw, scale.quietWaitMs, fresh);
    for (const [workload, message] of Object.entries(raw.errors ?? {})) reasons[workload] = message;
  } catch (err) {
    log(`  parley failed: ${err.message}`);
    if (server) log(server.logTail());
    for (const [workload] of steps) reasons[workload] = err.message;
  } finally {
    await server?.stop();
  }
}

/** A fresh PostgreSQL schema, dropped on exit; null (with the reason) when unreachable. */
async function freshSchema() {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (err) {
    return { error: `PostgreSQL not reachable at ${PG_URL}: ${err.message}` };
  }
  const schema = `bench_${Date.now().toString(36)}_${process.pid}`;
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  onCleanup(async () => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  });
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { schema, url: url.toString() };
}

async function ingestPostgres({ scale, raw, reasons, execArgv }) {
  log('parley (PostgreSQL, one process)');
  const db = await freshSchema();
  if (db.error) {
    reasons['ingest-postgres'] = db.error;
    log(`  ${db.error}`);
    return;
  }
  const server = await startParley({ env: { DATABASE_URL: db.url }, execArgv });
  try {
    await assertPostgresUsed(db.schema);
    const rooms = roomsFor(scale).filter((r) => r.key.startsWith('ing'));
    const target = await setupParley([server], { userCount: scale.ingestUsers, rooms, log });
    await runSteps(target, [['ingest-postgres', 'ingestPostgres', (t) => chat.ingest(t, scale)]], raw, scale.quietWaitMs);
    if (raw.errors?.['ingest-postgres']) reasons['ingest-postgres'] = raw.errors['ingest-postgres'];
  } finally {
    await server.stop();
  }
}

/** Fails unless the server really stored its tables in the fresh schema (not SQLite). */
async function assertPostgresUsed(schema) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  const { rows } = await client.query('SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1', [schema]);
  await client.end();
  if (rows[0].n === 0) throw new Error(`the server did not create its tables in PostgreSQL schema ${schema}: DATABASE_URL is not used`);
}

async function scaleout({ scale, raw, reasons, execArgv }) {
  log('parley (two processes, Redis + PostgreSQL)');
  const db = await freshSchema();
  if (db.error) {
    reasons.scaleout = db.error;
    return;
  }
  const env = { DATABASE_URL: db.url, REDIS_URL };
  const a = await startParley({ env, execArgv });
  let b;
  try {
    await assertPostgresUsed(db.schema);
    b = await startParley({ env, execArgv });
    const rooms = roomsFor(scale).filter((r) => r.key === 'fan100');
    const single = await setupParley([a], { userCount: 100, rooms, log });
    const target = parleyTarget([a, b], single.users, new Map([['fan100', single.roomId('fan100')]]));
    const watch = watchRedis(REDIS_URL);
    await watch.ready;
    const clients = Array.from({ length: 100 }, (_, u) => ({
      ...target.client(u, [], u < 50 ? 0 : 1),
      label: u < 50 ? 'same' : 'other',
      sendTo: u < 10 ? [target.roomId('fan100')] : undefined,
    }));
    const r = await chat.runLoad({
      mode: 'rate',
      dialect: 'json',
      serverPids: target.pids,
      members: 100,
      rate: 100,
      clients,
      warmupMs: scale.warmupMs,
      measureMs: scale.scaleoutMs,
      drainMs: 5000,
    });
    await new Promise((res) => setTimeout(res, 300));
    watch.close();
    const same = Histogram.fromJSON(r.byLabel.same).summary();
    const other = Histogram.fromJSON(r.byLabel.other).summary();
    const result = {
      sent: r.totals.sent,
      redis: { ...watch.counts },
      publishesPerMessage: watch.counts.withBody / r.totals.sent,
      same,
      other,
      addedP99Ms: other.p99Ms - same.p99Ms,
      undelivered: r.undelivered,
      problems: [],
    };
    if (r.undelivered) result.problems.push(`${r.undelivered} deliveries missing`);
    if (r.errors) result.problems.push(`${r.errors} error frames: ${r.errorSamples[0]}`);
    if (watch.counts.withBody === 0) {
      reasons.scaleout = 'no chat message was published on Redis: REDIS_URL is not used by the server';
      log(`  ${reasons.scaleout}`);
      return;
    }
    raw.scaleout = result;
    log(`  scaleout: ${result.publishesPerMessage.toFixed(3)} publishes/msg, p99 same ${same.p99Ms} ms, other ${other.p99Ms} ms`);
  } finally {
    await b?.stop();
    await a.stop();
  }
}

