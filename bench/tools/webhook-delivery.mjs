#!/usr/bin/env node
// What a webhook costs and how fast its events arrive (docs/integrators.md section 5, ADR 0016),
// on a Parley server of its own (SQLite, pinned to core 0) with this process (pinned to core 1)
// as both the site's backend sending messages over REST and its webhook receiver.
//
//   taskset -c 1 node bench/tools/webhook-delivery.mjs [--conversations 100] [--rate 1000]
//     [--seconds 5] [--burst 20000] [--json PATH] [--profile DIR]
//
// Three phases on the same conversations, all created through one API key:
//   1. no webhook: messages at --rate for --seconds (open loop): server CPU per message, send p99;
//   2. the key's webhook set, the same load: server CPU per message, send p99, and the webhook
//      latency (the send's start to the receiver's POST) p50/p99; every message must arrive;
//   3. a burst of --burst messages, 64 sends in flight: webhooks/s until the last one arrived.
// Not part of `npm run bench`: SPEC 4 has no webhook figure. Build first (`npm run build`).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Histogram } from '../lib/hist.mjs';
import { cpuMicros } from '../lib/proc.mjs';
import { CORES, freePort, makeTmpDir, shutdown, spawnNode, waitHealthy } from '../lib/procs.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: o } = parseArgs({
  options: {
    conversations: { type: 'string', default: '100' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '5' },
    burst: { type: 'string', default: '20000' },
    json: { type: 'string' },
    profile: { type: 'string' },
  },
});
const CONVERSATIONS = Number(o.conversations);
const RATE = Number(o.rate);
const SECONDS = Number(o.seconds);
const BURST = Number(o.burst);

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

