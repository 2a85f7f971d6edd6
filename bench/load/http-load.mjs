// HTTP load generator: `node bench/load/http-load.mjs <config.json>`.
// Open loop: requests are started on a fixed schedule (`rate` per second) whatever the
// answers do, over keep-alive connections, for `warmupMs` + `measureMs`. Latency is measured
// from the moment a request is started; requests that start late (the generator's own lag)
// are counted in `lateStarts`. Prints one `{"event":"result"}` line.
import fs from 'node:fs';
import http from 'node:http';
import { Histogram } from '../lib/hist.mjs';
import { nowUs } from '../lib/body.mjs';
import { cpuMicrosAll, machineBusyMicros } from '../lib/proc.mjs';
import { WorstPerSlice } from '../lib/slices.mjs';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { host = '127.0.0.1', port, paths, headers = {}, rate, warmupMs = 1000, measureMs = 5000, serverPids = [], expect } = config;
const agent = new http.Agent({ keepAlive: true, maxSockets: config.connections ?? 64 });
const hist = new Histogram();
const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
let measuring = false;
let started = 0;
let done = 0;
let measured = 0;
let errors = 0;
const errorSamples = [];
let badBodies = 0;
let lateStarts = 0;
// The worst latency of the requests started in each 100 ms of the window: where the tail is.
const slices = new WorstPerSlice(100_000);

setInterval(() => {
  if (process.ppid === 1) process.exit(2);
}, 1000).unref();

function fire(i) {
  const t0 = nowUs();
  const inWindow = measuring;
  started += 1;
  const req = http.request({ host, port, path: paths[i % paths.length], headers, agent }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      const us = nowUs() - t0;
      done += 1;
      if (res.statusCode !== 200) {
        errors += 1;
        if (errorSamples.length < 3) errorSamples.push(`${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 200)}`);
        return;
      }
      if (expect && i % 50 === 0) {
        const body = JSON.parse(Buffer.concat(chunks).toString());
        if ((body[expect.field]?.length ?? -1) !== expect.length) badBodies += 1;
      }
      if (inWindow) {
        hist.record(us);
        measured += 1;
        slices.record(t0, us);
      }
    });
  });
  req.on('error', (err) => {
    errors += 1;
    if (errorSamples.length < 3) errorSamples.push(err.message);
  });
  req.end();
}

const snap = () => {
  const self = process.cpuUsage();
  return { t: nowUs(), cpu: cpuMicrosAll(serverPids), load: self.user + self.system, machine: machineBusyMicros() };
};

const t0 = nowUs();
let i = 0;
const timer = setInterval(() => {
  const due = Math.floor(((nowUs() - t0) / 1e6) * rate) - i;
  if (due > 2) lateStarts += due - 1;
  for (let k = 0; k < due; k += 1) fire(i++);
}, 1);

await new Promise((r) => setTimeout(r, warmupMs));
// A server started cold (JIT, page cache) can build a queue in the warm-up that an open loop
// near its capacity takes seconds to drain; the window measures the steady state, so it starts
// once the requests in flight (rate x mean latency, by Little's law) have stayed at most
// `settleQueueMs` worth of requests for 50 ms, or after `settleMaxMs` more whatever the queue.
const settleLimit = Math.max(1, (rate * (config.settleQueueMs ?? 10)) / 1000);
const settleEnd = Date.now() + (config.settleMaxMs ?? 0);
let calm = 0;
while (calm < 5 && Date.now() < settleEnd) {
  calm = started - done - errors <= settleLimit ? calm + 1 : 0;
  await new Promise((r) => setTimeout(r, 10));
}
const settledMs = Math.round((nowUs() - t0) / 1000) - warmupMs;
const a = snap();
slices.start(a.t);
measuring = true;
await new Promise((r) => setTimeout(r, measureMs));
measuring = false;
const b = snap();
clearInterval(timer);
const end = Date.now() + 5000;
while (done + errors < started && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
const seconds = (b.t - a.t) / 1e6;
emit({
  event: 'result',
  seconds,
  windowUs: [a.t, b.t],
  requests: measured,
  achievedRate: measured / seconds,
  serverCpuUs: a.cpu === null ? null : b.cpu - a.cpu,
  loadCpuUs: b.load - a.load,
  otherCpuUs: a.cpu === null ? null : b.machine - a.machine - (b.cpu - a.cpu) - (b.load - a.load),
  errors,
  errorSamples,
  badBodies,
  lateStarts,
  // How long past the warm-up the window waited for the queue to drain; settleMaxMs if it never did.
  settledMs,
  settled: calm >= 5 || (config.settleMaxMs ?? 0) === 0,
  latency: hist.toJSON(),
  worstMsPer100ms: slices.toMs(),
});
process.exit(0);
