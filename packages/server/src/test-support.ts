import { pino } from 'pino';
import { buildApp, type ParleyApp } from './app.js';
import { loadConfig, type Config } from './config/config.js';
import { MemoryBus } from './realtime/memory-bus.js';
import { openSqliteStorage } from './storage/sqlite/sqlite-storage.js';

/**
 * A whole Parley server on an in-memory SQLite database and the in-process bus, for
 * tests. It does not listen unless `listen` is set; `app.inject()` works either way.
 *
 * @example
 * const parley = await startTestServer({ listen: true });
 * const url = parley.url; // http://127.0.0.1:<port>
 */
export async function startTestServer(
  options: { listen?: boolean; env?: Record<string, string> } = {},
): Promise<ParleyApp & { url: string; config: Config }> {
  const config = loadConfig({ PORT: '0', LOG_LEVEL: 'silent', PARLEY_WEB_DIR: '', ...options.env });
  const storage = await openSqliteStorage({ file: ':memory:' });
  await storage.migrate();
  const parley = await buildApp({ config, storage, bus: new MemoryBus(), logger: pino({ level: config.logLevel }) });
  let url = '';
  if (options.listen) {
    await parley.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(parley.app.server.address() as { port: number }).port}`;
  }
  return { ...parley, url, config };
}
