import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

/*
 * Every schema change, in order. Names sort lexicographically (Kysely's rule), so they carry a
 * zero-padded number. Only portable column types are used ('text', 'integer') so one list
 * serves SQLite and PostgreSQL; timestamps are ISO text (see schema.ts for why).
 */

const initial: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('username', 'text', (c) => c.notNull().unique())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();

    await db.schema
      .createTable('api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .execute();

    await createConversationTables(db);
  },
  async down(db: Kysely<any>): Promise<void> {
    for (const table of ['invites', 'messages', 'participants', 'conversations', 'api_keys', 'sessions', 'users']) {
      await db.schema.dropTable(table).ifExists().execute();
    }
  },
};

async function createConversationTables(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('conversations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('attributes', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('invite_policy', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('last_activity_at', 'text', (c) => c.notNull())
    .addColumn('last_message_index', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('participants')
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('last_read_index', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('invited_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('participants_pk', ['conversation_id', 'user_id'])
    .execute();
  // The conversation list and pending invitations start from one user's rows.
  await db.schema.createIndex('participants_user_status').on('participants').columns(['user_id', 'status']).execute();

  await db.schema
    .createTable('messages')
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('author_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text')
    .addColumn('attributes', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    // History pages are range scans of this key, whatever the conversation's size.
    .addPrimaryKeyConstraint('messages_pk', ['conversation_id', 'idx'])
    .execute();
  // NULL client ids are distinct in both databases, so only real retries collide.
  await createClientIdIndex(db, 'messages_client_id', ['conversation_id', 'author_id', 'client_id']);

  await db.schema
    .createTable('invites')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text')
    .addColumn('max_uses', 'integer')
    .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('invites_conversation').on('invites').column('conversation_id').execute();
}

/** The unique index on messages' (client_id, conversation_id, author_id), from 0002 on. */
export const CLIENT_ID_INDEX = 'messages_client_id_first';

/**
 * The idempotency index keyed by client id first: (client_id, conversation_id, author_id)
 * instead of (conversation_id, author_id, client_id). The same uniqueness and the same
 * equality lookups, but client ids made in time order (the SDK's UUIDv7, counters) are then
 * inserted at the index's right edge, where a batch's entries share the last leaf; keyed by
 * conversation first, every message dirtied its own conversation's leaf (ADR 0006). Built
 * before the old one is dropped, so uniqueness holds throughout.
 */
const clientIdFirst: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await createClientIdIndex(db, CLIENT_ID_INDEX, ['client_id', 'conversation_id', 'author_id']);
    await db.schema.dropIndex('messages_client_id').execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await createClientIdIndex(db, 'messages_client_id', ['conversation_id', 'author_id', 'client_id']);
    await db.schema.dropIndex(CLIENT_ID_INDEX).execute();
  },
};

/** The unique idempotency index on messages' client id, author and conversation, in `columns` order. */
async function createClientIdIndex(db: Kysely<any>, name: string, columns: string[]): Promise<void> {
  await db.schema.createIndex(name).unique().on('messages').columns(columns).execute();
}

/**
 * `conversation_heads`: each conversation with its newest message's index and time read from
 * `messages` (one primary-key seek each), falling back to the stored columns when it has no
 * message. Reads of a conversation's counter and last activity go through it, so a database
 * need not rewrite the conversation's row on every commit: SQLite's appends no longer do (a
 * page of `conversations` per conversation per batch was about 40 % of what a commit wrote
 * across many small groups), PostgreSQL's still do, because the row lock and its counter are
 * how its concurrent appends agree on the next index (ADR 0008). The same SQL in both.
 */
const conversationHeads: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await headsView([]).execute(db);
  },
  async down(db: Kysely<any>): Promise<void> {
    // The stored columns become the truth again: bring SQLite's up to date first.
    await sql`update conversations set
      last_message_index = (select h.last_message_index from conversation_heads h where h.id = conversations.id),
      last_activity_at = (select h.last_activity_at from conversation_heads h where h.id = conversations.id)`.execute(db);
    await db.schema.dropView('conversation_heads').execute();
  },
};

/**
 * `messages.message_json`: each message's wire `Message` as JSON text, written with the message
 * by SQLite's appends, so that a history page reads one stored string per message instead of
 * rendering nine fields and joining the author's name (`json_object` was about half of a page's
 * SQLite time; ADR 0011). Nullable: rows written before this migration, and every row written by
 * PostgreSQL (whose history path builds its JSON from the columns), have none, and readers fall
 * back to the columns. An edit or a removal rewrites it (0005).
 */
const messageJson: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('messages').addColumn('message_json', 'text').execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('messages').dropColumn('message_json').execute();
  },
};