// The receiver: every POST's latency from the send time the body carries; ids de-duplicated.
const seen = new Set();
let latency = new Histogram();
let received = 0;
let lastReceivedUs = 0;
const receiver = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (event.type === 'messageAdded' && !seen.has(event.id)) {
      seen.add(event.id);
      received++;
      lastReceivedUs = nowUs();
      const sentUs = Number(/^t(\d+)/.exec(event.data.message.body)?.[1]);
      latency.record(lastReceivedUs - sentUs);
    }
    res.statusCode = 204;
    res.end();
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${receiver.address().port}/hook`;

// node:http with keep-alive: this process also receives the webhooks, and fetch would cost
// it 3-4x the CPU per request, so its own queue would be what the latencies measure.
const agent = new Agent({ keepAlive: true, maxSockets: 128 });
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const dataDir = makeTmpDir('webhooks');
const server = spawnNode(CORES.server, [path.join(root, 'packages/server/dist/main.js')], {
  env: { PORT: String(port), HOST: '127.0.0.1', PARLEY_DATA_DIR: dataDir, LOG_LEVEL: 'warn', PARLEY_WEB_DIR: '', PARLEY_SEND_RATE_PER_SECOND: '1000000' },
  stdout: 'ignore',
  execArgv: o.profile ? ['--cpu-prof', `--cpu-prof-dir=${o.profile}`] : [],
});
try {
  await waitHealthy(`${base}/healthz`, server);
  const cli = spawnSync(process.execPath, [path.join(root, 'packages/server/dist/cli.js'), 'keys', 'create', '--name', 'bench'], {
    env: { ...process.env, PARLEY_DATA_DIR: dataDir, DATABASE_URL: '' },
    encoding: 'utf8',
  });
  const keyId = /key id:\s+(\S+)/.exec(cli.stdout)?.[1];
  const secret = /key secret:\s+(\S+)/.exec(cli.stdout)?.[1];
  if (!keyId || !secret) throw new Error(`parley keys create printed: ${cli.stdout}${cli.stderr}`);
  const auth = `Basic ${Buffer.from(`${keyId}:${secret}`).toString('base64')}`;
  const call = (method, p, body, identity = 'bench.owner') =>
    new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const headers = { authorization: auth, 'x-parley-identity': identity };
      if (text !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      const req = request(base + p, { method, agent, headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const answer = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode >= 300) reject(new Error(`${method} ${p}: ${res.statusCode} ${answer}`));
          else resolve(answer === '' ? null : JSON.parse(answer));
        });
      });
      req.on('error', reject);
      req.end(text);
    });

  const ids = [];
  for (let i = 0; i < CONVERSATIONS; i++) ids.push((await call('POST', '/api/conversations', { title: `c${i}` })).conversation.conversation.id);
  let sequence = 0;
  const send = async (hist) => {
    const n = sequence++;
    const start = nowUs();
    await call('POST', `/api/conversations/${ids[n % ids.length]}/messages`, { body: `t${start} ${'x'.repeat(60)}`, clientId: `b${n}` });
    hist?.record(nowUs() - start);
  };

  /** Sends at RATE for SECONDS on an open-loop schedule; the server's CPU per message and the send p99. */
  const fixedRate = async () => {
    const sendHist = new Histogram();
    const cpu0 = cpuMicros(server.pid);
    const t0 = nowUs();
    const total = RATE * SECONDS;
    const inFlight = [];
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1e6) / RATE;
      const wait = due - nowUs();
      if (wait > 1000) await new Promise((r) => setTimeout(r, wait / 1000));
      inFlight.push(send(sendHist));
    }
    await Promise.all(inFlight);
    return { cpuUsPerMessage: (cpuMicros(server.pid) - cpu0) / total, sendP99Ms: sendHist.percentile(0.99) / 1000, sent: total };
  };
  const drained = async (expected, timeoutMs = 60_000) => {
    const end = Date.now() + timeoutMs;
    while (received < expected && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    return received >= expected;
  };

  await fixedRate(); // warm-up: JIT, statement caches
  const without = await fixedRate();

  await fetch(`${base}/api/webhook`, { method: 'PUT', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ url: receiverUrl, events: ['messageAdded'] }) });
  // The tool's own CPU over the webhook phase: if it is near a whole core, the latencies are its queue.
  const toolCpu0 = process.cpuUsage();
  latency = new Histogram();
  const cpuWith0 = cpuMicros(server.pid);
  const withHook = await fixedRate();
  const allArrived = await drained(withHook.sent);
  withHook.cpuUsPerMessage = (cpuMicros(server.pid) - cpuWith0) / withHook.sent; // the deliveries' CPU included
  const toolCpu = process.cpuUsage(toolCpu0);
  const toolBusyPct = ((toolCpu.user + toolCpu.system) / 1e6 / SECONDS) * 100;
  const webhookP50Ms = latency.percentile(0.5) / 1000;
  const webhookP99Ms = latency.percentile(0.99) / 1000;

  const before = received;
  const cpuBurst0 = cpuMicros(server.pid);
  const burstStart = nowUs();
  const workers = Array.from({ length: 64 }, async (_, w) => {
    for (let i = w; i < BURST; i += 64) await send();
  });
  await Promise.all(workers);
  const ackedUs = nowUs() - burstStart;
  const burstArrived = await drained(before + BURST, 120_000);
  const burstUs = lastReceivedUs - burstStart;
  const result = {
    conversations: CONVERSATIONS,
    rate: RATE,
    noWebhook: { cpuUsPerMessage: without.cpuUsPerMessage, sendP99Ms: without.sendP99Ms },
    webhook: { cpuUsPerMessage: withHook.cpuUsPerMessage, sendP99Ms: withHook.sendP99Ms, webhookP50Ms, webhookP99Ms, allArrived, toolBusyPct },
    burst: {
      messages: BURST,
      sendsPerSecond: BURST / (ackedUs / 1e6),
      webhooksPerSecond: BURST / (burstUs / 1e6),
      cpuUsPerMessage: (cpuMicros(server.pid) - cpuBurst0) / BURST,
      allArrived: burstArrived,
    },
  };
  const f = (x) => x.toFixed(2);
  console.log(`webhook delivery: ${CONVERSATIONS} conversations created through one key, REST sends, SQLite`);
  console.log(`  ${RATE} msg/s, no webhook:   ${f(without.cpuUsPerMessage)} us server CPU/message, send p99 ${f(without.sendP99Ms)} ms`);
  console.log(`  ${RATE} msg/s, webhook set:  ${f(withHook.cpuUsPerMessage)} us server CPU/message (deliveries included), send p99 ${f(withHook.sendP99Ms)} ms`);
  console.log(`                          webhook latency (send -> receiver) p50 ${f(webhookP50Ms)} ms, p99 ${f(webhookP99Ms)} ms, all ${withHook.sent} arrived: ${allArrived} (this process ${Math.round(toolBusyPct)}% busy)`);
  console.log(`  burst of ${BURST}: sends ${Math.round(result.burst.sendsPerSecond)}/s, webhooks ${Math.round(result.burst.webhooksPerSecond)}/s until the last arrived, ${f(result.burst.cpuUsPerMessage)} us server CPU/message, all arrived: ${burstArrived}`);
  if (o.json) fs.writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  receiver.close();
  agent.destroy();
  await shutdown();
}
