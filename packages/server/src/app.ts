import Fastify, { type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { LIMITS } from '@parley/protocol';
import { isoNow } from './clock.js';
import { TokenService } from './auth/tokens.js';
import type { Config } from './config/config.js';
import { createDomain, type Domain } from './domain/domain.js';
import { frameworkErrors, installErrorHandler } from './http/error-handler.js';
import { authRoutes } from './http/routes/auth-routes.js';
import { conversationRoutes } from './http/routes/conversation-routes.js';
import { inviteRoutes } from './http/routes/invite-routes.js';
import { messageRoutes } from './http/routes/message-routes.js';
import { opsRoutes } from './http/routes/ops-routes.js';
import { participantRoutes } from './http/routes/participant-routes.js';
import { twilioRoutes } from './http/twilio/twilio-routes.js';
import { webhookRoutes } from './http/routes/webhook-routes.js';
import type { Api } from './http/types.js';
import { serveWebApp } from './http/web-app.js';
import { validatorCompiler } from './http/validators.js';
import { RequestLogController, requestIdGenerator } from './logger.js';
import { createMetrics } from './metrics.js';
import { assertNoNul } from './nul-text.js';
import type { Bus } from './realtime/bus.js';
import { Gateway } from './realtime/gateway.js';
import { MemoryPresence, type PresenceStore } from './realtime/presence.js';
import { PresenceAnnouncer } from './realtime/presence-announcer.js';
import type { Storage } from './storage/storage.js';
import { WebhookDispatcher } from './webhooks/dispatcher.js';

export interface AppDeps {
  config: Config;
  storage: Storage;
  bus: Bus;
  logger: Logger;
  /** Who is online across processes; this process's own view when not given (one process). */
  presence?: PresenceStore;
}

export interface ParleyApp {
  app: FastifyInstance;
  gateway: Gateway;
  domain: Domain;
  webhooks: WebhookDispatcher;
  /** Stops accepting, closes sockets with a reconnect hint, then closes storage and bus. */
  close(): Promise<void>;
}

/**
 * Builds the whole server (REST, WebSocket gateway, web app) over the given storage and
 * bus. It never listens: `main.ts` does, and tests call `app.listen({ port: 0 })` or
 * `app.inject()`. Storage must already be migrated.
 *
 * @example
 * const parley = await buildApp({ config, storage, bus: new MemoryBus(), logger });
 * await parley.app.listen({ port: 0, host: '127.0.0.1' });
 */
export async function buildApp(deps: AppDeps): Promise<ParleyApp> {
  const { config, storage, bus, logger } = deps;
  const presenceStore = deps.presence ?? new MemoryPresence();
  const presence = new PresenceAnnouncer(presenceStore, bus, logger.child({ module: 'presence' }), config.presenceGraceMs);
  const tokens = await TokenService.open(storage, config.tokenTtlSeconds);
  const domain = createDomain({ storage, bus, presence, config, log: logger, now: () => isoNow() }, tokens);
  const metrics = createMetrics();
  const fastify = Fastify({
    loggerInstance: logger,
    bodyLimit: LIMITS.bodyMaxBytes,
    trustProxy: config.trustProxy,
    genReqId: requestIdGenerator(),
    logController: new RequestLogController(),
    frameworkErrors,
  });
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>() as unknown as Api;
  app.setValidatorCompiler(validatorCompiler);
  // Only JSON bodies: anything else is a 415, not a string to validate.
  app.removeContentTypeParser(['text/plain']);
  installErrorHandler(app);
  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: { info: { title: 'Parley REST API', version: '0.1.0', description: 'See docs/protocol.md for the WebSocket.' } },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  // Before the schema checks, so that a NUL anywhere is named as such.
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      assertNoNul('params', request.params);
      assertNoNul('querystring', request.query);
      assertNoNul('body', request.body);
      done();
    } catch (error) {
      done(error as Error);
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unknown';
    metrics.httpDuration.labels(request.method, route, String(reply.statusCode)).observe(reply.elapsedTime / 1000);
  });

  const routeDeps = { domain, config };
  authRoutes(app, routeDeps);
  conversationRoutes(app, routeDeps);
  messageRoutes(app, routeDeps);
  participantRoutes(app, routeDeps);
  inviteRoutes(app, routeDeps);
  webhookRoutes(app, routeDeps);
  await twilioRoutes(app, routeDeps);
  opsRoutes(app, { storage, bus, metrics });
  const servingWeb = await serveWebApp(app, config.webDir);
  if (!servingWeb) logger.warn({ webDir: config.webDir }, 'web app not built: run `npm run build` to serve it');

  const gateway = new Gateway(domain, bus, logger.child({ module: 'gateway' }), metrics, presence);
  app.server.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket, head));
  const webhooks = new WebhookDispatcher(storage, bus, logger.child({ module: 'webhooks' }), {
    timeoutMs: config.webhookTimeoutMs,
    retryMaxMs: config.webhookRetryMaxMs,
    metrics,
  });
  webhooks.start();
  domain.webhooks.onChange(() => void webhooks.poll());

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      await gateway.close();
      await webhooks.close();
      // Every socket is closed: the users of this process leave, then the store forgets it.
      await presence.close();
      await presenceStore.close();
      // Keep-alive connections with a request in flight can hold close() for their whole
      // timeout: give them a moment to finish, then cut them.
      const force = setTimeout(() => app.server.closeAllConnections(), 3_000);
      await app.close();
      clearTimeout(force);
      await bus.close();
      await storage.close();
    })());
  return { app: app as unknown as FastifyInstance, gateway, domain, webhooks, close };
}
