/**
 * `@parley/sdk`: a typed Parley client for browsers and Node.js 20+.
 *
 * @example
 * import { AuthClient, Client, ParleyError } from '@parley/sdk';
 */
export { AuthClient, type AuthClientOptions } from './auth.js';
export { Client, inviteToken, type CreateConversationOptions } from './client.js';
export { Conversation } from './conversation.js';
export { ParleyError, type ParleyErrorOptions } from './errors.js';
export { TypedEmitter, type Handler } from './emitter.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export type { SendOptions } from './outbox.js';
export type { ConnectionState, WebSocketCtor, WebSocketLike } from './socket.js';
export type { ClientEvents, ClientOptions, ConversationEvents, Paginator } from './types.js';
export type {
  ErrorCode,
  Invitation,
  InviteLink,
  InvitePreviewResponse,
  Message,
  Participant,
  ParticipantStatus,
  Role,
  User,
} from '@parley/protocol';
