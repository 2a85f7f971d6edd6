import type {
  Conversation,
  ConversationSummary,
  Invitation,
  InviteLink,
  Message,
  Participant,
  User,
} from '@parley/protocol';
import type {
  ConversationListItem,
  ConversationRecord,
  InviteRecord,
  MessageRecord,
  ParticipantRecord,
  PendingInvitation,
  UserRecord,
} from '../storage/storage.js';

/*
 * Presenters decide what goes on the wire: each one copies an allow-list of fields from a
 * storage record, so a column added later is never leaked by accident.
 */

/** @example presentUser(record) // { id, username, createdAt } */
export function presentUser(user: UserRecord): User {
  return { id: user.id, username: user.username, createdAt: user.createdAt };
}

/** @example presentMessage(record).index */
export function presentMessage(m: MessageRecord): Message {
  const message: Message = {
    id: m.id,
    conversationId: m.conversationId,
    index: m.index,
    authorId: m.authorId,
    author: m.author,
    body: m.body,
    clientId: m.clientId,
    attributes: m.attributes,
    createdAt: m.createdAt,
  };
  if (m.editedAt !== undefined) message.editedAt = m.editedAt;
  if (m.removedAt !== undefined) message.removedAt = m.removedAt;
  if (m.changeIndex !== undefined) message.changeIndex = m.changeIndex;
  return message;
}

/** @example presentParticipant(record).status */
export function presentParticipant(p: ParticipantRecord): Participant {
  return {
    conversationId: p.conversationId,
    userId: p.userId,
    username: p.username,
    role: p.role,
    status: p.status,
    lastReadIndex: p.lastReadIndex,
    invitedBy: p.invitedBy,
    updatedAt: p.updatedAt,
  };
}

/** @example presentConversation(record).title */
export function presentConversation(c: ConversationRecord): Conversation {
  return {
    id: c.id,
    title: c.title,
    subject: c.subject,
    attributes: c.attributes,
    invitePolicy: c.invitePolicy,
    createdBy: c.createdBy,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    lastActivityAt: c.lastActivityAt,
    lastMessageIndex: c.lastMessageIndex,
    lastChangeIndex: c.lastChangeIndex,
    uniqueName: c.uniqueName,
  };
}

/** Unread counts start at the moment of joining (the read position starts at the newest message). */
export function presentSummary(item: ConversationListItem): ConversationSummary {
  return {
    conversation: presentConversation(item.conversation),
    myRole: item.participant.role,
    myStatus: item.participant.status,
    unreadCount: Math.max(0, item.conversation.lastMessageIndex - item.participant.lastReadIndex),
    lastMessage: item.lastMessage ? presentMessage(item.lastMessage) : null,
  };
}

/** @example presentInvitation(pending).title */
export function presentInvitation(p: PendingInvitation): Invitation {
  return {
    conversationId: p.conversation.id,
    title: p.conversation.title,
    subject: p.conversation.subject,
    invitedBy: p.invitedByUsername,
    invitedAt: p.participant.updatedAt,
  };
}

/** The token and URL are only shown once, when the link is created. */
export function presentInvite(r: InviteRecord, reveal?: { token: string; url: string }): InviteLink {
  const link: InviteLink = {
    id: r.id,
    conversationId: r.conversationId,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    maxUses: r.maxUses,
    uses: r.uses,
    revoked: r.revokedAt !== null,
  };
  if (reveal) {
    link.token = reveal.token;
    link.url = reveal.url;
  }
  return link;
}
