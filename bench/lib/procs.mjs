// Child processes of the harness: spawned pinned to a core, tracked, and always killed on
// exit (normal, error or signal), with their temporary directories removed.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import readline from 'node:readline';

const children = new Set();
const tmpDirs = new Set();
const cleanups = [];

/** True when `taskset` can pin processes (Linux with util-linux). */
export const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return os.availableParallelism?.() > 1;
  } catch {
    return false;
  }
})();

let niceLevel = null;

/**
 * Runs servers and load generators at this nice level (`--nice -10`, needs root): on a
 * machine shared with other work, it keeps the measured processes from being preempted.
 */
export function setNice(level) {
  niceLevel = level;
}

/** The core for servers and the core for load generators. */
export const CORES = { server: 0, load: 1 };

/**
 * Spawns `node <args>` pinned to `core` (when taskset exists). taskset execs node, so the
 * child's pid is node's pid and /proc readings are the server's own.
 */
export function spawnNode(core, args, { env, stdout = 'pipe', stderr = 'pipe', execArgv = [] } = {}) {
  const nodeArgs = [...execArgv, ...args];
  let [cmd, argv] = hasTaskset
    ? ['taskset', ['-c', String(core), process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  // nice and taskset both exec their command, so the child's pid is still node's.
  if (niceLevel !== null) [cmd, argv] = ['nice', ['-n', String(niceLevel), cmd, ...argv]];
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['pipe', stdout, stderr] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.stdin.on('error', () => {});
  return child;
}

/** Kills one child and waits for it to exit. */
export function stopChild(child, signal = 'SIGTERM', graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/** Registers an async cleanup (dropping a PostgreSQL schema...) to run before exit. */
export function onCleanup(fn) {
  cleanups.push(fn);
}

/** A fresh temporary directory, removed on exit. */
export function makeTmpDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `parley-bench-${prefix}-`));
  tmpDirs.add(dir);
  return dir;
}

function killAllSync() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
  tmpDirs.clear();
}

/** Runs registered cleanups and kills every child; call before exiting. */
export async function shutdown() {
  for (const child of [...children]) await stopChild(child, 'SIGTERM', 1500);
  for (const fn of cleanups.splice(0)) {
    try {
      await fn();
    } catch (err) {
      console.error(`cleanup failed: ${err.message}`);
    }
  }
  killAllSync();
}

process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping children`);
    shutdown().finally(() => process.exit(130));
  });
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 2xx, the child exits, or `timeoutMs` passes. */
export async function waitHealthy(url, child, timeoutMs = 30_000, describe = () => '') {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before it was ready${describe()}`);
    }
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms${describe()}`);
}

/**
 * Collects JSON lines a load process prints; `onLine` sees each parsed line.
 * Resolves with the `result` line, rejects on an `error` line or a bad exit.
 */
export function collectResult(child, onLine = () => {}) {
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    let result = null;
    const rl = readline.createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      let obj;
      try {
        obj = JSON.parse(line);
      } catch {
        return;
      }
      if (obj.event === 'result') result = obj;
      else if (obj.event === 'error') reject(new Error(obj.message));
      else onLine(obj);
    });
    child.on('exit', (code, signal) => {
      if (result) resolve(result);
      else reject(new Error(`load process exited (${code ?? signal}) without a result${stderr ? `: ${stderr.trim()}` : ''}`));
    });
  });
}
