import type BetterSqlite3 from 'better-sqlite3';
import type { AppendResult, NewMessage } from '../storage.js';
import type { MessagesTable } from '../schema.js';
import { iso, toMessage } from '../common/rows.js';

/** Runs `fn` while holding the only SQLite connection, so no Kysely transaction interleaves. */
export type WithConnection = <T>(fn: () => T) => Promise<T>;

interface Pending {
  message: NewMessage;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; result: AppendResult } | { ok: false; error: unknown };

interface Statements {
  member: BetterSqlite3.Statement<[string, string], { username: string }>;
  byClientId: BetterSqlite3.Statement<[string, string, string], MessagesTable & { username: string }>;
  bump: BetterSqlite3.Statement<[string, string], { last_message_index: number }>;
  insert: BetterSqlite3.Statement<unknown[]>;
}

/**
 * Group commit for `appendMessage`: every append made in one event-loop turn is written in a
 * single transaction (one fsync), and each promise settles only after that commit. Each item
 * runs inside its own savepoint, so one failing item rolls back alone.
 *
 * @example
 * const batcher = new AppendBatcher(sqlite, withConnection);
 * const result = await batcher.append(message);
 */
export class AppendBatcher {
  #queue: Pending[] = [];
  #scheduled = false;
  #closed = false;
  #inFlight: Promise<void> = Promise.resolve();
  #statements: Statements | undefined;
  #commitBatch: ((items: Pending[]) => Outcome[]) | undefined;

  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    private readonly withConnection: WithConnection,
  ) {}

  /** Queues one message; resolves once its batch is committed. */
  append(message: NewMessage): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new Error('storage is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ message, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Refuses new appends and waits for queued ones to commit. */
  async drain(): Promise<void> {
    this.#closed = true;
    while (this.#scheduled || this.#queue.length > 0) await new Promise((r) => setImmediate(r));
    await this.#inFlight;
  }

  #flush(): void {
    const batch = this.#queue;
    this.#queue = [];
    this.#scheduled = false;
    const run = this.withConnection(() => this.#commit(batch)).then(
      (outcomes) => settle(batch, outcomes),
      (error: unknown) => batch.forEach((p) => p.reject(error)),
    );
    this.#inFlight = this.#inFlight.then(() => run);
  }

  #commit(batch: Pending[]): Outcome[] {
    this.#commitBatch ??= this.#compile();
    return this.#commitBatch(batch);
  }

  /** Prepared lazily: the tables exist only after `migrate()`. */
  #compile(): (items: Pending[]) => Outcome[] {
    const s = prepare(this.sqlite);
    // A transaction function called inside another becomes a savepoint (better-sqlite3).
    const appendOne = this.sqlite.transaction((m: NewMessage) => appendInTransaction(s, m));
    const all = this.sqlite.transaction((items: Pending[]) =>
      items.map((item): Outcome => {
        try {
          return { ok: true, result: appendOne(item.message) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
    // IMMEDIATE takes the write lock up front, so another process cannot make us fail midway.
    return (items) => all.immediate(items);
  }
}

function settle(batch: Pending[], outcomes: Outcome[]): void {
  batch.forEach((pending, i) => {
    const outcome = outcomes[i];
    if (outcome === undefined) pending.reject(new Error('append outcome missing'));
    else if (outcome.ok) pending.resolve(outcome.result);
    else pending.reject(outcome.error);
  });
}

function prepare(db: BetterSqlite3.Database): Statements {
  return {
    member: db.prepare(
      `select u.username from participants p join users u on u.id = p.user_id
       where p.conversation_id = ? and p.user_id = ? and p.status = 'joined'`,
    ),
    byClientId: db.prepare(
      `select m.*, u.username from messages m join users u on u.id = m.author_id
       where m.conversation_id = ? and m.author_id = ? and m.client_id = ?`,
    ),
    bump: db.prepare(
      `update conversations set last_message_index = last_message_index + 1, last_activity_at = ?
       where id = ? returning last_message_index`,
    ),
    insert: db.prepare(
      `insert into messages (conversation_id, idx, id, author_id, body, client_id, attributes, created_at)
       values (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  };
}

function appendInTransaction(s: Statements, m: NewMessage): AppendResult {
  const member = s.member.get(m.conversationId, m.authorId);
  if (member === undefined) return { kind: 'not_participant' };
  if (m.clientId !== null) {
    const existing = s.byClientId.get(m.conversationId, m.authorId, m.clientId);
    if (existing !== undefined) return { kind: 'ok', message: toMessage(existing), duplicate: true };
  }
  const createdAt = iso(m.createdAt);
  const bumped = s.bump.get(createdAt, m.conversationId);
  if (bumped === undefined) return { kind: 'not_participant' };
  const attributes = JSON.stringify(m.attributes);
  const index = bumped.last_message_index;
  s.insert.run(m.conversationId, index, m.id, m.authorId, m.body, m.clientId, attributes, createdAt);
  const message = {
    id: m.id,
    conversationId: m.conversationId,
    index,
    authorId: m.authorId,
    author: member.username,
    body: m.body,
    clientId: m.clientId,
    attributes: m.attributes,
    createdAt,
  };
  return { kind: 'ok', message, duplicate: false };
}
