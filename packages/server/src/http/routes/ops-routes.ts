import { Type } from '@sinclair/typebox';
import type { Bus } from '../../realtime/bus.js';
import type { Storage } from '../../storage/storage.js';
import type { Metrics } from '../../metrics.js';
import type { Api } from '../types.js';

const Ready = Type.Object({ ready: Type.Boolean(), checks: Type.Record(Type.String(), Type.String()) });

/**
 * Liveness, readiness (storage and bus reachable) and Prometheus metrics.
 *
 * @example
 * opsRoutes(app, { storage, bus, metrics });
 */
export function opsRoutes(app: Api, deps: { storage: Storage; bus: Bus; metrics: Metrics }): void {
  app.get('/healthz', { schema: { tags: ['ops'], response: { 200: Type.Object({ ok: Type.Boolean() }) } } }, async () => ({
    ok: true,
  }));

  app.get('/readyz', { schema: { tags: ['ops'], response: { 200: Ready, 503: Ready } } }, async (_request, reply) => {
    const checks: Record<string, string> = {};
    try {
      await Promise.race([
        deps.storage.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 2 s')), 2000).unref()),
      ]);
      checks.storage = 'ok';
    } catch (err) {
      checks.storage = `${deps.storage.kind} unreachable: ${err instanceof Error ? err.message : String(err)}`;
    }
    checks.bus = deps.bus.problem() ?? 'ok';
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.status(ready ? 200 : 503).send({ ready, checks });
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
