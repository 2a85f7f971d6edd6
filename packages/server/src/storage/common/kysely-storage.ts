import type { Kysely } from 'kysely';
import type { Storage } from '../storage.js';
import type { Database } from '../schema.js';
import { accountStore } from './account-store.js';
import { conversationStore } from './conversation-store.js';
import { inviteStore } from './invite-store.js';
import { changeMessage, getMessage, listChangedMessages, listMessages, listMessagesJson } from './message-store.js';
import { participantStore } from './participant-store.js';
import { webhookStore } from './webhook-store.js';

/** What differs between databases; everything else is shared Kysely code. */
export interface DialectParts {
  kind: Storage['kind'];
  isUniqueViolation(error: unknown): boolean;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  appendMessage: Storage['appendMessage'];
  /** Whether rows keep their wire JSON in `message_json` (SQLite), which a change must rewrite. */
  storesMessageJson: boolean;
  /** Hand-written versions of hot reads; they replace the shared Kysely queries. */
  reads?: Partial<Pick<Storage, 'listMessages' | 'listMessagesJson' | 'getParticipant' | 'listJoinedConversationIds'>>;
}

/**
 * Assembles a `Storage` from the shared Kysely queries and the dialect's own parts.
 *
 * @example
 * const storage = createKyselyStorage(db, { kind: 'sqlite', isUniqueViolation, migrate, ping, close, appendMessage });
 */
export function createKyselyStorage(db: Kysely<Database>, parts: DialectParts): Storage {
  return {
    kind: parts.kind,
    migrate: parts.migrate,
    ping: parts.ping,
    close: parts.close,
    appendMessage: parts.appendMessage,
    listMessages: (conversationId, page) => listMessages(db, conversationId, page),
    listMessagesJson: (conversationId, page) => listMessagesJson(db, conversationId, page),
    getMessage: (conversationId, messageId) => getMessage(db, conversationId, messageId),
    changeMessage: (conversationId, messageId, change) => changeMessage(db, conversationId, messageId, change, parts.storesMessageJson),
    listChangedMessages: (conversationId, page) => listChangedMessages(db, conversationId, page),
    ...accountStore(db, parts.isUniqueViolation),
    ...conversationStore(db, parts.isUniqueViolation),
    ...participantStore(db),
    ...inviteStore(db),
    ...webhookStore(db),
    ...parts.reads,
  };
}
