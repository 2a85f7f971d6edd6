import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const MAIN = join(ROOT, 'packages/server/dist/main.js');
const WEB_INDEX = join(ROOT, 'packages/web/dist/index.html');

/** A real Parley server in a child process, on its own temp data dir. */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Kills the process at once (SIGKILL), keeping the data dir for a restart. */
  kill(): Promise<void>;
  /** Starts the process again on the same port and data dir. */
  restart(): Promise<void>;
  /** Stops the process and deletes the data dir. */
  stop(): Promise<void>;
}

/**
 * Spawns `node packages/server/dist/main.js` with `PORT=0` and a temp `PARLEY_DATA_DIR` (plus
 * `env`), and waits for its pino `listening` line to learn the port.
 *
 * @example
 * const server = await startServer();
 * await page.goto(server.url);
 */
export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  if (!existsSync(MAIN)) throw new Error(`No server build at ${MAIN}: run \`npm run build\` first`);
  if (!existsSync(WEB_INDEX)) throw new Error(`No web build at ${WEB_INDEX}: run \`npm run build -w @parley/web\` first`);
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-browser-'));
  let { child, port } = await spawnServer(0, dataDir, env);
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    dataDir,
    async kill() {
      await killChild(child, 'SIGKILL');
    },
    async restart() {
      ({ child, port } = await spawnServer(port, dataDir, env));
    },
    async stop() {
      await killChild(child, 'SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function spawnServer(port: number, dataDir: string, extraEnv: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', PARLEY_DATA_DIR: dataDir, LOG_LEVEL: 'info', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const listening = new Promise<number>((resolveFn, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s: ${stderr}`)), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}`));
    });
    lines.on('line', (line) => {
      const entry = parseJson(line);
      if (entry?.msg === 'listening' && typeof entry.port === 'number') {
        clearTimeout(timer);
        resolveFn(entry.port);
      }
    });
  });
  return { child, port: await listening };
}

function parseJson(line: string): Record<string, unknown> | null {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function killChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveFn) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveFn();
    });
    child.kill(signal);
  });
}
