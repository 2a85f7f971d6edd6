import type { AnyServerEvent } from '@parley/protocol';

/**
 * Who an event is for: every joined participant of a conversation (resolved by each
 * process's gateway from its own subscriptions), a list of users, or the connections that
 * follow one user's presence (`watchPresence`).
 */
export type Audience = { conversationId: string } | { userIds: string[] } | { presenceOf: string };

/**
 * A change of who may receive a conversation's events, applied by every gateway before
 * it delivers the envelope's event, so a removed user's open socket stops receiving the
 * conversation at the same point in the stream on every process.
 */
export type MembershipChange =
  | { kind: 'joined'; conversationId: string; userId: string }
  | { kind: 'gone'; conversationId: string; userId: string }
  | { kind: 'deleted'; conversationId: string };

/** One unit on the bus: published once per event, however many recipients. */
export interface BusEnvelope {
  audience: Audience;
  event: AnyServerEvent;
  membership?: MembershipChange;
}

export type BusHandler = (envelope: BusEnvelope) => void;

/**
 * Carries domain events to gateways: in-process by default, Redis pub/sub across processes.
 * Domain commands commit first, then publish; the gateway only delivers.
 *
 * @example
 * bus.subscribe((e) => gateway.deliver(e));
 * await bus.publish({ audience: { conversationId: 'CH1' }, event: { name: 'messageAdded', data } });
 */
export interface Bus {
  readonly kind: 'memory' | 'redis';
  publish(envelope: BusEnvelope): Promise<void>;
  subscribe(handler: BusHandler): void;
  /**
   * Called when the bus may have dropped events (it re-subscribed after an outage):
   * gateways then make their clients reconnect and resume, since rooms may be stale.
   */
  onResync(handler: () => void): void;
  /** Null when healthy, otherwise why not (for /readyz). */
  problem(): string | null;
  close(): Promise<void>;
}
