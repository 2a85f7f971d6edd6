import { Type, type Static } from '@sinclair/typebox';
import { LIMITS, USERNAME_PATTERN } from './limits.js';
import {
  Attributes,
  Conversation,
  ConversationSummary,
  Invitation,
  InviteLink,
  InvitePolicy,
  Message,
  Participant,
  Role,
  User,
} from './models.js';
import type { ServerEvents } from './events.js';

/*
 * REST bodies and responses. Every route lives under `/api`. Types are derived from the
 * schemas so the server validates exactly what the SDK sends.
 */

export const Username = Type.String({
  minLength: LIMITS.usernameMin,
  maxLength: LIMITS.usernameMax,
  pattern: USERNAME_PATTERN,
  description: '3-32 characters: letters, digits, _ . -; case-insensitive',
});

export const Credentials = Type.Object(
  {
    username: Username,
    password: Type.String({ minLength: LIMITS.passwordMin, maxLength: LIMITS.passwordMax }),
  },
  { additionalProperties: false },
);
export type Credentials = Static<typeof Credentials>;

/** Sign-in accepts any password length so a wrong one is reported as wrong, not as invalid. */
export const SignInBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: LIMITS.usernameMax }),
    password: Type.String({ minLength: 1, maxLength: LIMITS.passwordMax }),
  },
  { additionalProperties: false },
);
export type SignInBody = Static<typeof SignInBody>;

export const UserResponse = Type.Object({ user: User });
export type UserResponse = Static<typeof UserResponse>;

export const TokenResponse = Type.Object({
  token: Type.String(),
  identity: Type.String(),
  expiresAt: Type.String(),
});
export type TokenResponse = Static<typeof TokenResponse>;

export const Title = Type.String({ minLength: 1, maxLength: LIMITS.titleMax });
export const Subject = Type.String({ maxLength: LIMITS.subjectMax });

/**
 * A conversation's unique name: 1-100 characters, not shaped like a conversation id (so that
 * either can name a conversation in a `/v1` path).
 */
export const UniqueName = Type.String({ minLength: 1, maxLength: LIMITS.titleMax, pattern: '^(?!CH[0-9a-f]+$)[^\\u0000-\\u001f]+$' });

export const CreateConversationBody = Type.Object(
  {
    title: Title,
    uniqueName: Type.Optional(UniqueName),
    subject: Type.Optional(Subject),
    participants: Type.Optional(Type.Array(Username, { maxItems: LIMITS.initialParticipantsMax })),
    invitePolicy: Type.Optional(InvitePolicy),
    attributes: Type.Optional(Attributes),
  },
  { additionalProperties: false },
);
export type CreateConversationBody = Static<typeof CreateConversationBody>;

export const CreateConversationResponse = Type.Object({
  conversation: ConversationSummary,
  invited: Type.Array(Type.String()),
  unknownUsernames: Type.Array(Type.String()),
});
export type CreateConversationResponse = Static<typeof CreateConversationResponse>;

export const UpdateConversationBody = Type.Object(
  {
    title: Type.Optional(Title),
    subject: Type.Optional(Subject),
    invitePolicy: Type.Optional(InvitePolicy),
    attributes: Type.Optional(Attributes),
    /** A new unique name, or null to clear it. */
    uniqueName: Type.Optional(Type.Union([UniqueName, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateConversationBody = Static<typeof UpdateConversationBody>;

export const ConversationResponse = Type.Object({ conversation: ConversationSummary });
export type ConversationResponse = Static<typeof ConversationResponse>;

export const ListConversationsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.pageSizeMax })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type ListConversationsQuery = Static<typeof ListConversationsQuery>;

export const ConversationListResponse = Type.Object({
  conversations: Type.Array(ConversationSummary),
  total: Type.Integer(),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type ConversationListResponse = Static<typeof ConversationListResponse>;

export const SendMessageBody = Type.Object(
  {
    body: Type.String({ minLength: 1, maxLength: LIMITS.messageBodyMax }),
    clientId: Type.String({ minLength: 1, maxLength: LIMITS.clientIdMax }),
    attributes: Type.Optional(Attributes),
  },
  { additionalProperties: false },
);
export type SendMessageBody = Static<typeof SendMessageBody>;

/** A new body for one's own message (`PATCH /api/conversations/:id/messages/:messageId`). */
export const UpdateMessageBody = Type.Object(
  {
    body: Type.String({ minLength: 1, maxLength: LIMITS.messageBodyMax }),
  },
  { additionalProperties: false },
);
export type UpdateMessageBody = Static<typeof UpdateMessageBody>;

export const MessageResponse = Type.Object({ message: Message });
export type MessageResponse = Static<typeof MessageResponse>;

export const HistoryQuery = Type.Object(
  {
    before: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.indexMax })),
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.indexMax })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.pageSizeMax })),
  },
  { additionalProperties: false },
);
export type HistoryQuery = Static<typeof HistoryQuery>;

