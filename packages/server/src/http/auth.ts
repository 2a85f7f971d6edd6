import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Domain } from '../domain/domain.js';
import { AppError } from '../errors.js';
import type { UserRecord } from '../storage/storage.js';

export const SESSION_COOKIE = 'parley_session';

/** The header naming the user an integrator's server-side call acts as. */
export const IDENTITY_HEADER = 'x-parley-identity';

/**
 * The signed-in user of a request, from `Authorization: Bearer <access token>`, from
 * `Authorization: Basic keyId:secret` of an integrator's backend acting as the user named in
 * `X-Parley-Identity` (created if new), or from the session cookie; throws `unauthenticated`,
 * `invalid_token`, `token_expired` or `invalid_api_key`.
 *
 * @example
 * const user = await requireUser(domain, request);
 */
export async function requireUser(domain: Domain, request: FastifyRequest): Promise<UserRecord> {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) {
    return (await domain.accounts.userForToken(header.slice('Bearer '.length).trim())).user;
  }
  const basic = basicCredentials(request);
  if (basic !== undefined) {
    const identity = request.headers[IDENTITY_HEADER];
    return domain.accounts.userForApiKey(basic, typeof identity === 'string' ? identity : undefined);
  }
  const cookie = request.cookies[SESSION_COOKIE];
  if (cookie) {
    const user = await domain.accounts.userForSession(cookie);
    if (user) return user;
  }
  throw new AppError('unauthenticated');
}

/**
 * The API key a request came through, if any: the key of a server-side call (HTTP Basic), or
 * the integrator key that signed its access token. Call after `requireUser`, which checked it.
 *
 * @example
 * await domain.conversations.create(user, body, await requestApiKey(domain, request));
 */
export async function requestApiKey(domain: Domain, request: FastifyRequest): Promise<string | undefined> {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return domain.accounts.apiKeyOfToken(header.slice('Bearer '.length).trim());
  const basic = basicCredentials(request);
  return basic === undefined ? undefined : domain.accounts.apiKeyOf(basic);
}

/**
 * The key of a call made with the key alone (`Authorization: Basic keyId:secret`, no identity):
 * for what belongs to the key itself, such as its webhook. Throws `invalid_api_key`.
 */
export async function requireApiKey(domain: Domain, request: FastifyRequest): Promise<string> {
  const basic = basicCredentials(request);
  if (basic === undefined) throw new AppError('invalid_api_key', 'This call needs the API key itself: Authorization: Basic base64(keyId:secret)');
  return domain.accounts.apiKeyOf(basic);
}

/** True when the request is an integrator's server-side call (HTTP Basic with an API key). */
export function isServerSide(request: FastifyRequest): boolean {
  return basicCredentials(request) !== undefined;
}

/** The base64 `keyId:secret` of an `Authorization: Basic` header (not checked), or undefined without one. */
export function basicCredentials(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header?.startsWith('Basic ') ? header.slice('Basic '.length).trim() : undefined;
}

/** Sets the session cookie: httpOnly, SameSite=Lax, Secure over HTTPS. */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, value: string, expires: Date): void {
  reply.setCookie(SESSION_COOKIE, value, {
    httpOnly: true,
    sameSite: 'lax',
    secure: request.protocol === 'https',
    path: '/',
    expires,
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

/** The origin invite links point at: configured, or the one the request came to. */
export function publicBaseUrl(configured: string | undefined, request: FastifyRequest): string {
  if (configured) return configured.replace(/\/$/, '');
  return `${request.protocol}://${request.host}`;
}
