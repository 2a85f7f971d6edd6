import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** How many distinct SQL texts stay prepared; the server issues well under a hundred. */
const DEFAULT_CAPACITY = 256;

/**
 * A better-sqlite3 handle for Kysely's `SqliteDialect` that keeps prepared statements by SQL
 * text (least recently used evicted first). Kysely's driver calls `prepare` on every query,
 * which was 7-11 % of a request's CPU; a statement is reusable once its previous run returned.
 * A statement still being iterated (a Kysely stream) is `busy`, so a second user of the same
 * text gets a fresh, uncached statement instead.
 *
 * @example
 * const dialect = new SqliteDialect({ database: new StatementCache(new BetterSqlite3(file)) });
 */
export class StatementCache implements SqliteDatabase {
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {}

  /** Number of statements currently kept. */
  get size(): number {
    return this.#statements.size;
  }

  /** The cached statement for `sql`, preparing (and caching) it on first use. */
  prepare(sql: string): SqliteStatement {
    const cached = this.#statements.get(sql);
    if (cached !== undefined) {
      if (cached.busy) return this.db.prepare(sql);
      // Re-inserting moves the entry to the young end of the Map's insertion order.
      this.#statements.delete(sql);
      this.#statements.set(sql, cached);
      return cached;
    }
    const statement = this.db.prepare(sql);
    this.#statements.set(sql, statement);
    if (this.#statements.size > this.capacity) {
      const oldest = this.#statements.keys().next();
      if (oldest.done !== true) this.#statements.delete(oldest.value);
    }
    return statement;
  }

  /** Drops the statements and closes the database. */
  close(): void {
    this.#statements.clear();
    this.db.close();
  }
}
