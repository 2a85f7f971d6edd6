// History: p99 of a 50-message page in one conversation of a million messages, at a fixed
// request rate. The conversation is seeded straight into Parley's SQLite file (schema of
// packages/server/src/storage/migrations.ts) while the server is stopped, rather than sent
// through the API a million times; the pages are then read over REST like any client would.
import path from 'node:path';
import Database from 'better-sqlite3';
import { parleyDataDir, ROOT, startParley } from '../lib/targets.mjs';
import { api, createConversation, signupWithToken } from '../lib/parley-api.mjs';
import { CORES, collectResult, makeTmpDir, spawnNode } from '../lib/procs.mjs';
import { Histogram } from '../lib/hist.mjs';
import { log, recordWindow } from './suite.mjs';
import fs from 'node:fs';

const PAGE = 50;

export async function history({ scale, raw, reasons, execArgv }) {
  log(`parley history (SQLite, ${scale.historyMessages.toLocaleString('en-US')} messages)`);
  const dataDir = parleyDataDir();
  const username = `hist${Date.now().toString(36).slice(-6)}`;
  const password = 'bench-password-1';
  let server = await startParley({ dataDir });
  let conversationId;
  try {
    const owner = await signupWithToken(server.base, username, password);
    conversationId = await createConversation(server.base, owner, 'history');
  } finally {
    await server.stop();
  }
  const t0 = Date.now();
  seed(path.join(dataDir, 'parley.sqlite'), conversationId, username, scale.historyMessages);
  log(`  seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  server = await startParley({ dataDir, execArgv });
  try {
    const { json, res } = await api(server.base, 'POST', '/api/auth/signin', { body: { username, password } });
    const cookie = (res.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith('parley_session='));
    const token = (await api(server.base, 'POST', '/api/token', { cookie })).json.token;
    if (!json?.user || !token) throw new Error('sign-in after seeding failed');
    const first = await api(server.base, 'GET', `/api/conversations/${conversationId}/messages?limit=${PAGE}`, { token });
    const last = first.json.messages?.at(-1)?.index;
    if (last !== scale.historyMessages) throw new Error(`seeded conversation reads back newest index ${last}, not ${scale.historyMessages}`);
    const paths = Array.from({ length: 20_000 }, () => {
      const before = PAGE + 1 + Math.floor(Math.random() * (scale.historyMessages - PAGE));
      return `/api/conversations/${conversationId}/messages?before=${before}&limit=${PAGE}`;
    });
    const dir = makeTmpDir('history');
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        port: server.port,
        paths,
        headers: { authorization: `Bearer ${token}` },
        rate: scale.historyRate,
        warmupMs: scale.historyWarmupMs,
        settleMaxMs: scale.historySettleMaxMs,
        settleQueueMs: 10,
        measureMs: scale.historyMs,
        serverPids: [server.pid],
        expect: { field: 'messages', length: PAGE },
      }),
    );
    const child = spawnNode(CORES.load, [path.join(ROOT, 'bench/load/http-load.mjs'), file]);
    const r = await collectResult(child);
    recordWindow({ key: 'parley', pids: [server.pid] }, 'history', r.windowUs);
    const latency = Histogram.fromJSON(r.latency).summary();
    const problems = [];
    if (r.errors) problems.push(`${r.errors} failed requests (${r.errorSamples[0]})`);
    if (r.badBodies) problems.push(`${r.badBodies} pages without ${PAGE} messages`);
    if (!r.settled) problems.push(`the warm-up's queue had not drained after ${r.settledMs} ms more; measured anyway`);
    raw.history = {
      latency,
      achievedRate: r.achievedRate,
      cpuPerUnit: r.serverCpuUs === null ? null : r.serverCpuUs / r.requests,
      serverCpuPct: r.serverCpuUs / 1e4 / r.seconds,
      loadCpuPct: r.loadCpuUs / 1e4 / r.seconds,
      otherCpuPct: r.otherCpuUs === null ? null : Math.max(0, r.otherCpuUs) / 1e4 / r.seconds,
      lateStarts: r.lateStarts,
      settledMs: r.settledMs,
      worstMsPer100ms: r.worstMsPer100ms,
      problems,
    };
    if (problems.length) (raw.problems ??= {}).history = problems;
    log(
      `  history: p50 ${latency.p50Ms} p99 ${latency.p99Ms} ms at ${Math.round(r.achievedRate)} req/s, ` +
        `${raw.history.cpuPerUnit?.toFixed(0)} us CPU/request, server ${raw.history.serverCpuPct.toFixed(0)}%, window after ${r.settledMs} ms of settling${problems.length ? ` PROBLEMS ${problems.join('; ')}` : ''}`,
    );
  } finally {
    await server.stop();
  }
}

/** Appends `n` messages to the conversation, as Parley's storage would have, in one transaction. */
function seed(file, conversationId, username, n) {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const author = db.prepare('SELECT id, username FROM users WHERE username = ?').get(username.toLowerCase());
    if (!author) throw new Error(`user ${username} not found in ${file}`);
    // Generated inside SQLite (a recursive CTE) rather than row by row from JS: ~10x faster.
    // Each row gets the wire JSON that Parley's appends store with it (migration 0004).
    const start = Date.now() - n * 1000;
    db.transaction(() => {
      db.prepare(
        `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < @n),
         rows AS (
           SELECT i, printf('IM%032x', i) AS id,
                  substr('message ' || i || ' lorem ipsum dolor sit amet lorem ipsum dolor sit amet lorem ipsum dolor sit amet lorem ipsum', 1, 100) AS body,
                  strftime('%Y-%m-%dT%H:%M:%fZ', (@start + i * 1000) / 1000.0, 'unixepoch') AS created_at
           FROM seq)
         INSERT INTO messages (conversation_id, idx, id, author_id, body, client_id, attributes, created_at, message_json)
         SELECT @conv, i, id, @author, body, NULL, '{}', created_at,
                json_object('id', id, 'conversationId', @conv, 'index', i, 'authorId', @author, 'author', @username,
                  'body', body, 'clientId', NULL, 'attributes', json('{}'), 'createdAt', created_at)
         FROM rows`,
      ).run({ n, conv: conversationId, author: author.id, username: author.username, start });
      db.prepare('UPDATE conversations SET last_message_index = ?, last_activity_at = ? WHERE id = ?').run(
        n,
        new Date(start + n * 1000).toISOString(),
        conversationId,
      );
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  // Written with synchronous = OFF, the file's pages are still dirty in the page cache: flush
  // them now, so that the kernel's writeback of them does not run during the measurement.
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
