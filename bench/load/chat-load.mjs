// Load generator process: `node bench/load/chat-load.mjs <config.json>`.
//
// Connects the clients listed in the config, runs one mode, and prints one line
// `{"event":"result",...}` on stdout. The harness pins it to its own core.
//
// Modes:
//   fanout       closed loop: at most `window` messages not yet delivered to every member
//   rate         open loop: `rate` messages/s spread over the senders (latency at fixed load)
//   ingest       closed loop on acks: each sender keeps `window` sends unacknowledged
//   connections  connect, print `{"event":"connected"}`, hold until "close" on stdin
//
// Server CPU is read from /proc for `serverPids` at the edges of the measured window, so it
// covers exactly the work measured.
import fs from 'node:fs';
import readline from 'node:readline';
import { LoadState, connectAll, sendOne } from './clients.mjs';
import { makeBody, nowUs } from '../lib/body.mjs';
import { cpuMicrosAll, machineBusyMicros, rssKiB } from '../lib/proc.mjs';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { mode, dialect = 'json', host = '127.0.0.1', serverPids = [], bodySize = 100 } = config;
const state = new LoadState();
const body = () => makeBody(bodySize);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

// Never outlive the harness.
setInterval(() => {
  if (process.ppid === 1) process.exit(2);
}, 1000).unref();

function expandSpecs() {
  if (config.clients) return config.clients;
  const t = config.clientTemplate;
  return Array.from({ length: t.count }, (_, i) => ({
    port: t.ports[i % t.ports.length],
    path: t.paths[i % t.paths.length],
    localAddress: t.localAddresses?.[i % t.localAddresses.length],
  }));
}

function snapshot() {
  const self = process.cpuUsage();
  return {
    t: nowUs(),
    deliveries: state.deliveries,
    acks: state.acks,
    sent: state.sent,
    cpuUs: cpuMicrosAll(serverPids),
    loadCpuUs: self.user + self.system,
    machineUs: machineBusyMicros(),
  };
}

/** Warm up, then measure for `measureMs` with latencies recorded; returns the window's deltas. */
async function measureWindow() {
  await sleep(config.warmupMs ?? 1000);
  const a = snapshot();
  state.ackSlices.start(a.t);
  state.measuring = true;
  await sleep(config.measureMs ?? 5000);
  state.measuring = false;
  const b = snapshot();
  const seconds = (b.t - a.t) / 1e6;
  return {
    seconds,
    windowUs: [a.t, b.t],
    deliveries: b.deliveries - a.deliveries,
    acks: b.acks - a.acks,
    sent: b.sent - a.sent,
    serverCpuUs: a.cpuUs === null || b.cpuUs === null ? null : b.cpuUs - a.cpuUs,
    loadCpuUs: b.loadCpuUs - a.loadCpuUs,
    // CPU used by anything else on the machine during the window: the noise indicator.
    otherCpuUs: a.cpuUs === null ? null : b.machineUs - a.machineUs - (b.cpuUs - a.cpuUs) - (b.loadCpuUs - a.loadCpuUs),
  };
}

async function waitUntil(pred, timeoutMs, stepMs = 20) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(stepMs);
  }
  return pred();
}

/** Sends one message and counts how many deliveries one message makes (all members, or all but the sender). */
async function calibrate(senders, memberCount) {
  sendOne(state, senders[0], dialect, body);
  await waitUntil(() => state.acks >= 1 && state.deliveries >= memberCount - 1, 5000);
  await sleep(200);
  return state.deliveries;
}

async function runFanout(clients) {
  const senders = clients.filter((c) => c.spec.sendTo?.length);
  const perMsg = await calibrate(senders, config.members ?? clients.length);
  if (perMsg === 0) throw new Error('a message reached no member during calibration');
  const base = { delivered: state.deliveries, sent: state.sent };
  const window = config.window ?? 16;
  let running = true;
  let scheduled = false;
  let s = 0;
  const pump = () => {
    scheduled = false;
    while (running && state.sent - base.sent - (state.deliveries - base.delivered) / perMsg < window) {
      sendOne(state, senders[s % senders.length], dialect, body);
      s += 1;
    }
  };
  state.onProgress = () => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(pump);
    }
  };
  pump();
  const w = await measureWindow();
  running = false;
  await drain(perMsg, base);
  return { perMsg, ...w };
}

