import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildApp, type ParleyApp } from '@parley/server';
import { loadConfig } from '@parley/server/config/config';
import { MemoryBus } from '@parley/server/realtime/memory-bus';
import { openStorage } from '@parley/server/storage/open-storage';
import type { WebSocket as ServerSocket, WebSocketServer } from 'ws';

/** A Parley server running inside the test process, on a real port and a real SQLite file. */
export interface InProcessServer {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  port: number;
  dataDir: string;
  parley: ParleyApp;
  /** Abruptly drops every server-side WebSocket (no close frame), like a network cut. */
  terminateSockets(): number;
  close(): Promise<void>;
}

/**
 * Starts the whole server in process with `buildApp` (SQLite under a fresh temporary directory,
 * or PostgreSQL when `env` has a `DATABASE_URL`; in-process bus), listening on port 0. `env`
 * overrides configuration variables, e.g. `{ PARLEY_TOKEN_TTL_SECONDS: '5' }`.
 *
 * @example
 * const server = await startInProcessServer();
 * // ... use server.baseUrl ...
 * await server.close();
 */
export async function startInProcessServer(env: Record<string, string> = {}): Promise<InProcessServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-sdk-it-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    PARLEY_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    PARLEY_WEB_DIR: '',
    PARLEY_SEND_RATE_PER_SECOND: '100000',
    ...env,
  });
  const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir });
  await storage.migrate();
  const parley = await buildApp({ config, storage, bus: new MemoryBus(), logger: pino({ level: config.logLevel }) });
  await parley.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (parley.app.server.address() as { port: number }).port;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    parley,
    terminateSockets: () => {
      // The gateway keeps its ws server private; reaching in is fine for a fault-injection test.
      const wss = (parley.gateway as unknown as { wss: WebSocketServer }).wss;
      const sockets: ServerSocket[] = [...wss.clients];
      for (const ws of sockets) ws.terminate();
      return sockets.length;
    },
    close: async () => {
      // A keep-alive connection whose request was in flight when closing began is not reaped by
      // server.close() and lingers for the keep-alive timeout (72 s): cut it after a grace period.
      const reaper = setTimeout(() => parley.app.server.closeAllConnections(), 1000);
      await parley.close();
      clearTimeout(reaper);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
