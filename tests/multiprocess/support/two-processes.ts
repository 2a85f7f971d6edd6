import { afterAll, beforeAll } from 'vitest';
import type { Account, Socket } from './chat-client.js';
import { startServer, stopAllServers, type ServerProcess } from './server-process.js';
import { REDIS_URL, createSchema, uniqueChannel, type TestSchema } from './services.js';

/** What a suite of two processes gets; the fields are set by `beforeAll`. */
export interface TwoProcesses {
  p1: ServerProcess;
  p2: ServerProcess;
  /** The environment both were started with (a third process can join with it). */
  env: Record<string, string>;
  /** Opens a socket for `account` on `at`, killed after the suite. */
  connect(account: Account, at: ServerProcess): Promise<Socket>;
}

/**
 * For a test file: two real processes sharing a fresh PostgreSQL schema and a Redis channel of
 * their own (plus `extraEnv`), started together before the tests, as a deployment would start
 * them (both migrate the same schema at once), and stopped after them with the sockets opened.
 *
 * @example
 * const two = useTwoProcesses();
 * it('...', async () => { const socket = await two.connect(ada, two.p1); });
 */
export function useTwoProcesses(extraEnv: Record<string, string> = {}): TwoProcesses {
  let schema: TestSchema | undefined;
  const sockets: Socket[] = [];
  const suite = {
    env: {},
    async connect(account: Account, at: ServerProcess): Promise<Socket> {
      const socket = await account.connect(at);
      sockets.push(socket);
      return socket;
    },
  } as TwoProcesses;

  beforeAll(async () => {
    schema = await createSchema();
    suite.env = { DATABASE_URL: schema.url, REDIS_URL, PARLEY_REDIS_CHANNEL: uniqueChannel(), ...extraEnv };
    [suite.p1, suite.p2] = await Promise.all([startServer('p1', suite.env), startServer('p2', suite.env)]);
  });

  afterAll(async () => {
    for (const socket of sockets) socket.kill();
    await stopAllServers();
    await schema?.drop();
  });
  return suite;
}
