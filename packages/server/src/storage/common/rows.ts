import type { InvitePolicy, ParticipantStatus, Role } from '@parley/protocol';
import type {
  ApiKeyRecord,
  ConversationRecord,
  InviteRecord,
  MessageRecord,
  NewMessage,
  ParticipantRecord,
  SessionRecord,
  UserRecord,
} from '../storage.js';
import type {
  ApiKeysTable,
  ConversationsTable,
  InvitesTable,
  MessagesTable,
  ParticipantsTable,
  SessionsTable,
  UsersTable,
} from '../schema.js';

/*
 * Conversions between table rows and the records of the storage interface, shared by both
 * databases so that they return identical shapes.
 */

/**
 * Normalises a timestamp to `Date#toISOString()` form, so stored text sorts by time.
 *
 * @example
 * iso('2024-01-01T00:00:00Z'); // '2024-01-01T00:00:00.000Z'
 */
export function iso(value: string): string {
  // Appends come stamped by `isoNow()` and mostly share the millisecond: keep the last answer.
  if (lastIso !== undefined && value === lastIso.value) return lastIso.iso;
  const normalised = new Date(value).toISOString();
  lastIso = { value, iso: normalised };
  return normalised;
}
/** The last input `iso` normalised (only ever a valid one) and its answer. */
let lastIso: { value: string; iso: string } | undefined;

/** Like `iso`, passing null through. */
export function isoOrNull(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : iso(value);
}

/** Parses stored JSON attributes; a corrupt value reads as empty rather than failing a page. */
export function parseAttributes(text: string): Record<string, unknown> {
  // Most rows carry no attributes; skip the parser for them.
  if (text === '{}') return {};
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** PostgreSQL returns `count(*)` as a string (bigint); SQLite as a number. */
export function toNumber(value: string | number | bigint | null | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/** Maps a `users` row. */
export function toUser(row: UsersTable): UserRecord {
  return { id: row.id, username: row.username, passwordHash: row.password_hash, createdAt: row.created_at };
}

/** Maps a `sessions` row. */
export function toSession(row: SessionsTable): SessionRecord {
  return { id: row.id, userId: row.user_id, createdAt: row.created_at, expiresAt: row.expires_at };
}

/** Maps an `api_keys` row. */
export function toApiKey(row: ApiKeysTable): ApiKeyRecord {
  return { id: row.id, secret: row.secret, name: row.name, createdAt: row.created_at, revokedAt: row.revoked_at };
}

/** Maps a `conversations` row. */
export function toConversation(row: ConversationsTable): ConversationRecord {
  return {
    id: row.id,
    title: row.title,
    subject: row.subject,
    attributes: parseAttributes(row.attributes),
    invitePolicy: row.invite_policy as InvitePolicy,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastActivityAt: row.last_activity_at,
    lastMessageIndex: toNumber(row.last_message_index),
    lastChangeIndex: toNumber(row.last_change_index),
    uniqueName: row.unique_name ?? null,
  };
}

/** Maps a `participants` row joined with the user's name. */
export function toParticipant(row: ParticipantsTable & { username: string }): ParticipantRecord {
  return {
    conversationId: row.conversation_id,
    userId: row.user_id,
    username: row.username,
    role: row.role as Role,
    status: row.status as ParticipantStatus,
    lastReadIndex: toNumber(row.last_read_index),
    invitedBy: row.invited_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Maps a `messages` row joined with the author's name. */
export function toMessage(row: MessagesTable & { username: string }): MessageRecord {
  return storedMessage(row.conversation_id, {
    id: row.id,
    index: toNumber(row.idx),
    authorId: row.author_id,
    author: row.username,
    body: row.body,
    clientId: row.client_id,
    attributes: row.attributes,
    createdAt: row.created_at,
    editedAt: row.edited_at ?? null,
    removedAt: row.removed_at ?? null,
    changeIndex: row.change_index ?? null,
  });
}

/** A message's columns as stored, with its author's name. */
export interface StoredMessageFields {
  id: string;
  index: number;
  authorId: string;
  author: string;
  body: string;
  clientId: string | null;
  /** JSON text. */
  attributes: string;
  createdAt: string;
  editedAt: string | null;
  removedAt: string | null;
  changeIndex: number | bigint | null;
}

/**
 * The record of a stored message of `conversationId` from its columns. `editedAt`, `removedAt`
 * and `changeIndex` are set only when the message was changed, so that most records carry none
 * of these keys.
 *
 * @example
 * storedMessage('CH1', { id, index, authorId, author, body, clientId, attributes: '{}', createdAt, editedAt: null, removedAt: null, changeIndex: null });
 */
export function storedMessage(conversationId: string, f: StoredMessageFields): MessageRecord {
  const record: MessageRecord = {
    id: f.id,
    conversationId,
    index: f.index,
    authorId: f.authorId,
    author: f.author,
    body: f.body,
    clientId: f.clientId,
    attributes: parseAttributes(f.attributes),
    createdAt: f.createdAt,
  };
  if (f.editedAt !== null) record.editedAt = iso(f.editedAt);
  if (f.removedAt !== null) record.removedAt = iso(f.removedAt);
  if (f.changeIndex !== null) record.changeIndex = Number(f.changeIndex);
  return record;
}

/** Maps an `invites` row. */
export function toInvite(row: InvitesTable): InviteRecord {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    tokenHash: row.token_hash,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    maxUses: row.max_uses === null ? null : toNumber(row.max_uses),
    uses: toNumber(row.uses),
    revokedAt: row.revoked_at,
  };
}

/** Column list for a message with its author's name: `m` is messages, `u` is users. */
export const messageColumns = [
  'm.conversation_id',
  'm.idx',
  'm.id',
  'm.author_id',
  'm.body',
  'm.client_id',
  'm.attributes',
  'm.created_at',
  'm.edited_at',
  'm.removed_at',
  'm.change_index',
  'u.username',
] as const;

/**
 * The record of a message just appended at `index` by `author` (the same on every database).
 * `createdAt` is `m.createdAt` already normalised by `iso` (callers in a batch reuse it).
 *
 * @example
 * const record = appendedMessage(newMessage, 42, 'ada', iso(newMessage.createdAt));
 */
export function appendedMessage(m: NewMessage, index: number, author: string, createdAt: string): MessageRecord {
  return {
    id: m.id,
    conversationId: m.conversationId,
    index,
    authorId: m.authorId,
    author,
    body: m.body,
    clientId: m.clientId,
    attributes: m.attributes,
    createdAt,
  };
}
