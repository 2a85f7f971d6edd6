import { timingSafeEqual } from 'node:crypto';
import { SignJWT } from 'jose';
import type { AccessTokenClaims } from '@parley/protocol';
import { AppError } from '../errors.js';
import { newId, newSecret } from '../ids.js';
import type { ApiKeyRecord, Storage } from '../storage/storage.js';
import { parseJwt, verifyHs256 } from './hs256.js';
import { TokenCache } from './token-cache.js';

/** What a verified access token says about its bearer. */
export interface TokenIdentity {
  identity: string;
  keyId: string;
  expiresAt: Date;
}

const INTERNAL_KEY_NAME = 'parley-internal';

/**
 * Verified tokens kept per process. 10,000 covers a reconnect storm of every user of a
 * large deployment; a token string is ~400 bytes, so the cache stays under ~6 MB.
 */
const VERIFIED_TOKENS_MAX = 10_000;

/**
 * Mints and verifies access tokens: HS256 JWTs in Twilio's AccessToken layout, signed
 * with an API key's secret and naming the key in `iss`. Parley's own key is created in
 * the database on first start, so every process of a deployment shares it.
 *
 * @example
 * const tokens = await TokenService.open(storage, 3600);
 * const { token } = await tokens.mint('ada');
 * (await tokens.verify(token)).identity // 'ada'
 */
export class TokenService {
  /** Secrets by key id. A key once seen stays trusted by this process until `forgetKey`. */
  private readonly keys = new Map<string, Buffer>();
  private readonly verified = new TokenCache<TokenIdentity>(VERIFIED_TOKENS_MAX);

  private constructor(
    private readonly storage: Storage,
    private readonly signingKey: ApiKeyRecord,
    private readonly ttlSeconds: number,
  ) {
    this.keys.set(signingKey.id, Buffer.from(signingKey.secret, 'utf8'));
  }

  static async open(storage: Storage, ttlSeconds: number): Promise<TokenService> {
    const keys = await storage.listApiKeys();
    let key = keys.find((k) => k.name === INTERNAL_KEY_NAME && k.revokedAt === null);
    if (!key) {
      key = { id: newId('SK'), secret: newSecret(), name: INTERNAL_KEY_NAME, createdAt: new Date().toISOString(), revokedAt: null };
      await storage.createApiKey(key);
      // Another process may have raced us: converge on the oldest internal key.
      const again = (await storage.listApiKeys()).filter((k) => k.name === INTERNAL_KEY_NAME && k.revokedAt === null);
      again.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
      key = again[0] ?? key;
    }
    return new TokenService(storage, key, ttlSeconds);
  }

  async mint(identity: string, ttlSeconds = this.ttlSeconds): Promise<{ token: string; expiresAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + ttlSeconds;
    const claims: Omit<AccessTokenClaims, 'exp'> = {
      jti: `${this.signingKey.id}-${now}-${newSecret(6)}`,
      iss: this.signingKey.id,
      sub: 'parley',
      grants: { identity, chat: { service_sid: 'parley' } },
    };
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' })
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.keys.get(this.signingKey.id)!);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /**
   * Verifies signature and expiry; throws `invalid_token` or `token_expired`. The same
   * token string verified again before its `exp` is answered from a cache.
   */
  async verify(token: string): Promise<TokenIdentity> {
    const now = Math.floor(Date.now() / 1000);
    const cached = this.verified.get(token, now);
    if (cached) return cached;
    const jwt = parseJwt(token);
    if (!jwt) throw new AppError('invalid_token', 'The access token is not a JWT');
    const keyId = jwt.claims.iss;
    if (typeof keyId !== 'string') throw new AppError('invalid_token', 'The access token names no key (iss)');
    const secret = this.keys.get(keyId) ?? (await this.loadSecret(keyId));
    const failure = verifyHs256(jwt, secret, now);
    if (failure === 'expired') throw new AppError('token_expired');
    if (failure) throw new AppError('invalid_token');
    const { exp, nbf } = jwt.claims;
    const identity = (jwt.claims as Partial<AccessTokenClaims>).grants?.identity;
    if (typeof identity !== 'string' || identity === '') {
      throw new AppError('invalid_token', 'The access token has no grants.identity');
    }
    // A token without exp would be valid forever: every token Parley or Twilio's library
    // mints has one, so one without it is refused rather than trusted indefinitely.
    if (typeof exp !== 'number') throw new AppError('invalid_token', 'The access token has no expiry (exp)');
    const result: TokenIdentity = { identity, keyId, expiresAt: new Date(exp * 1000) };
    this.verified.set(token, { value: result, keyId, exp, nbf: typeof nbf === 'number' ? nbf : undefined });
    return result;
  }

  /**
   * Checks an API key's id and secret (HTTP Basic from an integrator's backend) against
   * storage, in constant time; a revoked or unknown key fails. Parley's own signing key is
   * never accepted this way: it exists only to sign tokens.
   */
  async checkKey(keyId: string, secret: string): Promise<boolean> {
    if (keyId === this.signingKey.id) return false;
    const key = await this.storage.getApiKey(keyId);
    if (!key || key.revokedAt !== null) return false;
    const expected = Buffer.from(key.secret, 'utf8');
    const given = Buffer.from(secret, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** True for a key other than Parley's own: an integrator's, whose tokens name its site's users. */
  isIntegratorKey(keyId: string): boolean {
    return keyId !== this.signingKey.id;
  }

  /**
   * Stops trusting a key (call it when the key is revoked): its secret is reloaded from
   * storage on next use, and tokens it signed are verified again.
   */
  forgetKey(keyId: string): void {
    if (keyId !== this.signingKey.id) this.keys.delete(keyId);
    this.verified.dropKey(keyId);
  }

  private async loadSecret(keyId: string): Promise<Buffer> {
    const key = await this.storage.getApiKey(keyId);
    if (!key || key.revokedAt !== null) throw new AppError('invalid_token', 'The access token was signed by an unknown key');
    const secret = Buffer.from(key.secret, 'utf8');
    this.keys.set(keyId, secret);
    return secret;
  }
}