export const MessagePage = Type.Object({
  /** Oldest first. */
  messages: Type.Array(Message),
  hasMore: Type.Boolean(),
});
export type MessagePage = Static<typeof MessagePage>;

export const MarkReadBody = Type.Object(
  { index: Type.Integer({ minimum: 0, maximum: LIMITS.indexMax }) },
  { additionalProperties: false },
);
export type MarkReadBody = Static<typeof MarkReadBody>;

export const ParticipantsResponse = Type.Object({ participants: Type.Array(Participant) });
export type ParticipantsResponse = Static<typeof ParticipantsResponse>;

export const AddParticipantBody = Type.Object({ username: Username }, { additionalProperties: false });
export type AddParticipantBody = Static<typeof AddParticipantBody>;

export const UpdateParticipantBody = Type.Object({ role: Role }, { additionalProperties: false });
export type UpdateParticipantBody = Static<typeof UpdateParticipantBody>;

export const ParticipantResponse = Type.Object({ participant: Participant });
export type ParticipantResponse = Static<typeof ParticipantResponse>;

export const InvitationsResponse = Type.Object({ invitations: Type.Array(Invitation) });
export type InvitationsResponse = Static<typeof InvitationsResponse>;

export const CreateInviteBody = Type.Object(
  {
    expiresInSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 365 * 24 * 3600 })),
    maxUses: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  },
  { additionalProperties: false },
);
export type CreateInviteBody = Static<typeof CreateInviteBody>;

export const InviteResponse = Type.Object({ invite: InviteLink });
export type InviteResponse = Static<typeof InviteResponse>;

export const InviteListResponse = Type.Object({ invites: Type.Array(InviteLink) });
export type InviteListResponse = Static<typeof InviteListResponse>;

/** What anyone holding a valid link may see before joining. */
export const InvitePreviewResponse = Type.Object({
  conversationId: Type.String(),
  title: Type.String(),
  createdBy: Type.String({ description: 'username of whoever created the link' }),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
});
export type InvitePreviewResponse = Static<typeof InvitePreviewResponse>;

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export type IdParams = Static<typeof IdParams>;

/** `/api/conversations/:id/messages/:messageId` */
export const MessageParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  messageId: Type.String({ minLength: 1, maxLength: 64 }),
});
export type MessageParams = Static<typeof MessageParams>;

/** Event types a webhook can ask for (SPEC 2.8: message and membership events; docs/integrators.md). */
export const WEBHOOK_EVENT_TYPES = [
  'messageAdded',
  'messageUpdated',
  'messageRemoved',
  'participantInvited',
  'participantJoined',
  'participantLeft',
] as const;
export const WebhookEventType = Type.Union(WEBHOOK_EVENT_TYPES.map((t) => Type.Literal(t)));
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What each webhook event's `data` holds: the WebSocket event's data for the same change. */
export interface WebhookEvents {
  messageAdded: ServerEvents['messageAdded'];
  messageUpdated: ServerEvents['messageUpdated'];
  messageRemoved: ServerEvents['messageRemoved'];
  participantInvited: { conversationId: string; participant: Participant };
  participantJoined: { conversationId: string; participant: Participant };
  /** Declined, left or removed: `participant.status` says which. */
  participantLeft: { conversationId: string; participant: Participant };
}

/**
 * The JSON body of one webhook POST, discriminated by `type` (docs/integrators.md, section 5).
 *
 * @example
 * const delivery = JSON.parse(rawBody) as WebhookDelivery;
 * if (delivery.type === 'messageAdded') console.log(delivery.data.message.body);
 */
export type WebhookDelivery = {
  [K in WebhookEventType]: {
    /** Stable across retries: a receiver that saw it already answers 2xx and skips it. */
    id: string;
    type: K;
    conversationId: string;
    /** When the change happened. */
    createdAt: string;
    data: WebhookEvents[K];
  };
}[WebhookEventType];

/** `PUT /api/webhook`: where the key's events go, and which (all when omitted). */
export const SetWebhookBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2000, description: 'http:// or https:// URL that receives a POST per event' }),
    events: Type.Optional(Type.Array(WebhookEventType, { minItems: 1, maxItems: WEBHOOK_EVENT_TYPES.length, uniqueItems: true })),
  },
  { additionalProperties: false },
);
export type SetWebhookBody = Static<typeof SetWebhookBody>;

export const Webhook = Type.Object({
  url: Type.String(),
  events: Type.Array(WebhookEventType),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  /** Conversations whose deliveries are failing now (each retried with doubling waits). */
  failing: Type.Integer({ minimum: 0 }),
  /** What went wrong on the latest failing delivery, or null. */
  lastError: Type.Union([Type.String(), Type.Null()]),
  nextAttemptAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type Webhook = Static<typeof Webhook>;

export const WebhookResponse = Type.Object({ webhook: Webhook });
export type WebhookResponse = Static<typeof WebhookResponse>;

export { Conversation };
