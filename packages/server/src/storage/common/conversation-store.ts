import type { ExpressionBuilder, Kysely } from 'kysely';
import { UniqueViolation, type ConversationCursor, type ConversationListItem, type ConversationRecord, type NewParticipant, type Storage } from '../storage.js';
import type { ConversationsTable, Database } from '../schema.js';
import { participantQuery } from './participant-store.js';
import { iso, toConversation, toMessage, toNumber, toParticipant } from './rows.js';
import { recordMembership } from './webhook-store.js';

/** The conversation methods of `Storage`. */
export type ConversationStore = Pick<
  Storage,
  | 'createConversation'
  | 'getConversation'
  | 'findConversationByUniqueName'
  | 'updateConversation'
  | 'deleteConversation'
  | 'listConversationsForUser'
  | 'getConversationForUser'
  | 'listJoinedConversationIds'
>;

/**
 * Conversations over Kysely, identical in both databases.
 *
 * @example
 * const conversations = conversationStore(db);
 * await conversations.getConversation('CH1');
 */
export function conversationStore(db: Kysely<Database>, isUniqueViolation: (error: unknown) => boolean): ConversationStore {
  /** A unique-name clash as `UniqueViolation`, anything else as it was. */
  const uniqueName = <T>(work: Promise<T>): Promise<T> =>
    work.catch((error: unknown) => {
      throw isUniqueViolation(error) ? new UniqueViolation('uniqueName') : error;
    });
  return {
    createConversation: (conversation, participants, apiKeyId) => uniqueName(createConversation(db, conversation, participants, apiKeyId)),
    async findConversationByUniqueName(name, apiKeyId) {
      const row = await db
        .selectFrom('conversations')
        .select('id')
        .where('unique_name', '=', name)
        .where((eb) => (apiKeyId === null ? eb('api_key_id', 'is', null) : eb('api_key_id', '=', apiKeyId)))
        .executeTakeFirst();
      return row?.id;
    },
    async getConversation(id) {
      const row = await db.selectFrom('conversation_heads').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toConversation(row);
    },
    async updateConversation(id, patch) {
      const set: Partial<ConversationsTable> = { updated_at: iso(patch.updatedAt) };
      if (patch.title !== undefined) set.title = patch.title;
      if (patch.subject !== undefined) set.subject = patch.subject;
      if (patch.attributes !== undefined) set.attributes = JSON.stringify(patch.attributes);
      if (patch.invitePolicy !== undefined) set.invite_policy = patch.invitePolicy;
      if (patch.uniqueName !== undefined) set.unique_name = patch.uniqueName;
      const updated = await uniqueName(db.updateTable('conversations').set(set).where('id', '=', id).executeTakeFirst());
      if (Number(updated.numUpdatedRows) === 0) return undefined;
      // Not `returning`: the stored counter lags behind the messages (SQLite's appends leave it).
      const row = await db.selectFrom('conversation_heads').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toConversation(row);
    },
    async deleteConversation(id) {
      // Explicit deletes rather than relying on ON DELETE CASCADE: SQLite only honours it
      // when foreign keys are switched on for the connection.
      return db.transaction().execute(async (trx) => {
        await trx.deleteFrom('messages').where('conversation_id', '=', id).execute();
        await trx.deleteFrom('participants').where('conversation_id', '=', id).execute();
        await trx.deleteFrom('invites').where('conversation_id', '=', id).execute();
        await trx.deleteFrom('webhook_outbox').where('conversation_id', '=', id).execute();
        await trx.deleteFrom('webhook_cursors').where('conversation_id', '=', id).execute();
        const result = await trx.deleteFrom('conversations').where('id', '=', id).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      });
    },
    listConversationsForUser: (userId, page) => listForUser(db, userId, page),
    async getConversationForUser(conversationId, userId) {
      const row = await summaryQuery(db)
        .where('p.conversation_id', '=', conversationId)
        .where('p.user_id', '=', userId)
        .where('p.status', '=', 'joined')
        .executeTakeFirst();
      return row && toListItem(row);
    },
    async listJoinedConversationIds(userId) {
      const rows = await db
        .selectFrom('participants')
        .select('conversation_id')
        .where('user_id', '=', userId)
        .where('status', '=', 'joined')
        .execute();
      return rows.map((r) => r.conversation_id);
    },
  };
}

