import pg from 'pg';
import type { AppendResult, MessageRecord, NewMessage } from '../storage.js';
import type { MessagesTable } from '../schema.js';
import { appendedMessage, iso, toMessage } from '../common/rows.js';

/*
 * Several appends in ONE transaction and three round trips, whatever the batch size:
 *
 *   1. one simple-protocol query of three statements: BEGIN; lock every conversation of the
 *      batch in id order (LockRows sits above the Sort, so rows are locked in that order and two
 *      processes locking overlapping sets cannot deadlock); then read each item's membership and
 *      any message already stored under its client id. In READ COMMITTED each statement of the
 *      string takes its own snapshot, so that read runs under the locks and sees every commit
 *      made before they were granted;
 *   2. bump each conversation once by its number of accepted items and insert all of them;
 *   3. COMMIT.
 *
 * The lock returns the latest committed `last_message_index`, and nobody else can change it
 * until we commit, so the indexes computed here are gapless and strictly increasing across
 * processes. Any failure aborts the whole transaction: nothing of it is acknowledged.
 *
 * The simple protocol takes no parameters, so step 1 inlines its ids as array literals quoted
 * by `pg.escapeLiteral`; message bodies only ever travel as parameters (step 2).
 */

const lockSql = (ids: string): string => `
select id, last_message_index from conversations
 where id = any(${ids})
 order by id
   for update`;

// One row per item (ord is 1-based). LATERAL with LIMIT (which keeps the planner from flattening
// it) makes each item two index probes (participants' key, the client id index), where a join
// would hash the whole messages table. A removed or invited author has no joined row, so it
// gets no duplicate echo.
const checkSql = (conv: string, author: string, client: string): string => `
select i.ord, p.username, m.*, m.idx as existing_idx
  from unnest(${conv}, ${author}, ${client}) with ordinality as i(conv, author, client, ord)
  left join lateral (
    select u.username from participants p join users u on u.id = p.user_id
     where p.conversation_id = i.conv and p.user_id = i.author and p.status = 'joined' limit 1
  ) p on true
  left join lateral (
    select * from messages m
     where m.conversation_id = i.conv and m.author_id = i.author and m.client_id = i.client limit 1
  ) m on true`;

// An unreferenced data-modifying CTE still runs: one statement, one round trip, for both.
const WRITE = `
with bump as (
  update conversations c set last_message_index = b.last, last_activity_at = b.at
    from unnest($1::text[], $2::int[], $3::text[]) as b(id, last, at)
   where c.id = b.id
)
insert into messages (conversation_id, idx, id, author_id, body, client_id, attributes, created_at)
select * from unnest($4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])`;

type CheckRow = Partial<MessagesTable> & { ord: string; username: string | null; existing_idx: number | null };

/** Per item: its result, or where to copy it from (a retry of an earlier item of the batch). */
type Decision = AppendResult | { kind: 'same_as'; item: number };

/**
 * Appends `messages` (two or more, in call order) in one transaction on `client`, and returns
 * one result per message, in the same order. Throws if anything fails: then the transaction is
 * rolled back and no message was stored.
 *
 * @example
 * const client = await pool.connect();
 * const results = await appendBatchPg(client, [m1, m2, m3]);
 */
export async function appendBatchPg(client: pg.ClientBase, messages: readonly NewMessage[]): Promise<AppendResult[]> {
  try {
    const results = await appendInTransaction(client, messages);
    await client.query('commit');
    return results;
  } catch (error) {
    // A dead connection cannot roll back; the caller discards it, which aborts the transaction.
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

async function appendInTransaction(client: pg.ClientBase, messages: readonly NewMessage[]): Promise<AppendResult[]> {
  const ids = [...new Set(messages.map((m) => m.conversationId))];
  const check = checkSql(
    textArray(messages.map((m) => m.conversationId)),
    textArray(messages.map((m) => m.authorId)),
    textArray(messages.map((m) => m.clientId)),
  );
  // A multi-statement string resolves to one result per statement (the typings know only one).
  const results = (await client.query(`begin;\n${lockSql(textArray(ids))};\n${check}`)) as unknown as pg.QueryResult[];
  const locked = (results[1]?.rows ?? []) as { id: string; last_message_index: number }[];
  const checked = (results[2]?.rows ?? []) as CheckRow[];
  const last = new Map(locked.map((r) => [r.id, Number(r.last_message_index)]));
  const rows = new Map(checked.map((r) => [Number(r.ord) - 1, r]));
  const decisions = decide(messages, rows, last);
  await write(client, decisions, last);
  return decisions.map((d) => (d.kind === 'same_as' ? asDuplicate(decisions[d.item]) : d));
}

/** A `text[]` literal: elements quoted for the array syntax, the whole quoted for SQL. */
function textArray(values: readonly (string | null)[]): string {
  const elements = values.map((v) => (v === null ? 'NULL' : `"${v.replace(/[\\"]/g, '\\$&')}"`));
  return `${pg.escapeLiteral(`{${elements.join(',')}}`)}::text[]`;
}

/** Assigns indexes in call order; `last` is advanced to each conversation's new last index. */
function decide(messages: readonly NewMessage[], rows: Map<number, CheckRow>, last: Map<string, number>): Decision[] {
  const firstByClientId = new Map<string, number>();
  return messages.map((m, i): Decision => {
    const row = rows.get(i);
    const previous = last.get(m.conversationId);
    if (row?.username == null || previous === undefined) return { kind: 'not_participant' };
    if (row.existing_idx != null) return { kind: 'ok', message: toMessage(row as CheckRow & MessagesTable & { username: string }), duplicate: true };
    if (m.clientId !== null) {
      const key = `${m.conversationId}\u0000${m.authorId}\u0000${m.clientId}`;
      const first = firstByClientId.get(key);
      if (first !== undefined) return { kind: 'same_as', item: first };
      firstByClientId.set(key, i);
    }
    last.set(m.conversationId, previous + 1);
    return { kind: 'ok', message: appendedMessage(m, previous + 1, row.username, iso(m.createdAt)), duplicate: false };
  });
}

async function write(client: pg.ClientBase, decisions: readonly Decision[], last: Map<string, number>): Promise<void> {
  const accepted: MessageRecord[] = [];
  decisions.forEach((d) => {
    if (d.kind === 'ok' && !d.duplicate) accepted.push(d.message);
  });
  if (accepted.length === 0) return;
  // Same as one message at a time: the conversation's activity is its last message's time.
  const activity = new Map(accepted.map((m) => [m.conversationId, m.createdAt]));
  const bumped = [...activity.keys()];
  await client.query({
    name: 'parley_append_write',
    text: WRITE,
    values: [
      bumped,
      bumped.map((id) => last.get(id)),
      bumped.map((id) => activity.get(id)),
      accepted.map((m) => m.conversationId),
      accepted.map((m) => m.index),
      accepted.map((m) => m.id),
      accepted.map((m) => m.authorId),
      accepted.map((m) => m.body),
      accepted.map((m) => m.clientId),
      accepted.map((m) => JSON.stringify(m.attributes)),
      accepted.map((m) => m.createdAt),
    ],
  });
}

function asDuplicate(first: Decision | undefined): AppendResult {
  if (first?.kind !== 'ok') throw new Error('a retried client id must follow an accepted item');
  return { kind: 'ok', message: first.message, duplicate: true };
}
