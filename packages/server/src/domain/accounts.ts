import { createHash } from 'node:crypto';
import { AppError } from '../errors.js';
import { newId, newSecret } from '../ids.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../auth/passwords.js';
import type { TokenService } from '../auth/tokens.js';
import { UniqueViolation, type UserRecord } from '../storage/storage.js';
import type { DomainContext } from './context.js';
import { EXTERNAL_USER_HASH, isIdentity, notAnIdentity, provisionUser } from './external-users.js';
import { RateLimiter } from './rate-limiter.js';

/** A new web session: the cookie value is returned once and only its hash is stored. */
export interface NewSession {
  cookieValue: string;
  expiresAt: Date;
  user: UserRecord;
}

/**
 * Users by identity (username) for access tokens, bounded and short-lived. Safe because a
 * user record never changes: storage has no update, rename or delete of users, usernames
 * are unique and never reused, and only found users are kept (a user signed up on another
 * process is found on the next call). If users ever become mutable or deletable, drop the
 * entry where that happens; until then the TTL bounds how stale a record can be.
 */
const TOKEN_USERS_MAX = 10_000;
const TOKEN_USER_TTL_MS = 60_000;

const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

function sessionId(cookieValue: string): string {
  return createHash('sha256').update(cookieValue).digest('hex');
}

/**
 * Sign-up, sign-in, sign-out, sessions and access tokens.
 *
 * @example
 * const { cookieValue, user } = await accounts.signUp('ada', 'correct horse', '127.0.0.1');
 */
export class Accounts {
  /** Failed sign-ins: 10 per username and 100 per IP address per 5 minutes. */
  private readonly failuresByUser = new RateLimiter(10, 5 * 60_000);
  private readonly failuresByIp = new RateLimiter(100, 5 * 60_000);
  private readonly signUpsByIp = new RateLimiter(30, 60 * 60_000);
  private readonly tokenUsers = new Map<string, { user: UserRecord; until: number }>();

  constructor(
    private readonly ctx: DomainContext,
    private readonly tokens: TokenService,
  ) {}

  async signUp(username: string, password: string, ip: string): Promise<NewSession> {
    if (!this.signUpsByIp.take(ip)) {
      throw new AppError('rate_limited', 'Too many sign-ups from this address; try later', undefined, this.signUpsByIp.retryAfterMs(ip));
    }
    const user: UserRecord = {
      id: newId('US'),
      username: username.toLowerCase(),
      passwordHash: await hashPassword(password),
      createdAt: this.ctx.now(),
    };
    try {
      await this.ctx.storage.createUser(user);
    } catch (err) {
      if (err instanceof UniqueViolation) throw new AppError('username_taken', `The username "${user.username}" is taken`);
      throw err;
    }
    return this.startSession(user);
  }

  async signIn(username: string, password: string, ip: string): Promise<NewSession> {
    const userKey = username.toLowerCase();
    for (const [limiter, key] of [[this.failuresByUser, userKey], [this.failuresByIp, ip]] as const) {
      if (limiter.blocked(key)) {
        throw new AppError('rate_limited', 'Too many failed sign-ins; try again later', undefined, limiter.retryAfterMs(key));
      }
    }
    const user = await this.ctx.storage.getUserByUsername(userKey);
    // An integrator's user has no password: verify against the dummy so timing says nothing.
    const stored = user && user.passwordHash !== EXTERNAL_USER_HASH ? user.passwordHash : DUMMY_HASH;
    const ok = (await verifyPassword(password, stored)) && user !== undefined && stored !== DUMMY_HASH;
    if (!user || !ok) {
      this.failuresByUser.take(userKey);
      this.failuresByIp.take(ip);
      throw new AppError('invalid_credentials');
    }
    this.failuresByUser.reset(userKey);
    return this.startSession(user);
  }

  async signOut(cookieValue: string): Promise<void> {
    await this.ctx.storage.deleteSession(sessionId(cookieValue));
  }

