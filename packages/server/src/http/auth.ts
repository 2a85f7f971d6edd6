import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Domain } from '../domain/domain.js';
import { AppError } from '../errors.js';
import type { UserRecord } from '../storage/storage.js';

export const SESSION_COOKIE = 'parley_session';

/**
 * The signed-in user of a request, from `Authorization: Bearer <access token>` or the
 * session cookie; throws `unauthenticated`, `invalid_token` or `token_expired`.
 *
 * @example
 * const user = await requireUser(domain, request);
 */
export async function requireUser(domain: Domain, request: FastifyRequest): Promise<UserRecord> {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) {
    return (await domain.accounts.userForToken(header.slice('Bearer '.length).trim())).user;
  }
  const cookie = request.cookies[SESSION_COOKIE];
  if (cookie) {
    const user = await domain.accounts.userForSession(cookie);
    if (user) return user;
  }
  throw new AppError('unauthenticated');
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
