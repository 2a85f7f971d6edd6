import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const CLI = fileURLToPath(new URL('../../packages/server/dist/cli.js', import.meta.url));
const run = promisify(execFile);

/** An integrator's API key as `parley keys create` prints it. */
export interface ApiKey {
  id: string;
  secret: string;
}

/** Where the CLI finds the server's data: its SQLite directory, or a PostgreSQL URL. */
export interface CliTarget {
  dataDir: string;
  databaseUrl?: string | undefined;
}

/**
 * Runs the built `parley` CLI against a server's storage and returns what it printed.
 *
 * @example
 * await parleyCli({ dataDir }, 'keys', 'revoke', key.id);
 */
export async function parleyCli(target: CliTarget, ...args: string[]): Promise<string> {
  const env = { ...process.env, PARLEY_DATA_DIR: target.dataDir, DATABASE_URL: target.databaseUrl ?? '' };
  const { stdout } = await run(process.execPath, [CLI, ...args], { env });
  return stdout;
}

/**
 * `parley keys create --name <name>`, parsed.
 *
 * @example
 * const key = await createApiKey({ dataDir: server.dataDir }, 'my shop');
 */
export async function createApiKey(target: CliTarget, name: string): Promise<ApiKey> {
  const out = await parleyCli(target, 'keys', 'create', '--name', name);
  const id = /key id:\s+(\S+)/.exec(out)?.[1];
  const secret = /key secret:\s+(\S+)/.exec(out)?.[1];
  if (!id || !secret) throw new Error(`unexpected CLI output: ${out}`);
  return { id, secret };
}