async function createConversation(
  db: Kysely<Database>,
  conversation: ConversationRecord,
  participants: NewParticipant[],
  apiKeyId: string | undefined,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('conversations').values({ ...toRow(conversation), api_key_id: apiKeyId ?? null }).execute();
    // Created through a key with a webhook: hooked from its first event.
    const webhook =
      apiKeyId === undefined ? undefined : await trx.selectFrom('webhooks').select('api_key_id').where('api_key_id', '=', apiKeyId).executeTakeFirst();
    if (webhook !== undefined) {
      await trx
        .insertInto('webhook_cursors')
        .values({ conversation_id: conversation.id, api_key_id: webhook.api_key_id, message_index: 0, change_index: 0, attempts: 0 })
        .execute();
    }
    if (participants.length === 0) return;
    const at = iso(conversation.createdAt);
    await trx
      .insertInto('participants')
      .values(
        participants.map((p) => ({
          conversation_id: conversation.id,
          user_id: p.userId,
          role: p.role,
          status: p.status,
          last_read_index: 0,
          invited_by: p.invitedBy,
          created_at: at,
          updated_at: at,
        })),
      )
      .execute();
    if (webhook !== undefined) {
      const rows = await participantQuery(trx).where('p.conversation_id', '=', conversation.id).orderBy('p.user_id').execute();
      await recordMembership(trx, conversation.id, rows.map(toParticipant));
    }
  });
}

async function listForUser(
  db: Kysely<Database>,
  userId: string,
  page: { limit: number; cursor?: ConversationCursor },
): Promise<{ items: ConversationListItem[]; total: number }> {
  let query = summaryQuery(db).where('p.user_id', '=', userId).where('p.status', '=', 'joined');
  if (page.cursor !== undefined) query = query.where(afterCursor(page.cursor));
  const [rows, count] = await Promise.all([
    query.orderBy('c.last_activity_at', 'desc').orderBy('c.id', 'desc').limit(page.limit).execute(),
    db
      .selectFrom('participants')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('user_id', '=', userId)
      .where('status', '=', 'joined')
      .executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toListItem), total: toNumber(count.n as string | number) };
}

function toRow(c: ConversationRecord): ConversationsTable {
  return {
    id: c.id,
    title: c.title,
    subject: c.subject,
    attributes: JSON.stringify(c.attributes),
    invite_policy: c.invitePolicy,
    created_by: c.createdBy,
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
    last_activity_at: iso(c.lastActivityAt),
    last_message_index: c.lastMessageIndex,
    last_change_index: c.lastChangeIndex,
    unique_name: c.uniqueName,
  };
}

type Sources = {
  p: Database['participants'];
  c: Database['conversation_heads'];
};

/** Keyset condition: strictly after the cursor in (last_activity_at desc, id desc) order. */
function afterCursor(cursor: ConversationCursor) {
  const at = iso(cursor.lastActivityAt);
  return (eb: ExpressionBuilder<Sources, 'p' | 'c'>) =>
    eb.or([eb('c.last_activity_at', '<', at), eb.and([eb('c.last_activity_at', '=', at), eb('c.id', '<', cursor.id)])]);
}

/** One row per participant: the conversation, the participant and the newest message. */
function summaryQuery(db: Kysely<Database>) {
  return db
    .selectFrom('participants as p')
    .innerJoin('conversation_heads as c', 'c.id', 'p.conversation_id')
    .innerJoin('users as pu', 'pu.id', 'p.user_id')
    .leftJoin('messages as m', (join) =>
      join.onRef('m.conversation_id', '=', 'c.id').onRef('m.idx', '=', 'c.last_message_index'),
    )
    .leftJoin('users as mu', 'mu.id', 'm.author_id')
    .selectAll('c')
    .select([
      'p.role as p_role',
      'p.status as p_status',
      'p.user_id as p_user_id',
      'p.last_read_index as p_last_read_index',
      'p.invited_by as p_invited_by',
      'p.created_at as p_created_at',
      'p.updated_at as p_updated_at',
      'pu.username as p_username',
      'm.idx as m_idx',
      'm.id as m_id',
      'm.author_id as m_author_id',
      'm.body as m_body',
      'm.client_id as m_client_id',
      'm.attributes as m_attributes',
      'm.created_at as m_created_at',
      'm.edited_at as m_edited_at',
      'm.removed_at as m_removed_at',
      'm.change_index as m_change_index',
      'mu.username as m_username',
    ]);
}

type SummaryRow = Awaited<ReturnType<ReturnType<typeof summaryQuery>['executeTakeFirstOrThrow']>>;

function toListItem(r: SummaryRow): ConversationListItem {
  const conversation = toConversation(r);
  const participant = toParticipant({
    conversation_id: r.id,
    user_id: r.p_user_id,
    username: r.p_username,
    role: r.p_role,
    status: r.p_status,
    last_read_index: r.p_last_read_index,
    invited_by: r.p_invited_by,
    created_at: r.p_created_at,
    updated_at: r.p_updated_at,
  });
  const lastMessage =
    r.m_id === null || r.m_idx === null
      ? null
      : toMessage({
          conversation_id: r.id,
          idx: r.m_idx,
          id: r.m_id,
          author_id: r.m_author_id ?? '',
          username: r.m_username ?? '',
          body: r.m_body ?? '',
          client_id: r.m_client_id,
          attributes: r.m_attributes ?? '{}',
          created_at: r.m_created_at ?? '',
          edited_at: r.m_edited_at,
          removed_at: r.m_removed_at,
          change_index: r.m_change_index,
        });
  return { conversation, participant, lastMessage };
}
