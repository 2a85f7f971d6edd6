import type BetterSqlite3 from 'better-sqlite3';
import type { MessageRecord, ParticipantRecord, Storage } from '../storage.js';
import type { ParticipantsTable } from '../schema.js';
import { parseAttributes, toParticipant } from '../common/rows.js';
import type { WithConnection } from './append-batcher.js';

/** The reads on every history request and every WebSocket connect, served by hand-prepared statements. */
export type SqliteReads = Pick<Storage, 'listMessages' | 'listMessagesJson' | 'getParticipant' | 'listJoinedConversationIds'>;

type PageArgs = Parameters<Storage['listMessages']>[1];
type MessageRow = [idx: number, id: string, authorId: string, body: string, clientId: string | null, attributes: string, createdAt: string, username: string];

/** The four shapes of a page query, for one page size; `T` is what one row reads as. */
interface PageStatements<T> {
  newest: BetterSqlite3.Statement<[string], T>;
  before: BetterSqlite3.Statement<[string, number], T>;
  after: BetterSqlite3.Statement<[string, number], T>;
  between: BetterSqlite3.Statement<[string, number, number], T>;
}

/** The page statements for a number of rows to take. */
type PagesByTake<T> = (take: number) => PageStatements<T>;

interface Statements {
  rows: PagesByTake<MessageRow>;
  json: PagesByTake<string>;
  participant: BetterSqlite3.Statement<[string, string], ParticipantsTable & { username: string }>;
  joinedConversationIds: BetterSqlite3.Statement<[string], string>;
}

const ROW_COLUMNS = 'm.idx, m.id, m.author_id, m.body, m.client_id, m.attributes, m.created_at, u.username';
/** One message as the JSON text of the wire `Message` (keys as `presentMessage` has them). */
const JSON_COLUMN = `json_object('id', m.id, 'conversationId', m.conversation_id, 'index', m.idx, 'authorId', m.author_id,
  'author', u.username, 'body', m.body, 'clientId', m.client_id, 'attributes', json(m.attributes), 'createdAt', m.created_at)`;

/** Statements are kept for pages of up to this many rows (`LIMITS.pageSizeMax` plus the extra row fit). */
const LITERAL_LIMIT_MAX = 128;

/**
 * The page statements, one set per number of rows taken, prepared on first use. The LIMIT is
 * written into the SQL rather than bound: SQLite's planner reads a bound LIMIT's value, so it
 * marks the statement to be prepared again whenever that parameter is bound anew, and every
 * page read paid a full parse and plan (`sqlite3Reprepare`: 8 % of a history request's CPU in
 * the benchmark; docs/performance.md). The other parameters do not do this (no `sqlite_stat4`).
 */
function pagesByTake<T>(db: BetterSqlite3.Database, columns: string, read: (s: BetterSqlite3.Statement) => BetterSqlite3.Statement): PagesByTake<T> {
  const from = `select ${columns} from messages m join users u on u.id = m.author_id where m.conversation_id = ?`;
  const prepare = <P extends unknown[]>(sql: string) => read(db.prepare(sql)) as unknown as BetterSqlite3.Statement<P, T>;
  const pages = (limit: string): PageStatements<T> => ({
    newest: prepare(`${from} order by m.idx desc limit ${limit}`),
    before: prepare(`${from} and m.idx < ? order by m.idx desc limit ${limit}`),
    after: prepare(`${from} and m.idx > ? order by m.idx asc limit ${limit}`),
    between: prepare(`${from} and m.idx > ? and m.idx < ? order by m.idx asc limit ${limit}`),
  });
  const cached = new Map<number, PageStatements<T>>();
  return (take) => {
    if (!Number.isSafeInteger(take) || take < 1) throw new RangeError(`a page of ${String(take)} rows is not a whole number of rows`);
    // No caller asks for more than LIMITS.pageSizeMax + 1 rows; a larger page is prepared for its read alone.
    if (take > LITERAL_LIMIT_MAX) return pages(String(take));
    let statements = cached.get(take);
    if (statements === undefined) cached.set(take, (statements = pages(String(take))));
    return statements;
  };
}

