import { Type, type Static } from '@sinclair/typebox';

/** ISO-8601 timestamps everywhere on the wire. */
const Timestamp = Type.String({ format: 'date-time' });

export const Role = Type.Union([Type.Literal('admin'), Type.Literal('member')]);
export type Role = Static<typeof Role>;

export const ParticipantStatus = Type.Union([
  Type.Literal('invited'),
  Type.Literal('joined'),
  Type.Literal('declined'),
  Type.Literal('left'),
  Type.Literal('removed'),
]);
export type ParticipantStatus = Static<typeof ParticipantStatus>;

export const InvitePolicy = Type.Union([Type.Literal('members'), Type.Literal('admins')]);
export type InvitePolicy = Static<typeof InvitePolicy>;

/** A free-form JSON object attached to conversations and messages (size-limited). */
export const Attributes = Type.Record(Type.String(), Type.Unknown());
export type Attributes = Static<typeof Attributes>;

export const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  createdAt: Timestamp,
});
export type User = Static<typeof User>;

export const Message = Type.Object({
  id: Type.String(),
  conversationId: Type.String(),
  /** Per-conversation index: 1, 2, 3 ... with no gaps. */
  index: Type.Integer({ minimum: 1 }),
  authorId: Type.String(),
  author: Type.String({ description: 'username (identity) of the author' }),
  body: Type.String(),
  clientId: Type.Union([Type.String(), Type.Null()]),
  attributes: Attributes,
  createdAt: Timestamp,
  /** When the author last changed the body; absent until the message is edited. */
  editedAt: Type.Optional(Timestamp),
  /**
   * When the message was removed (by its author or an admin); absent until then. A removed
   * message keeps its index, so history stays gapless, but its body is empty and its
   * attributes are `{}`.
   */
  removedAt: Type.Optional(Timestamp),
  /**
   * The conversation's change counter at this message's latest edit or removal; absent until
   * then. Each edit or removal in a conversation takes the next number (1, 2, 3 ...), so a
   * client that remembers the highest it saw can `resume` the changes it missed.
   */
  changeIndex: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type Message = Static<typeof Message>;

export const Participant = Type.Object({
  conversationId: Type.String(),
  userId: Type.String(),
  username: Type.String(),
  role: Role,
  status: ParticipantStatus,
  lastReadIndex: Type.Integer({ minimum: 0 }),
  invitedBy: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Timestamp,
  /**
   * Whether the user has a connection open now, for joined participants: in the participant
   * list (`GET .../participants`) and in `participantJoined`; other events leave it out.
   * `presenceChanged` keeps it current.
   */
  online: Type.Optional(Type.Boolean()),
});
export type Participant = Static<typeof Participant>;

export const Conversation = Type.Object({
  id: Type.String(),
  title: Type.String(),
  subject: Type.String(),
  attributes: Attributes,
  invitePolicy: InvitePolicy,
  createdBy: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  lastActivityAt: Timestamp,
  /** Index of the newest message, 0 when there is none. */
  lastMessageIndex: Type.Integer({ minimum: 0 }),
  /** The `changeIndex` of the latest edit or removal of a message, 0 when there was none. */
  lastChangeIndex: Type.Integer({ minimum: 0 }),
  /** An optional name of the integrator's choosing, unique among the conversations of its API key (Twilio's `unique_name`). */
  uniqueName: Type.Union([Type.String(), Type.Null()]),
});
export type Conversation = Static<typeof Conversation>;

/** A conversation as seen by one participant: their role, unread count and the last message. */
export const ConversationSummary = Type.Object({
  conversation: Conversation,
  myRole: Role,
  myStatus: ParticipantStatus,
  unreadCount: Type.Integer({ minimum: 0 }),
  lastMessage: Type.Union([Message, Type.Null()]),
});
export type ConversationSummary = Static<typeof ConversationSummary>;

/** A pending invitation (Kandy's lifecycle): accept or decline. */
export const Invitation = Type.Object({
  conversationId: Type.String(),
  title: Type.String(),
  subject: Type.String(),
  invitedBy: Type.Union([Type.String(), Type.Null()], { description: 'username of the inviter' }),
  invitedAt: Timestamp,
});
export type Invitation = Static<typeof Invitation>;

/** An invite link. `token` is only present when the link is created. */
export const InviteLink = Type.Object({
  id: Type.String(),
  conversationId: Type.String(),
  token: Type.Optional(Type.String()),
  url: Type.Optional(Type.String()),
  createdBy: Type.String(),
  createdAt: Timestamp,
  expiresAt: Type.Union([Timestamp, Type.Null()]),
  maxUses: Type.Union([Type.Integer(), Type.Null()]),
  uses: Type.Integer(),
  revoked: Type.Boolean(),
});
export type InviteLink = Static<typeof InviteLink>;
