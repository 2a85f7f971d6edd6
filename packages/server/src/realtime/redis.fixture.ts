import { Redis } from 'ioredis';

/*
 * What the tests against a real Redis share: where it is, whether it answers, and waiting for
 * something asynchronous to happen. Under CI=true an unreachable Redis fails the file.
 */

export const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const START_REDIS =
  'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log';

async function reachable(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * Whether Redis answers; throws under CI when it does not, warns (naming `what` is skipped) otherwise.
 *
 * @example
 * const available = await redisAvailable('RedisBus tests');
 * describe.skipIf(!available)('RedisBus', () => { ... });
 */
export async function redisAvailable(what: string): Promise<boolean> {
  const available = await reachable(REDIS_URL);
  if (!available) {
    if (process.env.CI === 'true') throw new Error(`Redis is unreachable at ${REDIS_URL}; CI requires it (start it: ${START_REDIS})`);
    console.warn(`Skipping ${what}: Redis is unreachable at ${REDIS_URL}. Start it with: ${START_REDIS}`);
  }
  return available;
}

/** Resolves once `check()` holds, polling every 5 ms; rejects after `ms`. */
export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
