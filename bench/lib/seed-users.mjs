// Bench users, inserted straight into Parley's database (tables `users` and `sessions` of
// packages/server/src/storage/migrations.ts) instead of through `POST /api/auth/signup`.
//
// Why: a signup costs the server one scrypt hash (N=16384, ~70 ms of its one core), so a
// thousand members would take over a minute of set-up, more than the whole quick run. The rows
// are exactly what a signup writes (a real scrypt hash of the bench password, a session whose
// id is the SHA-256 of the cookie value), and the harness still gets every access token from
// `POST /api/token` with the session cookie, so the measured path is the real one.
import { createHash, randomBytes, scryptSync } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';

const newId = (prefix) => prefix + randomBytes(16).toString('hex');

function scryptHash(password) {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, { N: 16384, r: 8, p: 1 });
  return `scrypt$16384$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
}

function rowsFor(usernames, password) {
  const hash = scryptHash(password);
  const now = new Date();
  const expires = new Date(now.getTime() + 30 * 24 * 3600 * 1000).toISOString();
  return usernames.map((username) => {
    const cookieValue = randomBytes(32).toString('base64url');
    return {
      user: { id: newId('US'), username: username.toLowerCase(), hash, createdAt: now.toISOString() },
      session: { id: createHash('sha256').update(cookieValue).digest('hex'), createdAt: now.toISOString(), expires },
      cookie: `parley_session=${cookieValue}`,
      username,
    };
  });
}

/**
 * Inserts users with open sessions; returns `{ username, cookie }` per user.
 * `db` is `{ sqliteFile }` or `{ pgUrl }` (a URL whose search_path selects the schema).
 */
export async function seedUsers(db, usernames, password) {
  const rows = rowsFor(usernames, password);
  if (db.sqliteFile) {
    const sqlite = new Database(db.sqliteFile);
    try {
      sqlite.pragma('busy_timeout = 10000');
      const u = sqlite.prepare('INSERT INTO users (id, username, password_hash, created_at) VALUES (?, ?, ?, ?)');
      const s = sqlite.prepare('INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)');
      sqlite.transaction(() => {
        for (const r of rows) {
          u.run(r.user.id, r.user.username, r.user.hash, r.user.createdAt);
          s.run(r.session.id, r.user.id, r.session.createdAt, r.session.expires);
        }
      })();
    } finally {
      sqlite.close();
    }
  } else {
    const client = new pg.Client({ connectionString: db.pgUrl });
    await client.connect();
    try {
      await client.query('BEGIN');
      for (const r of rows) {
        await client.query('INSERT INTO users (id, username, password_hash, created_at) VALUES ($1, $2, $3, $4)', [
          r.user.id,
          r.user.username,
          r.user.hash,
          r.user.createdAt,
        ]);
        await client.query('INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [
          r.session.id,
          r.user.id,
          r.session.createdAt,
          r.session.expires,
        ]);
      }
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
  }
  return rows.map((r) => ({ username: r.username, cookie: r.cookie }));
}