function prepare(db: BetterSqlite3.Database): Statements {
  return {
    rows: pagesByTake<MessageRow>(db, ROW_COLUMNS, (s) => s.raw()),
    json: pagesByTake<string>(db, JSON_COLUMN, (s) => s.pluck()),
    participant: db.prepare(
      `select p.conversation_id, p.user_id, p.role, p.status, p.last_read_index, p.invited_by, p.created_at, p.updated_at, u.username
       from participants p join users u on u.id = p.user_id where p.conversation_id = ? and p.user_id = ?`,
    ),
    joinedConversationIds: db
      .prepare<[string], string>(`select conversation_id from participants where user_id = ? and status = 'joined'`)
      .pluck(),
  };
}

/**
 * `listMessages`, `listMessagesJson`, `getParticipant` and `listJoinedConversationIds` (every
 * WebSocket connect) without Kysely: the same SQL and
 * results as the shared queries (both are single seeks of a primary key, then users by primary
 * key), but no query compilation per call and rows read as arrays. `listMessagesJson` has
 * SQLite write each message's JSON (`json_object`), so a page costs one JavaScript string per
 * message instead of an object of nine fields that is then serialised again (about a third of
 * the page's cost; docs/performance.md). They never see another caller's open transaction: when
 * one is open on the handle (a Kysely transaction awaiting between statements) they wait for the
 * connection through `withConnection`; otherwise they run at once, since a synchronous read
 * cannot interleave with anything, and skip the connection's queue.
 *
 * @example
 * const reads = sqliteReads(sqlite, withConnection);
 * const page = await reads.listMessages('CH1', { before: 500, limit: 50 });
 */
export function sqliteReads(sqlite: BetterSqlite3.Database, withConnection: WithConnection): SqliteReads {
  // Prepared on first use: the tables exist only after `migrate()`.
  let statements: Statements | undefined;
  const s = (): Statements => (statements ??= prepare(sqlite));
  const read = <T>(fn: () => T): Promise<T> => {
    if (sqlite.inTransaction) return withConnection(fn);
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error as Error);
    }
  };
  return {
    listMessages: (conversationId, page) =>
      read(() => {
        const { rows, hasMore } = readPage(s().rows, conversationId, page);
        return { messages: rows.map((row) => toMessage(conversationId, row)), hasMore };
      }),
    listMessagesJson: (conversationId, page) =>
      read(() => {
        const { rows, hasMore } = readPage(s().json, conversationId, page);
        return { messagesJson: `[${rows.join(',')}]`, hasMore };
      }),
    getParticipant: (conversationId, userId) =>
      read((): ParticipantRecord | undefined => {
        const row = s().participant.get(conversationId, userId);
        return row && toParticipant(row);
      }),
    listJoinedConversationIds: (userId) => read(() => s().joinedConversationIds.all(userId)),
  };
}

/** A page's rows, oldest first, and whether another page exists in the paging direction. */
function readPage<T>(pages: PagesByTake<T>, conversationId: string, page: PageArgs): { rows: T[]; hasMore: boolean } {
  const limit = Math.max(0, Math.floor(page.limit));
  // One extra row tells whether another page exists in the paging direction.
  const s = pages(limit + 1);
  const { before, after } = page;
  let rows: T[];
  if (after !== undefined) rows = before === undefined ? s.after.all(conversationId, after) : s.between.all(conversationId, after, before);
  else rows = before === undefined ? s.newest.all(conversationId) : s.before.all(conversationId, before);
  const hasMore = rows.length > limit;
  if (hasMore) rows.length = limit;
  if (after === undefined) rows.reverse();
  return { rows, hasMore };
}

function toMessage(conversationId: string, row: MessageRow): MessageRecord {
  const [index, id, authorId, body, clientId, attributes, createdAt, author] = row;
  return { id, conversationId, index, authorId, author, body, clientId, attributes: parseAttributes(attributes), createdAt };
}
