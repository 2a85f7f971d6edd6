import type pg from 'pg';
import type { AppendResult, MessageRecord, NewMessage } from '../storage.js';
import type { MessagesTable } from '../schema.js';
import { appendedMessage, iso, toMessage } from '../common/rows.js';
import { CLIENT_ID_INDEX } from '../migrations.js';

/*
 * The send path on PostgreSQL: ONE statement, so one round trip and one implicit transaction
 * (BEGIN/UPDATE/INSERT/COMMIT as separate calls would cost four). The UPDATE takes the
 * conversation's row lock, which serialises senders on every process, and its RETURNING feeds
 * the INSERT, so indexes come out strictly increasing and gapless: if the INSERT fails, the
 * whole statement, bump included, is rolled back.
 */

// The join makes the "author is joined" check part of the locked update: no row, no message.
const APPEND = `
with bump as (
  update conversations c
     set last_message_index = c.last_message_index + 1, last_activity_at = $1
    from participants p join users u on u.id = p.user_id
   where c.id = $2 and p.conversation_id = c.id and p.user_id = $3 and p.status = 'joined'
  returning c.last_message_index, u.username
), ins as (
  insert into messages (conversation_id, idx, id, author_id, body, client_id, attributes, created_at)
  select $2, bump.last_message_index, $4, $3, $5, $6, $7, $1 from bump
  returning idx
)
select ins.idx, bump.username from ins, bump`;

const BY_CLIENT_ID = `
select m.*, u.username from messages m join users u on u.id = m.author_id
 where m.conversation_id = $1 and m.author_id = $2 and m.client_id = $3`;

/** Name of the unique index on (client_id, conversation_id, author_id); see migrations.ts. */
const CLIENT_ID_CONSTRAINT = CLIENT_ID_INDEX;

/**
 * Appends one message; see `Storage.appendMessage`. Connection failures reject the promise
 * (the pool replaces the connection); nothing is acknowledged unless it was committed.
 *
 * @example
 * const result = await appendMessagePg(pool, message);
 */
export async function appendMessagePg(pool: pg.Pool, m: NewMessage): Promise<AppendResult> {
  const createdAt = iso(m.createdAt);
  const values = [createdAt, m.conversationId, m.authorId, m.id, m.body, m.clientId, JSON.stringify(m.attributes)];
  let row: { idx: number; username: string } | undefined;
  try {
    const result = await pool.query<{ idx: number; username: string }>({ name: 'parley_append', text: APPEND, values });
    row = result.rows[0];
  } catch (error) {
    // A retry of a committed send (or one racing it) trips the unique index: answer with
    // the original. Checked after the participant test, so a removed author gets no echo.
    if (m.clientId !== null && isClientIdViolation(error)) {
      const existing = await findByClientId(pool, m, m.clientId);
      if (existing !== undefined) return { kind: 'ok', message: existing, duplicate: true };
    }
    throw error;
  }
  if (row === undefined) return { kind: 'not_participant' };
  return { kind: 'ok', message: appendedMessage(m, Number(row.idx), row.username, createdAt), duplicate: false };
}

function isClientIdViolation(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && e.constraint === CLIENT_ID_CONSTRAINT;
}

async function findByClientId(pool: pg.Pool, m: NewMessage, clientId: string): Promise<MessageRecord | undefined> {
  const found = await pool.query<MessagesTable & { username: string }>(BY_CLIENT_ID, [
    m.conversationId,
    m.authorId,
    clientId,
  ]);
  const row = found.rows[0];
  return row && toMessage(row);
}
