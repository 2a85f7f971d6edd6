import { Type } from '@sinclair/typebox';
import {
  ConversationListResponse,
  ConversationResponse,
  CreateConversationBody,
  CreateConversationResponse,
  IdParams,
  ListConversationsQuery,
  UpdateConversationBody,
} from '@parley/protocol';
import { requestApiKey, requireUser } from '../auth.js';
import type { Api, RouteDeps } from '../types.js';

/**
 * Conversations: list mine, create, open, update (admin), delete (admin).
 *
 * @example
 * conversationRoutes(app, { domain, config });
 */
export function conversationRoutes(app: Api, { domain }: RouteDeps): void {
  const tags = ['conversations'];
  app.get(
    '/api/conversations',
    { schema: { tags, querystring: ListConversationsQuery, response: { 200: ConversationListResponse } } },
    async (request) => domain.conversations.list(await requireUser(domain, request), request.query),
  );

  app.post(
    '/api/conversations',
    { schema: { tags, body: CreateConversationBody, response: { 201: CreateConversationResponse } } },
    async (request, reply) => {
      const user = await requireUser(domain, request);
      const result = await domain.conversations.create(user, request.body, await requestApiKey(domain, request));
      return reply.status(201).send(result);
    },
  );

  app.get(
    '/api/conversations/:id',
    { schema: { tags, params: IdParams, response: { 200: ConversationResponse } } },
    async (request) => ({ conversation: await domain.conversations.get(await requireUser(domain, request), request.params.id) }),
  );

  app.patch(
    '/api/conversations/:id',
    { schema: { tags, params: IdParams, body: UpdateConversationBody, response: { 200: ConversationResponse } } },
    async (request) => {
      const user = await requireUser(domain, request);
      return { conversation: await domain.conversations.update(user, request.params.id, request.body) };
    },
  );

  app.delete(
    '/api/conversations/:id',
    { schema: { tags, params: IdParams, response: { 204: Type.Null() } } },
    async (request, reply) => {
      await domain.conversations.delete(await requireUser(domain, request), request.params.id);
      return reply.status(204).send(null);
    },
  );
}
