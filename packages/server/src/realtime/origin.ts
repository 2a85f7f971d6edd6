import type { Message } from '@parley/protocol';
import type { BusEnvelope } from './bus.js';
import type { RoomMember } from './rooms.js';

/**
 * The key under which a published envelope carries its {@link DeliveryOrigin}. A symbol, so
 * the origin stays in this process: `JSON.stringify` (the Redis bus) skips symbol keys, and
 * only the in-process bus hands the very same envelope object to the gateway.
 */
export const ORIGIN: unique symbol = Symbol('parley.deliveryOrigin');

/**
 * Where a `send` came from and how to acknowledge it. With the in-process bus the gateway
 * delivers inside `publish`: it writes the event to the sender's own connection first, then
 * calls `ack`, then writes to everyone else, so the sender is acknowledged right after the
 * commit (not after the whole fan-out) and still sees `messageAdded` before its `ack`, as it
 * always has. Whoever else holds the origin (the domain, after publishing) calls `ack` too:
 * only the first call sends anything.
 */
export interface DeliveryOrigin {
  /** The sending connection. */
  readonly member: RoomMember;
  /**
   * Acknowledges the durable message (first call only). `messageJson` is
   * `JSON.stringify(message)` when the caller already has it (the gateway does).
   */
  ack(message: Message, messageJson?: string): void;
}

/**
 * The key under which a `messageAdded` envelope published in this process carries the
 * message's JSON (`JSON.stringify(message)`) when storage built it, so that the gateway frames
 * it without serialising the message again. A symbol for the same reason as `ORIGIN`.
 */
export const MESSAGE_JSON: unique symbol = Symbol('parley.messageJson');

/** A bus envelope as the in-process bus delivers it: possibly with its origin and message JSON. */
export type OriginEnvelope = BusEnvelope & { [ORIGIN]?: DeliveryOrigin; [MESSAGE_JSON]?: string };

/** The origin of an envelope published in this process, if it has one. */
export function originOf(envelope: BusEnvelope): DeliveryOrigin | undefined {
  return (envelope as OriginEnvelope)[ORIGIN];
}

/** The message JSON of a `messageAdded` envelope published in this process, if it has one. */
export function messageJsonOf(envelope: BusEnvelope): string | undefined {
  return (envelope as OriginEnvelope)[MESSAGE_JSON];
}
