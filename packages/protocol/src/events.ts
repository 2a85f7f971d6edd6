import type { Conversation, ConversationSummary, Invitation, Message, Participant } from './models.js';

/**
 * Every real-time event a client can receive, by name, with its payload. The server sends
 * them as `{ type: 'event', name, data }` frames; the SDK re-emits them under the same names.
 *
 * @example
 * const handler = (data: ServerEvents['messageAdded']) => console.log(data.message.body);
 */
export interface ServerEvents {
  messageAdded: { conversationId: string; message: Message };
  /** The author edited the body: `message` as it is now (with `editedAt`). */
  messageUpdated: { conversationId: string; message: Message };
  /** The author or an admin removed a message: `message` is what is left (empty body, `removedAt`). */
  messageRemoved: { conversationId: string; messageId: string; index: number; message: Message };
  conversationAdded: { conversation: ConversationSummary };
  conversationUpdated: { conversation: Conversation };
  conversationRemoved: { conversationId: string; reason: 'deleted' | 'removed' | 'left' };
  participantJoined: { conversationId: string; participant: Participant };
  participantLeft: { conversationId: string; participant: Participant };
  participantUpdated: { conversationId: string; participant: Participant };
  invitationReceived: { invitation: Invitation };
  invitationRemoved: { conversationId: string };
  typingStarted: { conversationId: string; userId: string; username: string };
  typingEnded: { conversationId: string; userId: string; username: string };
  readPositionChanged: { conversationId: string; userId: string; lastReadIndex: number };
  /**
   * A user whose presence this connection follows (`watchPresence`) came online (their first
   * connection on any server) or went offline (their last one closed, after a short grace
   * period for reloads).
   */
  presenceChanged: { userId: string; online: boolean };
  tokenAboutToExpire: { expiresAt: string };
}

export type ServerEventName = keyof ServerEvents;

/** A typed union of every event, discriminated by `name`. */
export type AnyServerEvent = { [K in ServerEventName]: { name: K; data: ServerEvents[K] } }[ServerEventName];
