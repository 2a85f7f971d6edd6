import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { Api } from './types.js';

/**
 * Serves the built web app at `/` with a history-API fallback: any other GET that is not
 * an API, WebSocket or ops path returns index.html, so `/join/<token>` works on reload.
 *
 * @example
 * await serveWebApp(app, '/srv/parley/web');
 */
export async function serveWebApp(app: Api, webDir: string | undefined): Promise<boolean> {
  if (!webDir || !existsSync(join(webDir, 'index.html'))) return false;
  await app.register(fastifyStatic, { root: webDir, prefix: '/', index: ['index.html'], wildcard: false });
  const isAppPath = (url: string): boolean => !/^\/(api|ws|docs|healthz|readyz|metrics)(\/|\?|$)/.test(url);
  app.get('/*', { schema: { hide: true } }, (request, reply) => {
    if (!isAppPath(request.url)) {
      return reply.status(404).send({ error: { code: 'route_not_found', message: `No route GET ${request.url.split('?')[0]}` } });
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  });
  return true;
}
