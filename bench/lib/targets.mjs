// The servers under test. A target starts one server process pinned to the server core and
// tells the load generator how a user joins rooms on it:
//   baselines: rooms in the query string (`/ws?rooms=a,b&user=u3`), no set-up;
//   Parley: real users, conversations and invite links created over REST, `/ws?token=...`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORES, freePort, makeTmpDir, spawnNode, stopChild, waitHealthy } from './procs.mjs';
import { api, createConversation, joinByInvite, pool, signupWithToken } from './parley-api.mjs';
import { seedUsers } from './seed-users.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PARLEY_MAIN = path.join(ROOT, 'packages/server/dist/main.js');

/** Baselines, by the key used in results. */
export const BASELINES = {
  wsBroadcast: { file: 'ws-broadcast.mjs', dialect: 'json', label: 'bare ws' },
  wsFrameOnce: { file: 'ws-frame-once.mjs', dialect: 'json', label: 'ws frame-once' },
  socketIo: { file: 'socketio-rooms.mjs', dialect: 'sio', label: 'Socket.IO' },
};

/** Starts one baseline server. */
export async function startBaseline(key) {
  const def = BASELINES[key];
  const port = await freePort();
  const child = spawnNode(CORES.server, [path.join(ROOT, 'bench/baselines', def.file), '--port', String(port)]);
  let log = '';
  child.stderr.on('data', (d) => {
    log = (log + d).slice(-2000);
  });
  child.stdout.resume();
  await waitHealthy(`http://127.0.0.1:${port}/healthz`, child, 10_000, () => (log ? `: ${log}` : ''));
  const wsPath = def.dialect === 'sio' ? '/socket.io/?EIO=4&transport=websocket&' : '/ws?';
  return {
    key,
    kind: 'baseline',
    dialect: def.dialect,
    pids: [child.pid],
    ports: [port],
    /** Client spec for user `u` in rooms `rooms` (logical keys are used as room names). */
    client(u, rooms, portIndex = 0) {
      return { port, path: `${wsPath}rooms=${encodeURIComponent(rooms.join(','))}&user=u${u}`, portIndex };
    },
    roomId: (key) => key,
    stop: () => stopChild(child),
  };
}

/** A fresh `<tmp>/data` directory for a Parley server; its log goes beside it. */
export function parleyDataDir() {
  const dir = path.join(makeTmpDir('parley'), 'data');
  fs.mkdirSync(dir);
  return dir;
}

/**
 * Starts a Parley server (`packages/server/dist/main.js`) with a fresh data directory.
 * `env` adds variables (DATABASE_URL, REDIS_URL...). The per-user send limit is lifted: the
 * benchmark measures the server, not its rate limiter.
 */
export async function startParley({ env = {}, dataDir = parleyDataDir(), execArgv = [], core = CORES.server } = {}) {
  if (!fs.existsSync(PARLEY_MAIN)) throw new Error(`${path.relative(ROOT, PARLEY_MAIN)} is missing: run npm run build`);
  const port = await freePort();
  const logFile = path.join(path.dirname(dataDir), `server-${port}.log`);
  const logFd = fs.openSync(logFile, 'a');
  const child = spawnNode(core, [PARLEY_MAIN], {
    execArgv,
    stdout: logFd,
    stderr: logFd,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      PARLEY_DATA_DIR: dataDir,
      PARLEY_SEND_RATE_PER_SECOND: '1000000',
      PARLEY_TOKEN_TTL_SECONDS: String(24 * 3600),
      NODE_ENV: 'production',
      ...env,
    },
  });
  fs.closeSync(logFd);
  const logTail = () => {
    try {
      return fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  };
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(`${base}/healthz`, child, 60_000, () => `\n${logTail()}`);
  const db = env.DATABASE_URL ? { pgUrl: env.DATABASE_URL } : { sqliteFile: path.join(dataDir, 'parley.sqlite') };
  return { child, pid: child.pid, port, base, dataDir, db, logFile, logTail, stop: (signal) => stopChild(child, signal) };
}

/**
 * Creates users and conversations on Parley for the given rooms.
 * `rooms` is a list of { key, members: [userIndex] } (the first member creates the room).
 * Returns a target the workloads drive like a baseline.
 */
export async function setupParley(servers, { userCount, rooms, concurrency = 16, log = () => {} }) {
  const primary = servers[0];
  const password = 'bench-password-1';
  const nonce = Date.now().toString(36).slice(-5);
  let t = Date.now();
  const names = Array.from({ length: userCount }, (_, i) => `b${nonce}_${i}`);
  // User 0 signs up through the API (checking that path); the rest are inserted directly
  // (see seed-users.mjs for why); every token comes from POST /api/token.
  const first = await signupWithToken(primary.base, names[0], password);
  const seeded = await seedUsers(primary.db, names.slice(1), password);
  const rest = await pool(seeded, concurrency, async (u) => {
    const { json } = await api(primary.base, 'POST', '/api/token', { cookie: u.cookie });
    return { ...u, token: json.token };
  });
  const users = [first, ...rest];
  log(`  ${userCount} users with tokens in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  t = Date.now();
  const ids = new Map();
  await pool(rooms, concurrency, async (room) => {
    const owner = users[room.members[0]];
    const id = await createConversation(primary.base, owner, room.key);
    await joinByInvite(primary.base, owner, id, room.members.slice(1).map((u) => users[u]), 8);
    ids.set(room.key, id);
  });
  log(`  ${rooms.length} conversations created and joined in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return parleyTarget(servers, users, ids);
}

/** A target over running Parley servers whose users and conversations exist. */
export function parleyTarget(servers, users, ids) {
  return {
    key: 'parley',
    kind: 'parley',
    dialect: 'json',
    pids: servers.map((s) => s.pid),
    ports: servers.map((s) => s.port),
    users,
    servers,
    client(u, _rooms, portIndex = 0) {
      const server = servers[portIndex % servers.length];
      return { port: server.port, path: `/ws?token=${encodeURIComponent(users[u].token)}` };
    },
    roomId(key) {
      const id = ids.get(key);
      if (!id) throw new Error(`no Parley conversation for room ${key}`);
      return id;
    },
    stop: async () => {
      for (const s of servers) await s.stop();
    },
  };
}
