import { randomBytes } from 'node:crypto';
import type { ConversationRecord, NewMessage, NewParticipant, Storage, UserRecord } from '../storage.js';

/*
 * Small factories for the contract suite. Every name is unique, so the tests of one run share a
 * database without seeing each other's rows.
 */

/** Returns the storage under test; throws if the suite's setup failed. */
export type GetStorage = () => Storage;

let counter = 0;

/**
 * A unique id with a readable prefix.
 *
 * @example
 * uid('US'); // 'US0k3x9a1f...'
 */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}${counter.toString(36).padStart(4, '0')}${randomBytes(5).toString('hex')}`;
}

/** A fixed timestamp `seconds` after 2025-01-01, in `toISOString` form. */
export function at(seconds: number): string {
  return new Date(Date.UTC(2025, 0, 1) + seconds * 1000).toISOString();
}

/** Creates a user with a unique lowercase name (`prefix` helps reading failures). */
export async function makeUser(storage: Storage, prefix = 'user'): Promise<UserRecord> {
  const username = `${prefix}_${randomBytes(5).toString('hex')}`;
  return storage.createUser({ id: uid('US'), username, passwordHash: 'hash', createdAt: at(0) });
}

/** Options for `makeConversation`. */
export interface ConversationOptions {
  /** Joined members besides the admin creator. */
  members?: UserRecord[];
  /** Extra participant rows, e.g. invitations. */
  others?: NewParticipant[];
  lastActivityAt?: string;
  id?: string;
  uniqueName?: string;
  /** The API key it is created through (its webhook hears it). */
  apiKeyId?: string;
}

/** Creates a conversation whose creator is a joined admin. */
export async function makeConversation(
  storage: Storage,
  creator: UserRecord,
  options: ConversationOptions = {},
): Promise<ConversationRecord> {
  const when = options.lastActivityAt ?? at(10);
  const conversation: ConversationRecord = {
    id: options.id ?? uid('CH'),
    title: 'Team',
    subject: 'Plans',
    attributes: { color: 'blue', n: 1 },
    invitePolicy: 'members',
    createdBy: creator.id,
    createdAt: when,
    updatedAt: when,
    lastActivityAt: when,
    lastMessageIndex: 0,
    lastChangeIndex: 0,
    uniqueName: options.uniqueName ?? null,
  };
  const participants: NewParticipant[] = [
    { userId: creator.id, role: 'admin', status: 'joined', invitedBy: null },
    ...(options.members ?? []).map((m) => ({ userId: m.id, role: 'member' as const, status: 'joined' as const, invitedBy: creator.id })),
    ...(options.others ?? []),
  ];
  await storage.createConversation(conversation, participants, options.apiKeyId);
  return conversation;
}

/** A new message from `author`, with a fresh client id unless one is given. */
export function newMessage(conversationId: string, author: UserRecord, extra: Partial<NewMessage> = {}): NewMessage {
  return {
    id: uid('IM'),
    conversationId,
    authorId: author.id,
    body: 'hello',
    clientId: uid('c-'),
    attributes: {},
    createdAt: at(100),
    ...extra,
  };
}

/** Appends `count` messages one after another and returns their indexes. */
export async function appendMany(storage: Storage, conversationId: string, author: UserRecord, count: number): Promise<number[]> {
  const indexes: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const result = await storage.appendMessage(newMessage(conversationId, author, { body: `m${i + 1}`, createdAt: at(100 + i) }));
    if (result.kind !== 'ok') throw new Error('append failed in a fixture');
    indexes.push(result.message.index);
  }
  return indexes;
}

/** Asserts the result is `ok` and narrows it. */
export function expectOk<T extends { kind: string }>(result: T): Extract<T, { kind: 'ok' }> {
  if (result.kind !== 'ok') throw new Error(`expected ok, got ${result.kind}`);
  return result as Extract<T, { kind: 'ok' }>;
}
