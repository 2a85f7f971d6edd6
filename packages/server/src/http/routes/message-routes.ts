import { Type } from '@sinclair/typebox';
import {
  HistoryQuery,
  IdParams,
  MarkReadBody,
  MessagePage,
  MessageParams,
  MessageResponse,
  SendMessageBody,
  UpdateMessageBody,
} from '@parley/protocol';
import { requireUser } from '../auth.js';
import type { Api, RouteDeps } from '../types.js';

/**
 * Messages: history pages, sending over REST (same guarantees as the socket), editing and
 * removing one message, read position.
 *
 * @example
 * messageRoutes(app, { domain, config });
 */
export function messageRoutes(app: Api, { domain }: RouteDeps): void {
  const tags = ['messages'];
  app.get(
    '/api/conversations/:id/messages',
    // The schema documents the answer. The page arrives as JSON text, which Fastify sends as
    // is (a string with a JSON content type is never serialised again), hence the cast.
    { schema: { tags, params: IdParams, querystring: HistoryQuery, response: { 200: MessagePage } } },
    async (request, reply) => {
      const page = await domain.messages.historyJson(await requireUser(domain, request), request.params.id, request.query);
      return reply.type('application/json; charset=utf-8').send(page as never);
    },
  );

  app.post(
    '/api/conversations/:id/messages',
    { schema: { tags, params: IdParams, body: SendMessageBody, response: { 200: MessageResponse, 201: MessageResponse } } },
    async (request, reply) => {
      const user = await requireUser(domain, request);
      const { message, duplicate } = await domain.messages.send(user, request.params.id, request.body);
      return reply.status(duplicate ? 200 : 201).send({ message });
    },
  );

  app.patch(
    '/api/conversations/:id/messages/:messageId',
    { schema: { tags, params: MessageParams, body: UpdateMessageBody, response: { 200: MessageResponse } } },
    async (request) => {
      const user = await requireUser(domain, request);
      return { message: await domain.messages.edit(user, request.params.id, request.params.messageId, request.body) };
    },
  );

  app.delete(
    '/api/conversations/:id/messages/:messageId',
    { schema: { tags, params: MessageParams, response: { 204: Type.Null() } } },
    async (request, reply) => {
      await domain.messages.remove(await requireUser(domain, request), request.params.id, request.params.messageId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/conversations/:id/read',
    {
      schema: {
        tags,
        params: IdParams,
        body: MarkReadBody,
        response: { 200: Type.Object({ lastReadIndex: Type.Integer() }) },
      },
    },
    async (request) => {
      const user = await requireUser(domain, request);
      return { lastReadIndex: await domain.messages.markRead(user, request.params.id, request.body.index) };
    },
  );
}