  /** The user behind a session cookie, or undefined when it is unknown or expired. */
  async userForSession(cookieValue: string): Promise<UserRecord | undefined> {
    const session = await this.ctx.storage.getSession(sessionId(cookieValue));
    if (!session) return undefined;
    if (session.expiresAt <= this.ctx.now()) {
      await this.ctx.storage.deleteSession(session.id);
      return undefined;
    }
    return this.ctx.storage.getUserById(session.userId);
  }

  /**
   * The user behind an access token; throws `invalid_token` / `token_expired`. A token signed
   * with an integrator's key may name an identity Parley has not seen: its user is created then,
   * as Twilio does, so a site's backend can mint tokens for its own users.
   */
  async userForToken(token: string): Promise<{ user: UserRecord; expiresAt: Date }> {
    const { identity, keyId, expiresAt } = await this.tokens.verify(token);
    let user = await this.userByIdentity(identity);
    if (!user && this.tokens.isIntegratorKey(keyId)) {
      if (!isIdentity(identity)) throw new AppError('invalid_token', notAnIdentity(identity));
      user = await provisionUser(this.ctx, identity);
    }
    if (!user) throw new AppError('invalid_token', `No user has the identity "${identity}"`);
    return { user, expiresAt };
  }

  /**
   * A server-side call from an integrator's backend: `Authorization: Basic keyId:secret`, acting
   * as `identity` (the `X-Parley-Identity` header), whose user is created if it is new. Throws
   * `invalid_api_key` for a wrong, unknown or revoked key and `validation_failed` for a missing or
   * malformed identity.
   */
  async userForApiKey(basicCredentials: string, identity: string | undefined): Promise<UserRecord> {
    await this.apiKeyOf(basicCredentials);
    if (identity === undefined || identity === '') {
      throw new AppError('validation_failed', 'A call with an API key must name the user it acts as in the X-Parley-Identity header');
    }
    return (await this.userByIdentity(identity)) ?? provisionUser(this.ctx, identity);
  }

  /**
   * The id of the key in `Authorization: Basic keyId:secret` credentials; throws
   * `invalid_api_key` for a wrong, unknown or revoked key.
   */
  async apiKeyOf(basicCredentials: string): Promise<string> {
    const decoded = Buffer.from(basicCredentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const keyId = decoded.slice(0, colon);
    // Key ids are `SK` + hex: anything else is no key, and never reaches the database.
    const ok = colon > 0 && KEY_ID.test(keyId) && (await this.tokens.checkKey(keyId, decoded.slice(colon + 1)));
    if (!ok) throw new AppError('invalid_api_key');
    return keyId;
  }

  /** The integrator key that signed a valid access token, or undefined for Parley's own tokens. */
  async apiKeyOfToken(token: string): Promise<string | undefined> {
    const { keyId } = await this.tokens.verify(token);
    return this.tokens.isIntegratorKey(keyId) ? keyId : undefined;
  }

  private async userByIdentity(identity: string): Promise<UserRecord | undefined> {
    const now = Date.now();
    const cached = this.tokenUsers.get(identity);
    if (cached && cached.until > now) return cached.user;
    const user = await this.ctx.storage.getUserByUsername(identity);
    this.tokenUsers.delete(identity);
    if (user) {
      if (this.tokenUsers.size >= TOKEN_USERS_MAX) {
        const oldest = this.tokenUsers.keys().next();
        if (!oldest.done) this.tokenUsers.delete(oldest.value);
      }
      this.tokenUsers.set(identity, { user, until: now + TOKEN_USER_TTL_MS });
    }
    return user;
  }

  mintToken(user: UserRecord): Promise<{ token: string; expiresAt: Date }> {
    return this.tokens.mint(user.username);
  }

  private async startSession(user: UserRecord): Promise<NewSession> {
    const cookieValue = newSecret(32);
    const now = Date.now();
    const expiresAt = new Date(now + this.ctx.config.sessionTtlSeconds * 1000);
    await this.ctx.storage.createSession({
      id: sessionId(cookieValue),
      userId: user.id,
      createdAt: new Date(now).toISOString(),
      expiresAt: expiresAt.toISOString(),
    });
    return { cookieValue, expiresAt, user };
  }
}
