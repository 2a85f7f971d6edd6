import { Type } from '@sinclair/typebox';
import { Credentials, SignInBody, TokenResponse, UserResponse } from '@parley/protocol';
import { presentUser } from '../../domain/presenters.js';
import { SESSION_COOKIE, clearSessionCookie, requireUser, setSessionCookie } from '../auth.js';
import type { Api, RouteDeps } from '../types.js';

/**
 * Accounts: sign up, sign in, sign out, who am I, and access tokens for the SDK.
 *
 * @example
 * authRoutes(app, { domain, config });
 */
export function authRoutes(app: Api, { domain }: RouteDeps): void {
  app.post('/api/auth/signup', { schema: { tags: ['auth'], body: Credentials, response: { 201: UserResponse } } }, async (request, reply) => {
    const session = await domain.accounts.signUp(request.body.username, request.body.password, request.ip);
    setSessionCookie(request, reply, session.cookieValue, session.expiresAt);
    return reply.status(201).send({ user: presentUser(session.user) });
  });

  app.post('/api/auth/signin', { schema: { tags: ['auth'], body: SignInBody, response: { 200: UserResponse } } }, async (request, reply) => {
    const previous = request.cookies[SESSION_COOKIE];
    const session = await domain.accounts.signIn(request.body.username, request.body.password, request.ip);
    // Rotate: a session id known before sign-in is never the one used after it.
    if (previous) await domain.accounts.signOut(previous);
    setSessionCookie(request, reply, session.cookieValue, session.expiresAt);
    return { user: presentUser(session.user) };
  });

  app.post('/api/auth/signout', { schema: { tags: ['auth'], response: { 204: Type.Null() } } }, async (request, reply) => {
    const cookie = request.cookies[SESSION_COOKIE];
    if (cookie) await domain.accounts.signOut(cookie);
    clearSessionCookie(reply);
    return reply.status(204).send(null);
  });

  app.get('/api/me', { schema: { tags: ['auth'], response: { 200: UserResponse } } }, async (request) => {
    return { user: presentUser(await requireUser(domain, request)) };
  });

  app.post('/api/token', { schema: { tags: ['auth'], response: { 200: TokenResponse } } }, async (request) => {
    const user = await requireUser(domain, request);
    const { token, expiresAt } = await domain.accounts.mintToken(user);
    return { token, identity: user.username, expiresAt: expiresAt.toISOString() };
  });
}
