#!/usr/bin/env node
/*
 * `npm test`: builds, checks what the suites need, then runs every vitest suite once.
 * Outside CI a missing Chromium, PostgreSQL or Redis skips the suites that need it, with a
 * loud message saying how to fix it. Under CI=true anything missing, and any skipped test,
 * fails the run: a green CI run means every suite really ran.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ci = process.env.CI === 'true';
const problems = [];

function reachable(host, port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

const chromium = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(chromium)) problems.push(`Chromium not found at ${chromium}: install it with \`apt-get install -y chromium\` (browser tests need it)`);
if (!(await reachable('127.0.0.1', 5432))) {
  problems.push('PostgreSQL is not reachable on 127.0.0.1:5432: start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`');
}
if (!(await reachable('127.0.0.1', 6379))) {
  problems.push('Redis is not reachable on 127.0.0.1:6379: start it with `redis-server --daemonize yes --port 6379 --save "" --appendonly no`');
}
for (const p of problems) console.warn(`\n!! ${p}${ci ? '' : '\n!! The suites that need it will be SKIPPED.'}`);
if (ci && problems.length > 0) {
  console.error('\nCI=true: every suite must run, so the run stops here.');
  process.exit(1);
}

const build = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const report = join(mkdtempSync(join(tmpdir(), 'parley-test-')), 'vitest.json');
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit' });
if (run.status !== 0) process.exit(run.status ?? 1);

const result = JSON.parse(readFileSync(report, 'utf8'));
const skipped = (result.numPendingTests ?? 0) + (result.numTodoTests ?? 0);
console.log(`\n${result.numPassedTests} passed, ${result.numFailedTests} failed, ${skipped} skipped, in ${result.numTotalTestSuites} suites`);
if (ci && skipped > 0) {
  console.error(`CI=true: ${skipped} skipped test(s); every suite must run in CI.`);
  process.exit(1);
}