/**
 * `messages.edited_at` and `messages.removed_at`: an author may change a message's body, and
 * its author or an admin may remove it. A removed message stays as a row with an empty body, so
 * that its index is never given to another message (SQLite's appends take the next index from
 * `max(idx)`) and history stays gapless. Both stay null until that happens; SQLite rewrites
 * `message_json` with the change.
 */
const messageEdits: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('messages').addColumn('edited_at', 'text').execute();
    await db.schema.alterTable('messages').addColumn('removed_at', 'text').execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('messages').dropColumn('removed_at').execute();
    await db.schema.alterTable('messages').dropColumn('edited_at').execute();
  },
};

/** `conversation_heads` as of 0003, with the stored columns added since (0006, 0007) named in `extra`. */
function headsView(extra: ('last_change_index' | 'unique_name')[]) {
  const changes = sql.raw(extra.map((column) => `, c.${column}`).join(''));
  return sql`create view conversation_heads as
      select c.id, c.title, c.subject, c.attributes, c.invite_policy, c.created_by, c.created_at, c.updated_at,
        coalesce((select m.created_at from messages m where m.conversation_id = c.id order by m.idx desc limit 1),
          c.last_activity_at) as last_activity_at,
        coalesce((select max(m.idx) from messages m where m.conversation_id = c.id),
          c.last_message_index) as last_message_index${changes}
      from conversations c`;
}

/** Rewrites the stored wire JSON (SQLite only stores it) of every message with a change index. */
async function rewriteChangedJson(
  db: Kysely<any>,
  rewrite: (message: Record<string, unknown>, changeIndex: number) => Record<string, unknown>,
): Promise<void> {
  const rows = (await db
    .selectFrom('messages')
    .select(['conversation_id', 'id', 'message_json', 'change_index'])
    .where('message_json', 'is not', null)
    .where('change_index', 'is not', null)
    .execute()) as { conversation_id: string; id: string; message_json: string; change_index: number }[];
  for (const row of rows) {
    const message = rewrite(JSON.parse(row.message_json) as Record<string, unknown>, Number(row.change_index));
    await db
      .updateTable('messages')
      .set({ message_json: JSON.stringify(message) })
      .where('conversation_id', '=', row.conversation_id)
      .where('id', '=', row.id)
      .execute();
  }
}

/**
 * A change counter per conversation, so that a client coming back can ask for the edits and
 * removals it missed (`resume` with `changes`): each edit or removal takes the conversation's
 * next `last_change_index`, and the message keeps it in `change_index`. Bumping the
 * conversation's row also orders concurrent changes on PostgreSQL (its row lock), as it does
 * appends. A partial index holds only changed messages, so appends write nothing more. Messages
 * changed before this migration are numbered in the order of their change.
 */
const changeIndex: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('conversations').addColumn('last_change_index', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('messages').addColumn('change_index', 'integer').execute();
    await sql`create index messages_changes on messages (conversation_id, change_index) where change_index is not null`.execute(db);
    // Row values compare both databases alike: by the time of the latest change, then by index.
    await sql`update messages set change_index = (
        select count(*) from messages o
        where o.conversation_id = messages.conversation_id
          and (o.edited_at is not null or o.removed_at is not null)
          and (coalesce(o.removed_at, o.edited_at), o.idx) <= (coalesce(messages.removed_at, messages.edited_at), messages.idx))
      where edited_at is not null or removed_at is not null`.execute(db);
    await sql`update conversations set last_change_index = coalesce(
        (select max(m.change_index) from messages m where m.conversation_id = conversations.id), 0)`.execute(db);
    // The wire JSON SQLite stored with those messages gains the key (PostgreSQL stores none).
    await rewriteChangedJson(db, (message, changeIndex) => ({ ...message, changeIndex }));
    await db.schema.dropView('conversation_heads').execute();
    await headsView(['last_change_index']).execute(db);
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropView('conversation_heads').execute();
    await headsView([]).execute(db);
    await rewriteChangedJson(db, ({ changeIndex: _dropped, ...message }) => message);
    await db.schema.dropIndex('messages_changes').execute();
    await db.schema.alterTable('messages').dropColumn('change_index').execute();
    await db.schema.alterTable('conversations').dropColumn('last_change_index').execute();
  },
};

