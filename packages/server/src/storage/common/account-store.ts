import type { Kysely } from 'kysely';
import { UniqueViolation, type Storage, type UserRecord } from '../storage.js';
import type { Database } from '../schema.js';
import { iso, isoOrNull, toApiKey, toSession, toUser } from './rows.js';

/** The user, session and API key methods of `Storage`. */
export type AccountStore = Pick<
  Storage,
  | 'createUser'
  | 'getUserById'
  | 'getUserByUsername'
  | 'getUsersByUsernames'
  | 'createSession'
  | 'getSession'
  | 'deleteSession'
  | 'deleteExpiredSessions'
  | 'createApiKey'
  | 'getApiKey'
  | 'listApiKeys'
  | 'revokeApiKey'
>;

/**
 * Users, sessions and API keys over Kysely, identical in both databases.
 *
 * @example
 * const accounts = accountStore(db, (e) => (e as { code?: string }).code === '23505');
 */
export function accountStore(db: Kysely<Database>, isUniqueViolation: (error: unknown) => boolean): AccountStore {
  return { ...userMethods(db, isUniqueViolation), ...sessionMethods(db), ...apiKeyMethods(db) };
}

function userMethods(
  db: Kysely<Database>,
  isUniqueViolation: (error: unknown) => boolean,
): Pick<AccountStore, 'createUser' | 'getUserById' | 'getUserByUsername' | 'getUsersByUsernames'> {
  return {
    async createUser(user) {
      const row = {
        id: user.id,
        username: user.username.toLowerCase(),
        password_hash: user.passwordHash,
        created_at: iso(user.createdAt),
      };
      try {
        await db.insertInto('users').values(row).execute();
      } catch (error) {
        if (isUniqueViolation(error)) throw new UniqueViolation('username');
        throw error;
      }
      return toUser(row);
    },
    async getUserById(id) {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toUser(row);
    },
    async getUserByUsername(username) {
      const row = await db
        .selectFrom('users')
        .selectAll()
        .where('username', '=', username.toLowerCase())
        .executeTakeFirst();
      return row && toUser(row);
    },
    async getUsersByUsernames(usernames): Promise<UserRecord[]> {
      if (usernames.length === 0) return [];
      const wanted = [...new Set(usernames.map((u) => u.toLowerCase()))];
      const rows = await db.selectFrom('users').selectAll().where('username', 'in', wanted).execute();
      return rows.map(toUser);
    },
  };
}

function sessionMethods(
  db: Kysely<Database>,
): Pick<AccountStore, 'createSession' | 'getSession' | 'deleteSession' | 'deleteExpiredSessions'> {
  return {
    async createSession(session) {
      await db
        .insertInto('sessions')
        .values({
          id: session.id,
          user_id: session.userId,
          created_at: iso(session.createdAt),
          expires_at: iso(session.expiresAt),
        })
        .execute();
    },
    async getSession(id) {
      const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toSession(row);
    },
    async deleteSession(id) {
      await db.deleteFrom('sessions').where('id', '=', id).execute();
    },
    async deleteExpiredSessions(now) {
      const result = await db.deleteFrom('sessions').where('expires_at', '<=', iso(now)).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function apiKeyMethods(db: Kysely<Database>): Pick<AccountStore, 'createApiKey' | 'getApiKey' | 'listApiKeys' | 'revokeApiKey'> {
  return {
    async createApiKey(key) {
      await db
        .insertInto('api_keys')
        .values({
          id: key.id,
          secret: key.secret,
          name: key.name,
          created_at: iso(key.createdAt),
          revoked_at: isoOrNull(key.revokedAt),
        })
        .execute();
    },
    async getApiKey(id) {
      const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toApiKey(row);
    },
    async listApiKeys() {
      const rows = await db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
      return rows.map(toApiKey);
    },
    async revokeApiKey(id, now) {
      const result = await db
        .updateTable('api_keys')
        .set({ revoked_at: iso(now) })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}
