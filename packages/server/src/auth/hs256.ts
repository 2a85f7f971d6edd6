import { createHmac, timingSafeEqual } from 'node:crypto';

/*
 * Synchronous HS256 JWT verification with node:crypto. It accepts and rejects exactly what
 * `jose` 6's `decodeJwt` + `jwtVerify(token, secret, { algorithms: ['HS256'] })` did, which
 * is what Parley used before (see `hs256.test.ts`, which checks both agree on every case):
 * the WebCrypto path imported a CryptoKey and ran an HMAC job on the thread pool for every
 * token, ~12-20 % of a connect or a history request.
 */

/** A compact JWS split into its segments, with its claims decoded (not yet trusted). */
export interface ParsedJwt {
  header: string;
  /** `header.payload`, the bytes the signature covers. */
  signingInput: string;
  signature: string;
  claims: Record<string, unknown>;
}

/** Why a token was refused: `expired` is only reported when everything else checked out. */
export type Hs256Failure = 'invalid' | 'expired';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * base64url-decodes one segment as jose does on Node 20 (`atob`, i.e. forgiving-base64:
 * padding and ASCII whitespace tolerated, `+` and `/` refused). Undefined where jose throws.
 */
export function decodeSegment(segment: string): Buffer | undefined {
  if (BASE64URL.test(segment)) {
    // The common case: Buffer decodes these exactly as atob does, and a length of 4n+1
    // is the only way such a string can be malformed.
    return segment.length % 4 === 1 ? undefined : Buffer.from(segment, 'base64url');
  }
  if (segment.includes('+') || segment.includes('/')) return undefined;
  try {
    return Buffer.from(atob(segment.replace(/-/g, '+').replace(/_/g, '/')), 'latin1');
  } catch {
    return undefined;
  }
}

/** A plain JSON object (not an array, not null), as jose's `isObject` requires. */
function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Strict UTF-8 (like jose) then JSON; undefined unless it is a JSON object. */
function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  const bytes = decodeSegment(segment);
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(strictUtf8.decode(bytes));
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Splits a compact JWT and decodes its claims without checking anything else: what jose's
 * `decodeJwt` accepts. Undefined when the string is not a JWT.
 */
export function parseJwt(token: string): ParsedJwt | undefined {
  if (typeof token !== 'string') return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [header = '', payload = '', signature = ''] = parts;
  if (payload === '') return undefined;
  const claims = decodeJsonObject(payload);
  if (!claims) return undefined;
  return { header, signingInput: `${header}.${payload}`, signature, claims };
}

/**
 * The protected header allows HS256 only, and no extension but `b64: true` (jose knows
 * `b64` alone, and a JWT must not use an unencoded payload).
 */
function headerAccepted(encoded: string): boolean {
  const header = decodeJsonObject(encoded);
  if (!header || header.alg !== 'HS256') return false;
  const crit = header.crit;
  if (crit === undefined) return true;
  return Array.isArray(crit) && crit.length > 0 && crit.every((p) => p === 'b64') && header.b64 === true;
}

function signatureValid(jwt: ParsedJwt, secret: Buffer): boolean {
  // WebCrypto refuses a zero-length HMAC key, so jose never accepted one.
  if (secret.length === 0) return false;
  const given = decodeSegment(jwt.signature);
  if (!given || given.length !== 32) return false;
  const expected = createHmac('sha256', secret).update(jwt.signingInput).digest();
  return timingSafeEqual(given, expected);
}

/** jose's claim checks with no clock tolerance: iat/nbf/exp must be numbers when present. */
function claimsFailure(claims: Record<string, unknown>, nowSeconds: number): Hs256Failure | undefined {
  const { iat, nbf, exp } = claims;
  if (iat !== undefined && typeof iat !== 'number') return 'invalid';
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > nowSeconds)) return 'invalid';
  if (exp !== undefined && typeof exp !== 'number') return 'invalid';
  if (typeof exp === 'number' && exp <= nowSeconds) return 'expired';
  return undefined;
}

/**
 * Verifies header, signature and time claims of a parsed token, in jose's order (so an
 * expired token with a bad signature is `invalid`, not `expired`). Undefined when valid.
 *
 * @example
 * const jwt = parseJwt(token);
 * if (jwt && verifyHs256(jwt, secret, Math.floor(Date.now() / 1000)) === undefined) trust(jwt.claims);
 */
export function verifyHs256(jwt: ParsedJwt, secret: Buffer, nowSeconds: number): Hs256Failure | undefined {
  if (!headerAccepted(jwt.header)) return 'invalid';
  if (!signatureValid(jwt, secret)) return 'invalid';
  return claimsFailure(jwt.claims, nowSeconds);
}
