import { Type } from '@sinclair/typebox';
import { SetWebhookBody, WebhookResponse } from '@parley/protocol';
import { requireApiKey } from '../auth.js';
import type { Api, RouteDeps } from '../types.js';

/**
 * The calling API key's webhook: set, read (with how deliveries fare), remove. Called with the
 * key alone (`Authorization: Basic keyId:secret`, no `X-Parley-Identity`).
 *
 * @example
 * webhookRoutes(app, { domain, config });
 */
export function webhookRoutes(app: Api, { domain }: RouteDeps): void {
  const tags = ['webhooks'];
  app.put('/api/webhook', { schema: { tags, body: SetWebhookBody, response: { 200: WebhookResponse } } }, async (request) => ({
    webhook: await domain.webhooks.set(await requireApiKey(domain, request), request.body),
  }));

  app.get('/api/webhook', { schema: { tags, response: { 200: WebhookResponse } } }, async (request) => ({
    webhook: await domain.webhooks.get(await requireApiKey(domain, request)),
  }));

  app.delete('/api/webhook', { schema: { tags, response: { 204: Type.Null() } } }, async (request, reply) => {
    await domain.webhooks.remove(await requireApiKey(domain, request));
    return reply.status(204).send(null);
  });
}
