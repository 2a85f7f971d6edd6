import type { HistoryQuery, Message, MessagePage, SendMessageBody, UpdateMessageBody } from '@parley/protocol';
import { LIMITS } from '@parley/protocol';
import { AppError } from '../errors.js';
import { newMessageId } from '../ids.js';
import type { DeliveryOrigin } from '../realtime/origin.js';
import type { MessageRecord, UserRecord } from '../storage/storage.js';
import { publish, type DomainContext } from './context.js';
import { assertAttributesSize, requireJoined } from './policies.js';
import { presentMessage } from './presenters.js';
import { RateLimiter } from './rate-limiter.js';

/**
 * Sending (durable first, then published), editing and removing, history and read positions.
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
    this.checkBody(body.body);
    assertAttributesSize(body.attributes, LIMITS.attributesMaxBytes);
    this.admit(actor);
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
      const { messageJson } = result;
      if (origin && this.ctx.bus.kind !== 'memory') origin.ack(message, messageJson);
      const event = { name: 'messageAdded', data: { conversationId, message } } as const;
      await publish(this.ctx, { conversationId }, event, undefined, origin, messageJson);
    }
    origin?.ack(message);
    return { message, duplicate: result.duplicate };
  }

  /**
   * Replaces the body of one's own message and publishes `messageUpdated` with it. Only the
   * author may edit, and a removed message cannot be edited (`message_removed`).
   *
   * @example
   * const edited = await messages.edit(user, conversationId, messageId, { body: 'fixed' });
   * edited.editedAt // when
   */
  async edit(actor: UserRecord, conversationId: string, messageId: string, body: UpdateMessageBody): Promise<Message> {
    this.checkBody(body.body);
    await requireJoined(this.ctx, conversationId, actor.id);
    const current = await this.requireMessage(conversationId, messageId);
    if (current.authorId !== actor.id) throw new AppError('not_message_author', 'Only the author of a message can edit it');
    if (current.removedAt !== undefined) throw new AppError('message_removed');
    this.admit(actor);
    const result = await this.ctx.storage.changeMessage(conversationId, messageId, { kind: 'edit', body: body.body, at: this.ctx.now() });
    if (result === undefined) throw new AppError('message_not_found');
    // Removed between the check and the write.
    if (!result.changed) throw new AppError('message_removed');
    const message = presentMessage(result.message);
    await publish(this.ctx, { conversationId }, { name: 'messageUpdated', data: { conversationId, message } });
    return message;
  }

  /**
   * Removes a message: its author or an admin of the conversation may. The message keeps its
   * index with an empty body, and every participant gets `messageRemoved`. Removing a removed
   * message changes nothing and succeeds, so a retry is harmless.
   *
   * @example
   * await messages.remove(admin, conversationId, messageId);
   */
  async remove(actor: UserRecord, conversationId: string, messageId: string): Promise<void> {
    const me = await requireJoined(this.ctx, conversationId, actor.id);
    const current = await this.requireMessage(conversationId, messageId);
    if (current.authorId !== actor.id && me.role !== 'admin') {
      throw new AppError('not_message_author', 'Only the author of a message or an admin of the conversation can remove it');
    }
    if (current.removedAt !== undefined) return;
    this.admitToBus();
    const result = await this.ctx.storage.changeMessage(conversationId, messageId, { kind: 'remove', at: this.ctx.now() });
    if (result === undefined) throw new AppError('message_not_found');
    if (!result.changed) return;
    await publish(this.ctx, { conversationId }, {
      name: 'messageRemoved',
      data: { conversationId, messageId, index: result.message.index, message: presentMessage(result.message) },
    });
  }

  /**
   * One message of a conversation the actor is in, removed or not.
   *
   * @example
   * const message = await messages.find(user, conversationId, messageId);
   */
  async find(actor: UserRecord, conversationId: string, messageId: string): Promise<Message> {
    await requireJoined(this.ctx, conversationId, actor.id);
    return presentMessage(await this.requireMessage(conversationId, messageId));
  }

  async history(actor: UserRecord, conversationId: string, query: HistoryQuery): Promise<MessagePage> {
    const { messages, hasMore } = await this.ctx.storage.listMessages(conversationId, await this.page(actor, conversationId, query));
    return { messages: messages.map(presentMessage), hasMore };
  }

  /**
   * The messages up to index `upTo` edited or removed after the conversation's change counter
   * stood at `afterChange`, in the order of their latest change: what a client that saw messages
   * up to `upTo` and changes up to `afterChange` missed, each in its current state.
   *
   * @example
   * const { messages, hasMore } = await messages.changes(user, conversationId, { afterChange: 3, upTo: 120 });
   */
  async changes(
    actor: UserRecord,
    conversationId: string,
    page: { afterChange: number; upTo: number; limit?: number },
  ): Promise<MessagePage> {
    await requireJoined(this.ctx, conversationId, actor.id);
    const { afterChange, upTo } = page;
    const limit = page.limit ?? LIMITS.pageSizeMax;
    const { messages, hasMore } = await this.ctx.storage.listChangedMessages(conversationId, { afterChange, upTo, limit });
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

  /** A message body's length and content, as configured (the schema allows the protocol's maximum). */
  private checkBody(text: string): void {
    const max = this.ctx.config.messageMaxLength;
    if (text.length > max) {
      throw new AppError('validation_failed', `body must NOT have more than ${max} characters (got ${text.length})`);
    }
    if (text.trim() === '') throw new AppError('validation_failed', 'body must not be blank');
  }

  /** Refuses a change while real-time delivery is down, then takes one of the actor's sends. */
  private admit(actor: UserRecord): void {
    this.admitToBus();
    if (!this.sends.take(actor.id)) {
      throw new AppError('rate_limited', 'Too many messages; slow down', undefined, this.sends.retryAfterMs(actor.id));
    }
  }

  /** Refuse before committing: a change that was acknowledged must reach every process. */
  private admitToBus(): void {
    const busProblem = this.ctx.bus.problem();
    if (busProblem !== null) {
      throw new AppError('unavailable', `Real-time delivery is unavailable (${busProblem}); retry shortly`, undefined, 1000);
    }
  }

  private async requireMessage(conversationId: string, messageId: string): Promise<MessageRecord> {
    const message = await this.ctx.storage.getMessage(conversationId, messageId);
    if (message === undefined) throw new AppError('message_not_found');
    return message;
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
