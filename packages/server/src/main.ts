import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { createLogger } from './logger.js';
import type { Logger } from 'pino';
import type { Bus } from './realtime/bus.js';
import type { PresenceStore } from './realtime/presence.js';
import { MemoryBus } from './realtime/memory-bus.js';
import { openStorage } from './storage/open-storage.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Picks the bus: Redis when configured, in-process otherwise. */
async function openBus(config: Config): Promise<Bus> {
  if (!config.redisUrl) return new MemoryBus();
  const { RedisBus } = await import('./realtime/redis-bus.js');
  return RedisBus.connect(config.redisUrl, { channel: config.redisChannel });
}

/** Presence shared through Redis when configured; the process's own view otherwise. */
async function openPresence(config: Config, logger: Logger): Promise<PresenceStore | undefined> {
  if (!config.redisUrl) return undefined;
  const { RedisPresence } = await import('./realtime/redis-presence.js');
  const log = logger.child({ module: 'presence' });
  return RedisPresence.connect(config.redisUrl, {
    prefix: config.redisChannel,
    ttlMs: config.presenceTtlMs,
    onError: (err) => log.warn({ err }, 'presence heartbeat failed'),
  });
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env, { webDir: join(here, '../../web/dist') });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true });
  const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await storage.migrate();
  const bus = await openBus(config);
  const presence = await openPresence(config, logger);
  const parley = await buildApp({ config, storage, bus, logger, ...(presence ? { presence } : {}) });
  const address = await parley.app.listen({ port: config.port, host: config.host });
  const port = (parley.app.server.address() as { port: number }).port;
  logger.info({ address, port, storage: storage.kind, bus: bus.kind }, 'listening');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    parley.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`Parley failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
