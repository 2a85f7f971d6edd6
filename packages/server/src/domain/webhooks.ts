import { WEBHOOK_EVENT_TYPES, type SetWebhookBody, type Webhook } from '@parley/protocol';
import { AppError } from '../errors.js';
import type { WebhookRecord } from '../storage/storage.js';
import type { DomainContext } from './context.js';

/**
 * An API key's webhook (SPEC 2.8, ADR 0016): where the events of the conversations created
 * through the key are POSTed, signed with the key's secret. Delivery is `WebhookDispatcher`'s.
 *
 * @example
 * await webhooks.set('SK...', { url: 'https://shop.example/parley-events' });
 */
export class Webhooks {
  private readonly listeners: Array<() => void> = [];

  constructor(private readonly ctx: DomainContext) {}

  /** Calls `listener` after every webhook set or removed (the dispatcher then looks again). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Creates or replaces the key's webhook; its conversations are heard from now on. */
  async set(apiKeyId: string, body: SetWebhookBody): Promise<Webhook> {
    const url = receiverUrl(body.url);
    const now = this.ctx.now();
    const existing = await this.ctx.storage.getWebhook(apiKeyId);
    await this.ctx.storage.setWebhook({
      apiKeyId,
      url,
      events: body.events ?? [...WEBHOOK_EVENT_TYPES],
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    });
    for (const listener of this.listeners) listener();
    return this.get(apiKeyId);
  }

  /** The key's webhook with how its deliveries fare; `webhook_not_found` when it has none. */
  async get(apiKeyId: string): Promise<Webhook> {
    const webhook = await this.ctx.storage.getWebhook(apiKeyId);
    if (webhook === undefined) throw new AppError('webhook_not_found');
    return { ...present(webhook), ...(await this.ctx.storage.webhookFailures(apiKeyId)) };
  }

  /** Stops the key's webhook; events not delivered yet are dropped with it. */
  async remove(apiKeyId: string): Promise<void> {
    if (!(await this.ctx.storage.deleteWebhook(apiKeyId))) throw new AppError('webhook_not_found');
    for (const listener of this.listeners) listener();
  }
}

function present(w: WebhookRecord): Pick<Webhook, 'url' | 'events' | 'createdAt' | 'updatedAt'> {
  return { url: w.url, events: w.events, createdAt: w.createdAt, updatedAt: w.updatedAt };
}

/** The URL as given, when it is an absolute http(s) URL without credentials; `validation_failed` otherwise. */
function receiverUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('validation_failed', `url must be an absolute http:// or https:// URL (got "${raw.slice(0, 100)}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AppError('validation_failed', `url must start with http:// or https:// (got "${url.protocol}//...")`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new AppError('validation_failed', 'url must not carry a user name or password: deliveries are signed with the key secret instead');
  }
  return raw;
}
