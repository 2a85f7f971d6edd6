import { Type } from '@sinclair/typebox';
import {
  ConversationResponse,
  CreateInviteBody,
  IdParams,
  InviteListResponse,
  InvitePreviewResponse,
  InviteResponse,
} from '@parley/protocol';
import { publicBaseUrl, requireUser } from '../auth.js';
import type { Api, RouteDeps } from '../types.js';

const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) });
const InviteParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  inviteId: Type.String({ minLength: 1, maxLength: 64 }),
});

/**
 * Invite links: create, list, revoke; preview and join by token.
 *
 * @example
 * inviteRoutes(app, { domain, config });
 */
export function inviteRoutes(app: Api, { domain, config }: RouteDeps): void {
  const tags = ['invites'];
  app.post(
    '/api/conversations/:id/invites',
    { schema: { tags, params: IdParams, body: Type.Optional(CreateInviteBody), response: { 201: InviteResponse } } },
    async (request, reply) => {
      const user = await requireUser(domain, request);
      const base = publicBaseUrl(config.publicUrl, request);
      const invite = await domain.invites.create(user, request.params.id, request.body ?? {}, base);
      return reply.status(201).send({ invite });
    },
  );

  app.get(
    '/api/conversations/:id/invites',
    { schema: { tags, params: IdParams, response: { 200: InviteListResponse } } },
    async (request) => ({ invites: await domain.invites.list(await requireUser(domain, request), request.params.id) }),
  );

  app.delete(
    '/api/conversations/:id/invites/:inviteId',
    { schema: { tags, params: InviteParams, response: { 204: Type.Null() } } },
    async (request, reply) => {
      await domain.invites.revoke(await requireUser(domain, request), request.params.id, request.params.inviteId);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/invites/:token',
    { schema: { tags, params: TokenParams, response: { 200: InvitePreviewResponse } } },
    async (request) => domain.invites.preview(request.params.token),
  );

  app.post(
    '/api/invites/:token/join',
    { schema: { tags, params: TokenParams, response: { 200: ConversationResponse } } },
    async (request) => ({ conversation: await domain.invites.join(await requireUser(domain, request), request.params.token) }),
  );
}