async function runRate(clients) {
  const senders = clients.filter((c) => c.spec.sendTo?.length);
  const perMsg = config.members ? await calibrate(senders, config.members) : 0;
  const base = { delivered: state.deliveries, sent: state.sent };
  const rate = config.rate;
  const t0 = nowUs();
  let s = 0;
  let lagMaxUs = 0;
  const timer = setInterval(() => {
    const now = nowUs();
    const due = Math.floor(((now - t0) / 1e6) * rate) - (state.sent - base.sent);
    if (due > 0) lagMaxUs = Math.max(lagMaxUs, now - (t0 + ((state.sent - base.sent + 1) / rate) * 1e6));
    for (let i = 0; i < due; i += 1) {
      sendOne(state, senders[s % senders.length], dialect, body);
      s += 1;
    }
  }, 1);
  const w = await measureWindow();
  clearInterval(timer);
  if (perMsg) await drain(perMsg, base);
  else await waitUntil(() => state.acks >= state.sent, config.drainMs ?? 3000);
  return { perMsg, targetRate: rate, sendLagMaxMs: Math.round(lagMaxUs) / 1000, ...w };
}

async function runIngest(clients) {
  const senders = clients.filter((c) => c.spec.sendTo?.length);
  const window = config.window ?? 8;
  let running = true;
  state.onAck = (c) => {
    if (running && c.spec.sendTo?.length) sendOne(state, c, dialect, body);
  };
  for (const c of senders) for (let i = 0; i < window; i += 1) sendOne(state, c, dialect, body);
  const w = await measureWindow();
  running = false;
  await waitUntil(() => state.acks >= state.sent, config.drainMs ?? 3000);
  return w;
}

async function drain(perMsg, base) {
  const ok = await waitUntil(
    () => state.acks >= state.sent && state.deliveries - base.delivered >= (state.sent - base.sent) * perMsg,
    config.drainMs ?? 3000,
  );
  state.undelivered = ok ? 0 : (state.sent - base.sent) * perMsg - (state.deliveries - base.delivered);
}

async function runConnections(clients) {
  emit({ event: 'connected', connected: clients.length });
  const rl = readline.createInterface({ input: process.stdin });
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, config.holdTimeoutMs ?? 120_000);
    rl.on('line', (line) => {
      if (line.trim() === 'close') {
        clearTimeout(timer);
        resolve();
      }
    });
    rl.on('close', resolve);
  });
  return { stillOpen: clients.filter((c) => !c.closed).length };
}

const MODES = { fanout: runFanout, rate: runRate, ingest: runIngest, connections: runConnections };

async function main() {
  const run = MODES[mode];
  if (!run) throw new Error(`unknown mode ${mode}`);
  const rssBefore = serverPids.map((pid) => rssKiB(pid));
  const conn = await connectAll(state, expandSpecs(), {
    dialect,
    host,
    concurrency: config.connectConcurrency ?? 256,
    timeoutMs: config.connectTimeoutMs ?? 30_000,
  });
  if (conn.connected === 0) throw new Error(`no client connected: ${conn.failureSamples.join('; ')}`);
  if (conn.failed > 0 && mode !== 'connections') {
    throw new Error(`${conn.failed} clients failed to connect: ${conn.failureSamples.join('; ')}`);
  }
  const { clients, ...connStats } = conn;
  const out = await run(clients);
  state.closing = true;
  emit({
    event: 'result',
    mode,
    ...connStats,
    rssBeforeKiB: rssBefore,
    ...out,
    totals: { sent: state.sent, acks: state.acks, deliveries: state.deliveries },
    undelivered: state.undelivered ?? 0,
    errors: state.errors,
    errorSamples: state.errorSamples,
    unexpectedCloses: state.unexpectedCloses,
    closeSamples: state.closeSamples,
    slowPathFrames: state.slowPathFrames,
    delivery: state.deliveryHist.toJSON(),
    ack: state.ackHist.toJSON(),
    ackWorstMsPer100ms: state.ackSlices.toMs(),
    byLabel: Object.fromEntries([...state.byLabel].map(([k, h]) => [k, h.toJSON()])),
  });
  for (const c of clients) c.reset();
  process.exit(0);
}

main().catch((err) => {
  emit({ event: 'error', message: err.message });
  process.exit(1);
});
