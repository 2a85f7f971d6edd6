import type BetterSqlite3 from 'better-sqlite3';
import type { MessageRecord, ParticipantRecord, Storage } from '../storage.js';
import type { ParticipantsTable } from '../schema.js';
import { storedMessage, toParticipant } from '../common/rows.js';
import type { WithConnection } from './append-batcher.js';

/** The reads on every history request and every WebSocket connect, served by hand-prepared statements. */
export type SqliteReads = Pick<Storage, 'listMessages' | 'listMessagesJson' | 'getParticipant' | 'listJoinedConversationIds'>;

type PageArgs = Parameters<Storage['listMessages']>[1];
type MessageRow = [
  idx: number,
  id: string,
  authorId: string,
  body: string,
  clientId: string | null,
  attributes: string,
  createdAt: string,
  username: string,
  editedAt: string | null,
  removedAt: string | null,
  changeIndex: number | null,
];

/** The four shapes of a page query, by their parameters after the conversation id. */
interface PageParams {
  newest: [];
  before: [before: number];
  after: [after: number];
  between: [after: number, before: number];
}
type Shape = keyof PageParams;

/** What follows the conversation condition in each shape. */
const SHAPES: Record<Shape, string> = {
  newest: 'order by m.idx desc',
  before: 'and m.idx < ? order by m.idx desc',
  after: 'and m.idx > ? order by m.idx asc',
  between: 'and m.idx > ? and m.idx < ? order by m.idx asc',
};

/** The statement of one shape taking `take` rows; `T` is what one row reads as. */
type PageStatement<T> = <S extends Shape>(shape: S, take: number) => BetterSqlite3.Statement<[string, ...PageParams[S]], T>;

interface Statements {
  rows: PageStatement<MessageRow>;
  json: PageStatement<string>;
  participant: BetterSqlite3.Statement<[string, string], ParticipantsTable & { username: string }>;
  joinedConversationIds: BetterSqlite3.Statement<[string], string>;
}

const ROW_FROM = 'messages m join users u on u.id = m.author_id';
const ROW_COLUMNS = 'm.idx, m.id, m.author_id, m.body, m.client_id, m.attributes, m.created_at, u.username, m.edited_at, m.removed_at, m.change_index';
/**
 * One message as the JSON text of the wire `Message`: the text stored with it (migration 0004),
 * or, for a row written before that, rendered from the columns (keys as `presentMessage` has
 * them). COALESCE evaluates its second argument only for such a row, so the author's name is
 * looked up by a subquery there rather than joined for every row. Such a row was never edited
 * nor removed: either rewrites its stored text (migration 0005).
 */
const JSON_FROM = 'messages m';
const JSON_COLUMN = `coalesce(m.message_json, json_object('id', m.id, 'conversationId', m.conversation_id, 'index', m.idx,
  'authorId', m.author_id, 'author', (select u.username from users u where u.id = m.author_id), 'body', m.body,
  'clientId', m.client_id, 'attributes', json(m.attributes), 'createdAt', m.created_at))`;

/** Statements are kept for pages of up to this many rows (`LIMITS.pageSizeMax` plus the extra row fit). */
const LITERAL_LIMIT_MAX = 128;

/**
 * The page statements, one per shape and number of rows taken, each prepared on first use. The
 * LIMIT is written into the SQL rather than bound: SQLite's planner reads a bound LIMIT's value,
 * so it marks the statement to be prepared again whenever that parameter is bound anew, and
 * every page read paid a full parse and plan (`sqlite3Reprepare`: 8 % of a history request's
 * CPU in the benchmark; docs/performance.md). The other parameters do not do this (no
 * `sqlite_stat4`).
 */
function pageStatements<T>(
  db: BetterSqlite3.Database,
  columns: string,
  tables: string,
  read: (s: BetterSqlite3.Statement) => BetterSqlite3.Statement,
): PageStatement<T> {
  const from = `select ${columns} from ${tables} where m.conversation_id = ?`;
  const cached: Record<Shape, Map<number, BetterSqlite3.Statement>> = { newest: new Map(), before: new Map(), after: new Map(), between: new Map() };
  return <S extends Shape>(shape: S, take: number) => {
    if (!Number.isSafeInteger(take) || take < 1) throw new RangeError(`a page of ${String(take)} rows is not a whole number of rows`);
    let statement = cached[shape].get(take);
    if (statement === undefined) {
      statement = read(db.prepare(`${from} ${SHAPES[shape]} limit ${String(take)}`));
      // No caller asks for more than LIMITS.pageSizeMax + 1 rows; a larger page is prepared for its read alone.
      if (take <= LITERAL_LIMIT_MAX) cached[shape].set(take, statement);
    }
    return statement as unknown as BetterSqlite3.Statement<[string, ...PageParams[S]], T>;
  };
}

function prepare(db: BetterSqlite3.Database): Statements {
  return {
    rows: pageStatements<MessageRow>(db, ROW_COLUMNS, ROW_FROM, (s) => s.raw()),
    json: pageStatements<string>(db, JSON_COLUMN, JSON_FROM, (s) => s.pluck()),
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
 * key), but no query compilation per call and rows read as arrays. `listMessagesJson` reads
 * each message's JSON as stored with it (or has SQLite render it, for older rows), so a page
 * costs one JavaScript string per message instead of an object of nine fields that is then
 * serialised again (docs/performance.md, ADR 0011). They never see another caller's open transaction: when
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
function readPage<T>(statement: PageStatement<T>, conversationId: string, page: PageArgs): { rows: T[]; hasMore: boolean } {
  const limit = Math.max(0, Math.floor(page.limit));
  // One extra row tells whether another page exists in the paging direction.
  const take = limit + 1;
  const { before, after } = page;
  let rows: T[];
  if (after !== undefined) {
    rows = before === undefined ? statement('after', take).all(conversationId, after) : statement('between', take).all(conversationId, after, before);
  } else {
    rows = before === undefined ? statement('newest', take).all(conversationId) : statement('before', take).all(conversationId, before);
  }
  const hasMore = rows.length > limit;
  if (hasMore) rows.length = limit;
  if (after === undefined) rows.reverse();
  return { rows, hasMore };
}

function toMessage(conversationId: string, row: MessageRow): MessageRecord {
  const [index, id, authorId, body, clientId, attributes, createdAt, author, editedAt, removedAt, changeIndex] = row;
  return storedMessage(conversationId, { id, index, authorId, author, body, clientId, attributes, createdAt, editedAt, removedAt, changeIndex });
}
