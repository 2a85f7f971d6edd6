import type { HistoryQuery, Message, MessagePage, SendMessageBody } from '@parley/protocol';
import { LIMITS } from '@parley/protocol';
import { AppError } from '../errors.js';
import { newMessageId } from '../ids.js';
import type { DeliveryOrigin } from '../realtime/origin.js';
import type { UserRecord } from '../storage/storage.js';
import { publish, type DomainContext } from './context.js';
import { assertAttributesSize, requireJoined } from './policies.js';
import { presentMessage } from './presenters.js';
import { RateLimiter } from './rate-limiter.js';

/**
 * Sending (durable first, then published), history and read positions.
 *
 * @example
 * const { message } = await messages.send(user, conversationId, { body: 'hi', clientId: 'c1' });
 */
export class Messages {
  private readonly sends: RateLimiter;

  constructor(private readonly ctx: DomainContext) {
    this.sends = new RateLimiter(ctx.config.sendRatePerSecond, 1000);
  }

  /**
   * Appends a message and publishes it once. A retried `clientId` returns the stored
   * message (`duplicate: true`) and publishes nothing, so a retry never shows twice.
   *
   * `origin` (a WebSocket send) is acknowledged as soon as the message is durable, before
   * any other recipient gets it: with the in-process bus the gateway acks it during delivery,
   * right after writing the event to the sender's own socket; with a bus that delivers later
   * (Redis: every process, this one included, delivers when the event comes back) it is
   * acked before publishing. Either way `origin.ack` is called again once published, which
   * covers duplicates, an event held back by reordering, and a failed publish.
   */
  async send(
    actor: UserRecord,
    conversationId: string,
    body: SendMessageBody,
    origin?: DeliveryOrigin,
  ): Promise<{ message: Message; duplicate: boolean }> {
    const max = this.ctx.config.messageMaxLength;
    if (body.body.length > max) {
      throw new AppError('validation_failed', `body must NOT have more than ${max} characters (got ${body.body.length})`);
    }
    if (body.body.trim() === '') throw new AppError('validation_failed', 'body must not be blank');
    assertAttributesSize(body.attributes, LIMITS.attributesMaxBytes);
    const busProblem = this.ctx.bus.problem();
    if (busProblem !== null) {
      // Refuse before committing: an acknowledged message must reach every process.
      throw new AppError('unavailable', `Real-time delivery is unavailable (${busProblem}); retry shortly`, undefined, 1000);
    }
    if (!this.sends.take(actor.id)) {
      throw new AppError('rate_limited', 'Too many messages; slow down', undefined, this.sends.retryAfterMs(actor.id));
    }
    const result = await this.ctx.storage.appendMessage({
      id: newMessageId(),
      conversationId,
      authorId: actor.id,
      body: body.body,
      clientId: body.clientId,
      attributes: body.attributes ?? {},
      createdAt: this.ctx.now(),
    });
    if (result.kind === 'not_participant') throw new AppError('conversation_not_found');
    const message = presentMessage(result.message);
    if (!result.duplicate) {
      if (origin && this.ctx.bus.kind !== 'memory') origin.ack(message);
      await publish(this.ctx, { conversationId }, { name: 'messageAdded', data: { conversationId, message } }, undefined, origin);
    }
    origin?.ack(message);
    return { message, duplicate: result.duplicate };
  }

  async history(actor: UserRecord, conversationId: string, query: HistoryQuery): Promise<MessagePage> {
    const { messages, hasMore } = await this.ctx.storage.listMessages(conversationId, await this.page(actor, conversationId, query));
    return { messages: messages.map(presentMessage), hasMore };
  }

  /**
   * `history` as the JSON text of its `MessagePage`, for the REST route: the storage writes the
   * messages' JSON itself, so no object is built per message.
   */
  async historyJson(actor: UserRecord, conversationId: string, query: HistoryQuery): Promise<string> {
    const { messagesJson, hasMore } = await this.ctx.storage.listMessagesJson(conversationId, await this.page(actor, conversationId, query));
    return `{"messages":${messagesJson},"hasMore":${String(hasMore)}}`;
  }

  /** Checks that the actor may read the conversation and turns the query into a storage page. */
  private async page(actor: UserRecord, conversationId: string, query: HistoryQuery): Promise<{ before?: number; after?: number; limit: number }> {
    await requireJoined(this.ctx, conversationId, actor.id);
    if (query.before !== undefined && query.after !== undefined) {
      throw new AppError('validation_failed', 'querystring must have before or after, not both');
    }
    const page: { before?: number; after?: number; limit: number } = { limit: query.limit ?? LIMITS.pageSizeDefault };
    if (query.before !== undefined) page.before = query.before;
    if (query.after !== undefined) page.after = query.after;
    return page;
  }

  async markRead(actor: UserRecord, conversationId: string, index: number): Promise<number> {
    await requireJoined(this.ctx, conversationId, actor.id);
    const lastReadIndex = await this.ctx.storage.markRead(conversationId, actor.id, index);
    if (lastReadIndex === undefined) throw new AppError('conversation_not_found');
    await publish(this.ctx, { conversationId }, {
      name: 'readPositionChanged',
      data: { conversationId, userId: actor.id, lastReadIndex },
    });
    return lastReadIndex;
  }
}
