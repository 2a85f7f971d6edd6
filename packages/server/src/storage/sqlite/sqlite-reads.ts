import type BetterSqlite3 from 'better-sqlite3';
import type { MessageRecord, ParticipantRecord, Storage } from '../storage.js';
import type { ParticipantsTable } from '../schema.js';
import { parseAttributes, toParticipant } from '../common/rows.js';
import type { WithConnection } from './append-batcher.js';

/** The reads on every history request, served by hand-prepared statements. */
export type SqliteReads = Pick<Storage, 'listMessages' | 'getParticipant'>;

type MessageRow = [idx: number, id: string, authorId: string, body: string, clientId: string | null, attributes: string, createdAt: string, username: string];

interface Statements {
  newest: BetterSqlite3.Statement<[string, number], MessageRow>;
  before: BetterSqlite3.Statement<[string, number, number], MessageRow>;
  after: BetterSqlite3.Statement<[string, number, number], MessageRow>;
  between: BetterSqlite3.Statement<[string, number, number, number], MessageRow>;
  participant: BetterSqlite3.Statement<[string, string], ParticipantsTable & { username: string }>;
}

const PAGE_COLUMNS = `select m.idx, m.id, m.author_id, m.body, m.client_id, m.attributes, m.created_at, u.username
  from messages m join users u on u.id = m.author_id where m.conversation_id = ?`;

function prepare(db: BetterSqlite3.Database): Statements {
  return {
    newest: db.prepare<[string, number], MessageRow>(`${PAGE_COLUMNS} order by m.idx desc limit ?`).raw(),
    before: db.prepare<[string, number, number], MessageRow>(`${PAGE_COLUMNS} and m.idx < ? order by m.idx desc limit ?`).raw(),
    after: db.prepare<[string, number, number], MessageRow>(`${PAGE_COLUMNS} and m.idx > ? order by m.idx asc limit ?`).raw(),
    between: db
      .prepare<[string, number, number, number], MessageRow>(`${PAGE_COLUMNS} and m.idx > ? and m.idx < ? order by m.idx asc limit ?`)
      .raw(),
    participant: db.prepare(
      `select p.conversation_id, p.user_id, p.role, p.status, p.last_read_index, p.invited_by, p.created_at, p.updated_at, u.username
       from participants p join users u on u.id = p.user_id where p.conversation_id = ? and p.user_id = ?`,
    ),
  };
}

/**
 * `listMessages` and `getParticipant` without Kysely: the same SQL and results as the shared
 * queries (both are single seeks of a primary key, then users by primary key), but no query
 * compilation per call and rows read as arrays, which halves the page's row-building cost.
 * They run under `withConnection`, so they never see another caller's open transaction.
 *
 * @example
 * const reads = sqliteReads(sqlite, withConnection);
 * const page = await reads.listMessages('CH1', { before: 500, limit: 50 });
 */
export function sqliteReads(sqlite: BetterSqlite3.Database, withConnection: WithConnection): SqliteReads {
  // Prepared on first use: the tables exist only after `migrate()`.
  let statements: Statements | undefined;
  const s = (): Statements => (statements ??= prepare(sqlite));
  return {
    listMessages: (conversationId, page) => withConnection(() => messagePage(s(), conversationId, page)),
    getParticipant: (conversationId, userId) =>
      withConnection((): ParticipantRecord | undefined => {
        const row = s().participant.get(conversationId, userId);
        return row && toParticipant(row);
      }),
  };
}

function messagePage(
  s: Statements,
  conversationId: string,
  page: Parameters<Storage['listMessages']>[1],
): { messages: MessageRecord[]; hasMore: boolean } {
  const limit = Math.max(0, Math.floor(page.limit));
  // One extra row tells whether another page exists in the paging direction.
  const take = limit + 1;
  const { before, after } = page;
  let rows: MessageRow[];
  if (after !== undefined) rows = before === undefined ? s.after.all(conversationId, after, take) : s.between.all(conversationId, after, before, take);
  else rows = before === undefined ? s.newest.all(conversationId, take) : s.before.all(conversationId, before, take);
  const hasMore = rows.length > limit;
  if (hasMore) rows.length = limit;
  if (after === undefined) rows.reverse();
  return { messages: rows.map((row) => toMessage(conversationId, row)), hasMore };
}

function toMessage(conversationId: string, row: MessageRow): MessageRecord {
  const [index, id, authorId, body, clientId, attributes, createdAt, author] = row;
  return { id, conversationId, index, authorId, author, body, clientId, attributes: parseAttributes(attributes), createdAt };
}
