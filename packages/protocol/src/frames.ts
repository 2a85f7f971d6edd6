import { Type, type Static } from '@sinclair/typebox';
import { LIMITS } from './limits.js';
import { Attributes, Message } from './models.js';
import type { AnyServerEvent } from './events.js';
import type { ErrorCode } from './errors.js';

/*
 * WebSocket frames. One socket per client at `/ws?token=<access token>`; every frame is
 * one JSON object with a `type`. Frames a client sends may carry a `ref` (any string it
 * chooses), echoed on the reply so requests can be matched to answers.
 */

const Ref = Type.Optional(Type.String({ maxLength: 64 }));
const ConversationId = Type.String({ minLength: 1, maxLength: 64 });

export const SendFrame = Type.Object(
  {
    type: Type.Literal('send'),
    ref: Ref,
    conversationId: ConversationId,
    clientId: Type.String({ minLength: 1, maxLength: LIMITS.clientIdMax }),
    body: Type.String({ minLength: 1, maxLength: LIMITS.messageBodyMax }),
    attributes: Type.Optional(Attributes),
  },
  { additionalProperties: false },
);
export type SendFrame = Static<typeof SendFrame>;

/** Per conversation id, a counter the client has seen up to. */
const Positions = Type.Record(Type.String({ maxLength: 64 }), Type.Integer({ minimum: 0, maximum: LIMITS.indexMax }), {
  maxProperties: 10_000,
});

/**
 * Sent after (re)connecting: the last index seen per conversation, and optionally the last
 * `changeIndex` seen. Missed messages follow, then the edits and removals missed of messages the
 * client already had (only for conversations named in `changes`).
 */
export const ResumeFrame = Type.Object(
  {
    type: Type.Literal('resume'),
    ref: Ref,
    positions: Positions,
    changes: Type.Optional(Positions),
  },
  { additionalProperties: false },
);
export type ResumeFrame = Static<typeof ResumeFrame>;

export const PingFrame = Type.Object({ type: Type.Literal('ping'), ref: Ref }, { additionalProperties: false });
export type PingFrame = Static<typeof PingFrame>;

export const TypingFrame = Type.Object(
  { type: Type.Literal('typing'), ref: Ref, conversationId: ConversationId },
  { additionalProperties: false },
);
export type TypingFrame = Static<typeof TypingFrame>;

export const ReadFrame = Type.Object(
  { type: Type.Literal('read'), ref: Ref, conversationId: ConversationId, index: Type.Integer({ minimum: 0, maximum: LIMITS.indexMax }) },
  { additionalProperties: false },
);
export type ReadFrame = Static<typeof ReadFrame>;

/** Replace the connection's access token before it expires. */
export const TokenFrame = Type.Object(
  { type: Type.Literal('token'), ref: Ref, token: Type.String({ minLength: 1, maxLength: 8192 }) },
  { additionalProperties: false },
);
export type TokenFrame = Static<typeof TokenFrame>;

/**
 * Replaces the set of users whose presence this connection follows (at most 1,000; only
 * contacts, the users who share a joined conversation with you, are followed). The reply,
 * `presence`, lists which of them are online now; `presenceChanged` events follow.
 */
export const WatchPresenceFrame = Type.Object(
  {
    type: Type.Literal('watchPresence'),
    ref: Ref,
    userIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 1000 }),
  },
  { additionalProperties: false },
);
export type WatchPresenceFrame = Static<typeof WatchPresenceFrame>;

export const ClientFrame = Type.Union([SendFrame, ResumeFrame, PingFrame, TypingFrame, ReadFrame, TokenFrame, WatchPresenceFrame]);
export type ClientFrame = Static<typeof ClientFrame>;
export type ClientFrameType = ClientFrame['type'];

/** First frame on every connection. */
export interface ReadyFrame {
  type: 'ready';
  connectionId: string;
  userId: string;
  identity: string;
  tokenExpiresAt: string;
}

/** Reply to a `send`: the message is durable. */
export interface AckFrame {
  type: 'ack';
  ref?: string;
  message: Message;
}

/** Reply to a `resume`, after the missed messages have been sent as `messageAdded` events. */
export interface ResumedFrame {
  type: 'resumed';
  ref?: string;
  /** Conversations the client asked about that it may no longer read. */
  gone: string[];
}

/** Reply to `watchPresence`: the users now followed (the contacts among those asked), and which of them are online. */
export interface PresenceFrame {
  type: 'presence';
  ref?: string;
  watching: string[];
  online: string[];
}

export interface OkFrame {
  type: 'ok';
  ref?: string;
}

export interface PongFrame {
  type: 'pong';
  ref?: string;
}

export interface ErrorFrame {
  type: 'error';
  ref?: string;
  code: ErrorCode;
  message: string;
  details?: unknown;
  retryAfterMs?: number;
}

export type EventFrame = { type: 'event' } & AnyServerEvent;

export type ServerFrame = ReadyFrame | AckFrame | ResumedFrame | PresenceFrame | OkFrame | PongFrame | ErrorFrame | EventFrame;

/** WebSocket close codes the server uses. */
export const CLOSE_CODES = {
  /** Normal close by the client. */
  normal: 1000,
  /** Server shutting down: reconnect (to this or another process) after a short delay. */
  goingAway: 1001,
  /** The server may have missed events (bus outage): reconnect and resume. */
  serviceRestart: 1012,
  /** Temporary trouble (e.g. database unreachable): reconnect after a backoff. */
  tryAgainLater: 1013,
  /** Repeated abuse (invalid frames). */
  policyViolation: 1008,
  /** Frame larger than the limit. */
  tooBig: 1009,
  /** Token invalid or expired: get a new token before reconnecting. */
  unauthorized: 4001,
  /** The session or user was revoked. */
  forbidden: 4003,
} as const;