/**
 * `conversations.unique_name`: an optional name an integrator gives a conversation, unique
 * across conversations (Twilio's `unique_name`, SPEC 2.8; per API key since 0008), so that `/v1` can name a
 * conversation by it. Null for every conversation until given; a unique index allows many nulls
 * on both databases.
 */
const uniqueName: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('conversations').addColumn('unique_name', 'text').execute();
    await db.schema.createIndex('conversations_unique_name').unique().on('conversations').column('unique_name').execute();
    await db.schema.dropView('conversation_heads').execute();
    await headsView(['last_change_index', 'unique_name']).execute(db);
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropView('conversation_heads').execute();
    await headsView(['last_change_index']).execute(db);
    await db.schema.dropIndex('conversations_unique_name').execute();
    await db.schema.alterTable('conversations').dropColumn('unique_name').execute();
  },
};

/**
 * Webhooks (SPEC 2.8, ADR 0016). `conversations.api_key_id` names the key a conversation was
 * created through (null for the others), whose webhook hears its events, and within which its
 * unique name is unique. One webhook per key.
 * A conversation is hooked while it has a `webhook_cursors` row: how far its messages
 * (`message_index`) and their edits and removals (`change_index`) have been delivered, plus
 * the delivery's lease and back-off. Membership changes, which leave no trail of their own,
 * are written to `webhook_outbox` in the transaction that makes them, and only for hooked
 * conversations; a row goes once its delivery succeeded.
 */
const webhooks: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('conversations').addColumn('api_key_id', 'text').execute();
    // Conversations `/v1` created before: their creator is the key's service user, whose name
    // is `api.` and the key id, lowercased and cut to 32 characters.
    await sql`update conversations set api_key_id = (
        select k.id from api_keys k join users u on u.username = substr('api.' || lower(k.id), 1, 32)
        where u.id = conversations.created_by)
      where api_key_id is null`.execute(db);
    await db.schema.createIndex('conversations_api_key').on('conversations').column('api_key_id').execute();
    // Unique names are the key's own (Twilio's are a service's): one site cannot take, or learn
    // of, another's by a clash. Conversations created without a key share one namespace.
    await db.schema.dropIndex('conversations_unique_name').execute();
    await sql`create unique index conversations_unique_name on conversations ((coalesce(api_key_id, '')), unique_name)`.execute(db);
    await db.schema
      .createTable('webhooks')
      .addColumn('api_key_id', 'text', (c) => c.primaryKey())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('webhook_cursors')
      .addColumn('conversation_id', 'text', (c) => c.primaryKey())
      .addColumn('api_key_id', 'text', (c) => c.notNull())
      .addColumn('message_index', 'integer', (c) => c.notNull())
      .addColumn('change_index', 'integer', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'text')
      .addColumn('last_error', 'text')
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'text')
      .execute();
    await db.schema.createIndex('webhook_cursors_api_key').on('webhook_cursors').column('api_key_id').execute();
    await db.schema
      .createTable('webhook_outbox')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhook_outbox_conversation').on('webhook_outbox').columns(['conversation_id', 'id']).execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('webhook_outbox').execute();
    await db.schema.dropTable('webhook_cursors').execute();
    await db.schema.dropTable('webhooks').execute();
    await db.schema.dropIndex('conversations_unique_name').execute();
    await db.schema.createIndex('conversations_unique_name').unique().on('conversations').column('unique_name').execute();
    await db.schema.dropIndex('conversations_api_key').execute();
    await db.schema.alterTable('conversations').dropColumn('api_key_id').execute();
  },
};

/** The ordered list of migrations; append, never edit a released one. */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_client_id_first': clientIdFirst,
  '0003_conversation_heads': conversationHeads,
  '0004_message_json': messageJson,
  '0005_message_edits': messageEdits,
  '0006_change_index': changeIndex,
  '0007_unique_name': uniqueName,
  '0008_webhooks': webhooks,
};

const provider: MigrationProvider = {
  getMigrations: async () => migrations,
};

/**
 * Brings the schema up to date, or up to the migration named `upTo` (tests of an upgrade);
 * safe to call on every start and from several processes (Kysely's migrator takes a lock).
 *
 * @example
 * await runMigrations(db, 'parley_test_1');
 */
export async function runMigrations(db: Kysely<any>, migrationTableSchema?: string, upTo?: string): Promise<void> {
  const migrator = new Migrator({
    db,
    provider,
    ...(migrationTableSchema === undefined ? {} : { migrationTableSchema }),
  });
  const { error, results } = await (upTo === undefined ? migrator.migrateToLatest() : migrator.migrateTo(upTo));
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${String(error)}`, { cause: error });
  }
}
