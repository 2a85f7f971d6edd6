import { Type } from '@sinclair/typebox';
import {
  AddParticipantBody,
  ConversationResponse,
  IdParams,
  InvitationsResponse,
  ParticipantResponse,
  ParticipantsResponse,
  UpdateParticipantBody,
} from '@parley/protocol';
import { isServerSide, requireUser } from '../auth.js';
import type { Api, RouteDeps } from '../types.js';

const MemberParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  userId: Type.String({ minLength: 1, maxLength: 64 }),
});
const ConversationIdParams = Type.Object({ conversationId: Type.String({ minLength: 1, maxLength: 64 }) });
const NoContent = { 204: Type.Null() };

/**
 * Participants and invitations: list, invite (admin), change role (admin), remove (admin),
 * leave; my pending invitations, accept, decline.
 *
 * @example
 * participantRoutes(app, { domain, config });
 */
export function participantRoutes(app: Api, { domain }: RouteDeps): void {
  const tags = ['participants'];
  app.get(
    '/api/conversations/:id/participants',
    { schema: { tags, params: IdParams, response: { 200: ParticipantsResponse } } },
    async (request) => ({ participants: await domain.membership.list(await requireUser(domain, request), request.params.id) }),
  );

  app.post(
    '/api/conversations/:id/participants',
    { schema: { tags, params: IdParams, body: AddParticipantBody, response: { 201: ParticipantResponse } } },
    async (request, reply) => {
      const user = await requireUser(domain, request);
      // An integrator adds its site's users by identity: one Parley has not seen yet is created.
      const participant = await domain.membership.add(user, request.params.id, request.body.username, { provision: isServerSide(request) });
      return reply.status(201).send({ participant });
    },
  );

  app.patch(
    '/api/conversations/:id/participants/:userId',
    { schema: { tags, params: MemberParams, body: UpdateParticipantBody, response: { 200: ParticipantResponse } } },
    async (request) => {
      const user = await requireUser(domain, request);
      const { id, userId } = request.params;
      return { participant: await domain.membership.setRole(user, id, userId, request.body.role) };
    },
  );

  app.delete(
    '/api/conversations/:id/participants/:userId',
    { schema: { tags, params: MemberParams, response: NoContent } },
    async (request, reply) => {
      await domain.membership.remove(await requireUser(domain, request), request.params.id, request.params.userId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/conversations/:id/leave',
    { schema: { tags, params: IdParams, response: NoContent } },
    async (request, reply) => {
      await domain.membership.leave(await requireUser(domain, request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get('/api/invitations', { schema: { tags, response: { 200: InvitationsResponse } } }, async (request) => ({
    invitations: await domain.membership.pendingInvitations(await requireUser(domain, request)),
  }));

  app.post(
    '/api/invitations/:conversationId/accept',
    { schema: { tags, params: ConversationIdParams, response: { 200: ConversationResponse } } },
    async (request) => ({
      conversation: await domain.membership.accept(await requireUser(domain, request), request.params.conversationId),
    }),
  );

  app.post(
    '/api/invitations/:conversationId/decline',
    { schema: { tags, params: ConversationIdParams, response: NoContent } },
    async (request, reply) => {
      await domain.membership.decline(await requireUser(domain, request), request.params.conversationId);
      return reply.status(204).send(null);
    },
  );
}
