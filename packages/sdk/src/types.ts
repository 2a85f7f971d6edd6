import type { Invitation, Message, ServerEvents } from '@parley/protocol';
import type { Conversation } from './conversation.js';
import type { ParleyError } from './errors.js';
import type { FetchFn } from './http.js';
import type { ConnectionState, WebSocketCtor } from './socket.js';

/** A page of results with a link to the one before it (Twilio's `Paginator`). */
export interface Paginator<T> {
  /** Oldest first. */
  items: T[];
  hasPrevPage: boolean;
  prevPage(): Promise<Paginator<T>>;
}

/** Options for {@link Client.create}. */
export interface ClientOptions {
  /** Where the server is, e.g. `http://localhost:8000`. */
  baseUrl: string;
  /** Fetches a fresh access token; enables automatic refresh on expiry. */
  getToken?: () => Promise<string>;
  /** WebSocket constructor; required in Node (`import { WebSocket } from 'ws'`). */
  WebSocket?: WebSocketCtor;
  fetch?: FetchFn;
  /** Reconnect backoff (full jitter): defaults 250 ms to 10 s. */
  backoff?: { minMs?: number; maxMs?: number };
  /** Heartbeat ping period in ms (default 25 000). */
  heartbeatMs?: number;
}

type TypingPayload = ServerEvents['typingStarted'];
type ParticipantPayload = ServerEvents['participantJoined'];

/**
 * Events of {@link Client}, by name, with their payload.
 *
 * @example
 * client.on('messageAdded', (message) => console.log(message.body));
 */
export interface ClientEvents {
  connectionStateChanged: ConnectionState;
  /** Each message exactly once, in index order per conversation. */
  messageAdded: Message;
  messageUpdated: Message;
  messageRemoved: ServerEvents['messageRemoved'];
  conversationAdded: Conversation;
  conversationUpdated: Conversation;
  conversationRemoved: ServerEvents['conversationRemoved'];
  participantJoined: ParticipantPayload;
  participantLeft: ParticipantPayload;
  participantUpdated: ParticipantPayload;
  invitationReceived: Invitation;
  invitationRemoved: ServerEvents['invitationRemoved'];
  typingStarted: TypingPayload;
  typingEnded: TypingPayload;
  readPositionChanged: ServerEvents['readPositionChanged'];
  /**
   * Someone whose presence I follow (`client.watchPresence`) came online or went offline,
   * live or while I was disconnected (reported after the reconnect).
   */
  presenceChanged: ServerEvents['presenceChanged'];
  /** The token expires soon; refreshed automatically when `getToken` was given. */
  tokenAboutToExpire: ServerEvents['tokenAboutToExpire'];
  /** The server refused the token; without `getToken`, call `updateToken` (state is `denied`). */
  tokenExpired: void;
  error: ParleyError;
}

/**
 * Events of one {@link Conversation}. The client-level names work too; `updated` and
 * `removed` are the `@twilio/conversations` spellings of `conversationUpdated` and
 * `conversationRemoved`.
 *
 * @example
 * conversation.on('typingStarted', ({ username }) => showTyping(username));
 */
export interface ConversationEvents {
  messageAdded: Message;
  messageUpdated: Message;
  messageRemoved: ServerEvents['messageRemoved'];
  participantJoined: ParticipantPayload;
  participantLeft: ParticipantPayload;
  participantUpdated: ParticipantPayload;
  typingStarted: TypingPayload;
  typingEnded: TypingPayload;
  readPositionChanged: ServerEvents['readPositionChanged'];
  updated: Conversation;
  conversationUpdated: Conversation;
  removed: ServerEvents['conversationRemoved'];
  conversationRemoved: ServerEvents['conversationRemoved'];
}
