import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const mainJs = join(root, 'packages/server/dist/main.js');

/** A server in its own process (`node packages/server/dist/main.js`). */
export interface SpawnedServer {
  baseUrl: string;
  port: number;
  dataDir: string;
  process: ChildProcess;
  /** Everything the process wrote, for failure messages. */
  output(): string;
  /** Sends a signal and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Options for {@link spawnServer}. */
export interface SpawnOptions {
  /** Reuse a data directory (e.g. to restart after a crash); a fresh temporary one otherwise. */
  dataDir?: string;
  /** Listen on this port (e.g. the previous run's); 0 picks a free one. */
  port?: number;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Spawns the built server with `PORT` and `PARLEY_DATA_DIR` and resolves once its log says
 * `listening` (pino JSON lines; that line carries the `port`).
 *
 * @example
 * const server = await spawnServer();
 * await server.kill('SIGKILL');
 * const again = await spawnServer({ dataDir: server.dataDir, port: server.port });
 */
export function spawnServer(opts: SpawnOptions = {}): Promise<SpawnedServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'parley-sdk-spawn-'));
  const child = spawn(process.execPath, [mainJs], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(opts.port ?? 0),
      HOST: '127.0.0.1',
      PARLEY_DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      PARLEY_SEND_RATE_PER_SECOND: '100000',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  child.stderr?.on('data', (chunk: Buffer) => void (output += chunk.toString()));
  return new Promise<SpawnedServer>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not report listening in time:\n${output}`));
    }, opts.timeoutMs ?? 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output += `${line}\n`;
      const port = listeningPort(line);
      if (port === undefined) return;
      clearTimeout(timer);
      resolvePromise({
        baseUrl: `http://127.0.0.1:${port}`,
        port,
        dataDir,
        process: child,
        output: () => output,
        kill: async (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      });
    });
  });
}

function listeningPort(line: string): number | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: unknown; port?: unknown };
    return entry.msg === 'listening' && typeof entry.port === 'number' ? entry.port : undefined;
  } catch {
    return undefined;
  }
}
