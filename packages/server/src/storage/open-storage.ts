import { join } from 'node:path';
import type { Storage } from './storage.js';
import { openPostgresStorage } from './postgres/postgres-storage.js';
import { openSqliteStorage } from './sqlite/sqlite-storage.js';

/** What `openStorage` needs from the server's config. */
export interface StorageConfig {
  /** `postgres://` or `postgresql://` selects PostgreSQL; anything else (or nothing) SQLite. */
  databaseUrl?: string;
  /** Directory of the SQLite file `parley.sqlite`. */
  dataDir: string;
}

/**
 * Opens the database the config names. Does not migrate: the caller decides when.
 *
 * @example
 * const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: './data' });
 * await storage.migrate();
 */
export async function openStorage(config: StorageConfig): Promise<Storage> {
  const url = config.databaseUrl;
  if (url !== undefined && /^postgres(ql)?:\/\//i.test(url)) {
    return openPostgresStorage({ connectionString: url });
  }
  return openSqliteStorage({ file: join(config.dataDir, 'parley.sqlite') });
}
