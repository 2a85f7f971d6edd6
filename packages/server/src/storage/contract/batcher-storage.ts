import type { Kysely } from 'kysely';
import { createKyselyStorage } from '../common/kysely-storage.js';
import { runMigrations } from '../migrations.js';
import type { Database } from '../schema.js';
import type { AppendResult, NewMessage, Storage } from '../storage.js';

/** What the SQLite batchers (in-thread and worker) have in common. */
export interface Appender {
  append(message: NewMessage): Promise<AppendResult>;
  drain(): Promise<void>;
}

/**
 * A SQLite `Storage` whose appends go through `appender`, for tests of one batcher; closing it
 * drains the batcher, then the database.
 *
 * @example
 * const storage = storageOver(db, new AppendBatcher(sqlite, withConnection));
 * await storage.migrate();
 */
export function storageOver(db: Kysely<Database>, appender: Appender): Storage {
  return createKyselyStorage(db, {
    kind: 'sqlite',
    storesMessageJson: true,
    isUniqueViolation: () => false,
    migrate: () => runMigrations(db),
    ping: async () => undefined,
    close: async () => {
      await appender.drain();
      await db.destroy();
    },
    appendMessage: (m) => appender.append(m),
  });
}
