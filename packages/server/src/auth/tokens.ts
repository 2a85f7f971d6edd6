import { SignJWT, decodeJwt, jwtVerify, errors as joseErrors } from 'jose';
import type { AccessTokenClaims } from '@parley/protocol';
import { AppError } from '../errors.js';
import { newId, newSecret } from '../ids.js';
import type { ApiKeyRecord, Storage } from '../storage/storage.js';

/** What a verified access token says about its bearer. */
export interface TokenIdentity {
  identity: string;
  keyId: string;
  expiresAt: Date;
}

const INTERNAL_KEY_NAME = 'parley-internal';

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
  private readonly keys = new Map<string, Uint8Array>();

  private constructor(
    private readonly storage: Storage,
    private readonly signingKey: ApiKeyRecord,
    private readonly ttlSeconds: number,
  ) {
    this.keys.set(signingKey.id, new TextEncoder().encode(signingKey.secret));
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

  /** Verifies signature and expiry; throws `invalid_token` or `token_expired`. */
  async verify(token: string): Promise<TokenIdentity> {
    let keyId: unknown;
    try {
      keyId = decodeJwt(token).iss;
    } catch {
      throw new AppError('invalid_token', 'The access token is not a JWT');
    }
    if (typeof keyId !== 'string') throw new AppError('invalid_token', 'The access token names no key (iss)');
    const secret = await this.secretFor(keyId);
    try {
      const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
      const identity = (payload as Partial<AccessTokenClaims>).grants?.identity;
      if (typeof identity !== 'string' || identity === '') {
        throw new AppError('invalid_token', 'The access token has no grants.identity');
      }
      return { identity, keyId, expiresAt: new Date((payload.exp ?? 0) * 1000) };
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new AppError('token_expired');
      throw new AppError('invalid_token');
    }
  }

  private async secretFor(keyId: string): Promise<Uint8Array> {
    const cached = this.keys.get(keyId);
    if (cached) return cached;
    const key = await this.storage.getApiKey(keyId);
    if (!key || key.revokedAt !== null) throw new AppError('invalid_token', 'The access token was signed by an unknown key');
    const secret = new TextEncoder().encode(key.secret);
    this.keys.set(keyId, secret);
    return secret;
  }
}
