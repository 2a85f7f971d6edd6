import type { Logger } from 'pino';
import type { AnyServerEvent } from '@parley/protocol';
import type { Config } from '../config/config.js';
import type { Audience, Bus, MembershipChange } from '../realtime/bus.js';
import type { PresenceStore } from '../realtime/presence.js';
import { MESSAGE_JSON, ORIGIN, type DeliveryOrigin, type OriginEnvelope } from '../realtime/origin.js';
import type { Storage } from '../storage/storage.js';

/** What every domain command needs: storage, the bus, presence, configuration and a logger. */
export interface DomainContext {
  storage: Storage;
  bus: Bus;
  /** Who is online now (for participant lists). */
  presence: Pick<PresenceStore, 'online'>;
  config: Config;
  log: Logger;
  now(): string;
}

/**
 * Publishes after a commit. A failed publish is logged, not thrown: the change is already
 * durable and clients converge on reconnect (resume + re-list). `origin` (the connection a
 * message came from) and `messageJson` (a `messageAdded` message's JSON, when storage built it)
 * ride along in this process only; see `DeliveryOrigin` and `MESSAGE_JSON`.
 *
 * @example
 * await publish(ctx, { conversationId }, { name: 'messageAdded', data: { conversationId, message } });
 */
export async function publish(
  ctx: DomainContext,
  audience: Audience,
  event: AnyServerEvent,
  membership?: MembershipChange,
  origin?: DeliveryOrigin,
  messageJson?: string,
): Promise<void> {
  const envelope: OriginEnvelope = membership ? { audience, event, membership } : { audience, event };
  if (origin) envelope[ORIGIN] = origin;
  if (messageJson !== undefined) envelope[MESSAGE_JSON] = messageJson;
  try {
    await ctx.bus.publish(envelope);
  } catch (err) {
    ctx.log.warn({ err, event: event.name }, 'publish failed after commit');
  }
}
