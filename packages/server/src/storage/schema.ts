/*
 * Row types of the tables, as Kysely sees them. Timestamps are ISO-8601 text in both
 * databases so that they sort lexicographically and come back byte-for-byte as written;
 * JSON attributes are text so that both dialects store them the same way.
 */

/** The `users` table. */
export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  created_at: string;
}

/** The `sessions` table. */
export interface SessionsTable {
  id: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

/** The `api_keys` table. */
export interface ApiKeysTable {
  id: string;
  secret: string;
  name: string;
  created_at: string;
  revoked_at: string | null;
}

/** The `conversations` table. */
export interface ConversationsTable {
  id: string;
  title: string;
  subject: string;
  attributes: string;
  invite_policy: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  last_activity_at: string;
  last_message_index: number;
  /** The conversation's change counter: the `change_index` its latest edit or removal took (migration 0006). */
  last_change_index?: number;
  /** Optional, unique among the conversations of one API key (migration 0007; per key since 0008). */
  unique_name?: string | null;
  /** The API key the conversation was created through, whose webhook hears it (migration 0008). Not in `conversation_heads`. */
  api_key_id?: string | null;
}

/** The `webhooks` table: one per API key (migration 0008). */
export interface WebhooksTable {
  api_key_id: string;
  url: string;
  /** JSON array of the event types delivered. */
  events: string;
  created_at: string;
  updated_at: string;
}

/** The `webhook_cursors` table: how far a hooked conversation's events were delivered (migration 0008). */
export interface WebhookCursorsTable {
  conversation_id: string;
  api_key_id: string;
  message_index: number;
  change_index: number;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  lease_owner: string | null;
  lease_until: string | null;
}

/** The `webhook_outbox` table: membership changes of hooked conversations not yet delivered (migration 0008). */
export interface WebhookOutboxTable {
  id: string;
  conversation_id: string;
  type: string;
  /** The participant as JSON (`ParticipantRecord`). */
  payload: string;
  created_at: string;
}

/** The `participants` table. */
export interface ParticipantsTable {
  conversation_id: string;
  user_id: string;
  role: string;
  status: string;
  last_read_index: number;
  invited_by: string | null;
  created_at: string;
  updated_at: string;
}

/** The `messages` table; `idx` is the per-conversation index. */
export interface MessagesTable {
  conversation_id: string;
  idx: number;
  id: string;
  author_id: string;
  body: string;
  client_id: string | null;
  attributes: string;
  created_at: string;
  /** The wire `Message` as JSON text; SQLite's appends write it, older rows and PostgreSQL's have none (migration 0004). */
  message_json?: string | null;
  /** Set when the author changed the body (migration 0005). */
  edited_at?: string | null;
  /** Set when the message was removed; its body is then empty (migration 0005). */
  removed_at?: string | null;
  /** The conversation's `last_change_index` at this message's latest edit or removal (migration 0006). */
  change_index?: number | null;
}

/** The `invites` table (invite links). */
export interface InvitesTable {
  id: string;
  conversation_id: string;
  token_hash: string;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  max_uses: number | null;
  uses: number;
  revoked_at: string | null;
}

/**
 * The whole schema, for `Kysely<Database>`.
 *
 * @example
 * const db = new Kysely<Database>({ dialect });
 * await db.selectFrom('users').selectAll().execute();
 */
export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  conversations: ConversationsTable;
  /** A view (migration 0003): `conversations` with the counter and last activity read from `messages`. Read only. */
  conversation_heads: ConversationsTable;
  participants: ParticipantsTable;
  messages: MessagesTable;
  invites: InvitesTable;
  webhooks: WebhooksTable;
  webhook_cursors: WebhookCursorsTable;
  webhook_outbox: WebhookOutboxTable;
}
