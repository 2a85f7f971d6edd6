import { randomUUID } from 'node:crypto';
import formbody from '@fastify/formbody';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { LIMITS, UniqueName, type Attributes, type Participant } from '@parley/protocol';
import type { Domain } from '../../domain/domain.js';
import { provisionUser } from '../../domain/external-users.js';
import { AppError } from '../../errors.js';
import type { UserRecord } from '../../storage/storage.js';
import { basicCredentials, publicBaseUrl } from '../auth.js';
import { installErrorHandler } from '../error-handler.js';
import type { Api, RouteDeps } from '../types.js';
import {
  accountSidOf,
  conversationResource,
  messageResource,
  page,
  participantResource,
  participantSidOf,
  twilioError,
  type Place,
} from './twilio-resources.js';

/*
 * A subset of Twilio's Conversations v1 REST API, so that a backend written against the
 * official `twilio` package (like the tutorial's) runs against Parley by giving that package an
 * `httpClient` that sends its requests here: form-encoded PascalCase parameters in, snake_case
 * JSON out, Twilio's paging `meta` and error shape, HTTP Basic with a Parley API key (SK...).
 *
 * Twilio's conversations belong to an account, not to a user. Here each API key acts as a
 * service user of its own (`api.<key id>`), which creates the conversations it makes and is
 * their admin; a key sees only the conversations its service user is in, and that user is left
 * out of participant lists.
 */

const Sid = Type.String({ minLength: 1, maxLength: 64 });
const ConversationParams = Type.Object({ sid: Sid });
const ChildParams = Type.Object({ sid: Sid, child: Sid });
/** Twilio sends every parameter as text; PageSize up to 1,000 (Parley's pages stop at 100). */
const Paging = {
  PageSize: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  Page: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
  PageToken: Type.Optional(Type.String({ maxLength: 200 })),
};
const ListQuery = Type.Object(Paging, { additionalProperties: false });
const MessagesQuery = Type.Object({ ...Paging, Order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])) }, { additionalProperties: false });
const AttributesText = Type.String({ maxLength: LIMITS.attributesMaxBytes * 2 });
const ConversationBody = Type.Object(
  {
    FriendlyName: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.titleMax })),
    UniqueName: Type.Optional(UniqueName),
    Attributes: Type.Optional(AttributesText),
  },
  { additionalProperties: false },
);
/** A conversation's sid as Parley writes its ids; anything else in that place is a unique name. */
const CONVERSATION_SID = /^CH[0-9a-f]+$/;
const ParticipantBody = Type.Object(
  { Identity: Type.String({ minLength: 1, maxLength: 64 }), Attributes: Type.Optional(AttributesText) },
  { additionalProperties: false },
);
const MessageBody = Type.Object(
  {
    Body: Type.String({ minLength: 1, maxLength: LIMITS.messageBodyMax }),
    Author: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    Attributes: Type.Optional(AttributesText),
  },
  { additionalProperties: false },
);
const MessageUpdateBody = Type.Object({ Body: Type.String({ minLength: 1, maxLength: LIMITS.messageBodyMax }) }, { additionalProperties: false });

const DEFAULT_PAGE_SIZE = 50;
/** What a conversation created without a FriendlyName is called (Parley titles are required). */
const UNTITLED = 'Conversation';

/** Twilio's `Attributes`: JSON text of an object. */
function parseAttributes(name: string, text: string | undefined): Attributes | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('validation_failed', `${name} must be JSON text of an object`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new AppError('validation_failed', `${name} must be JSON text of an object`);
  return value as Attributes;
}

/** A conversation's Twilio parameters as Parley's fields, each only when given. */
function conversationFields(body: Static<typeof ConversationBody>): { title?: string; uniqueName?: string; attributes?: Attributes } {
  const attributes = parseAttributes('Attributes', body.Attributes);
  return {
    ...(body.FriendlyName === undefined ? {} : { title: body.FriendlyName }),
    ...(body.UniqueName === undefined ? {} : { uniqueName: body.UniqueName }),
    ...(attributes === undefined ? {} : { attributes }),
  };
}

function pageSizeOf(query: { PageSize?: string }): number {
  const asked = query.PageSize === undefined ? DEFAULT_PAGE_SIZE : Number(query.PageSize);
  if (asked < 1) throw new AppError('validation_failed', 'PageSize must be at least 1');
  return Math.min(asked, LIMITS.pageSizeMax);
}

/** The key id of an HTTP Basic `keyId:secret` header as given (not checked), or '' without one. */
function basicKeyId(request: FastifyRequest): string {
  const credentials = basicCredentials(request);
  return credentials === undefined ? '' : (Buffer.from(credentials, 'base64').toString('utf8').split(':')[0] ?? '');
}

/** The key of an HTTP Basic `keyId:secret` header, and the service user it acts as. */
async function serviceCaller(domain: Domain, request: FastifyRequest): Promise<{ user: UserRecord; keyId: string; place: Place }> {
  const credentials = basicCredentials(request);
  if (credentials === undefined) throw new AppError('unauthenticated', 'Use HTTP Basic with a Parley API key id and secret');
  const keyId = basicKeyId(request);
  const user = await domain.accounts.userForApiKey(credentials, `api.${keyId.toLowerCase()}`.slice(0, 32));
  return { user, keyId, place: { base: '', accountSid: accountSidOf(keyId) } };
}

/**
 * Registers `/v1/Conversations` and its Participants and Messages, with their own body parser
 * (form-encoded) and error shape, in a scope of their own.
 *
 * @example
 * await twilioRoutes(app, { domain, config });
 */
export async function twilioRoutes(app: Api, { domain, config }: RouteDeps): Promise<void> {
  await app.register(
    async (v1: Api) => {
      await v1.register(formbody);
      installErrorHandler(v1, twilioError);

      // As on Twilio, a conversation's unique name may stand in for its sid in any path.
      v1.addHook('preHandler', async (request) => {
        const params = request.params as { sid?: string };
        if (params.sid === undefined || CONVERSATION_SID.test(params.sid)) return;
        // The key is checked by the route; a wrong one finds nothing it could use.
        params.sid = (await domain.ctx.storage.findConversationByUniqueName(params.sid, basicKeyId(request))) ?? params.sid;
      });

      const tags = ['twilio v1'];
      const caller = async (request: FastifyRequest) => {
        const found = await serviceCaller(domain, request);
        found.place.base = `${publicBaseUrl(config.publicUrl, request)}/v1`;
        return found;
      };
      /** The joined participants but the service user, as Twilio lists them. */
      const members = async (user: UserRecord, conversationId: string): Promise<Participant[]> =>
        (await domain.membership.list(user, conversationId)).filter((p) => p.status === 'joined' && p.userId !== user.id);
      const memberBySid = async (user: UserRecord, conversationId: string, sid: string): Promise<Participant> => {
        const found = (await members(user, conversationId)).find((p) => participantSidOf(conversationId, p.userId) === sid);
        if (!found) throw new AppError('participant_not_found');
        return found;
      };

      v1.post('/Conversations', { schema: { tags, body: ConversationBody } }, async (request, reply) => {
        const { user, keyId, place } = await caller(request);
        const { conversation } = await domain.conversations.create(user, { title: UNTITLED, ...conversationFields(request.body) }, keyId);
        return reply.status(201).send(conversationResource(place, conversation));
      });

      v1.get('/Conversations', { schema: { tags, querystring: ListQuery } }, async (request) => {
        const { user, place } = await caller(request);
        const pageSize = pageSizeOf(request.query);
        const listed = await domain.conversations.list(user, {
          limit: pageSize,
          ...(request.query.PageToken === undefined ? {} : { cursor: request.query.PageToken }),
        });
        const items = listed.conversations.map((c) => conversationResource(place, c));
        return page('conversations', items, { url: `${place.base}/Conversations`, pageSize, page: Number(request.query.Page ?? 0), next: listed.nextCursor });
      });

      v1.get('/Conversations/:sid', { schema: { tags, params: ConversationParams } }, async (request) => {
        const { user, place } = await caller(request);
        return conversationResource(place, await domain.conversations.get(user, request.params.sid));
      });

      v1.post('/Conversations/:sid', { schema: { tags, params: ConversationParams, body: ConversationBody } }, async (request) => {
        const { user, place } = await caller(request);
        const patch = conversationFields(request.body);
        const summary = Object.keys(patch).length === 0 ? await domain.conversations.get(user, request.params.sid) : await domain.conversations.update(user, request.params.sid, patch);
        return conversationResource(place, summary);
      });

      v1.delete('/Conversations/:sid', { schema: { tags, params: ConversationParams } }, async (request, reply) => {
        const { user } = await caller(request);
        await domain.conversations.delete(user, request.params.sid);
        return reply.status(204).send();
      });

      v1.post('/Conversations/:sid/Participants', { schema: { tags, params: ConversationParams, body: ParticipantBody } }, async (request, reply) => {
        const { user, place } = await caller(request);
        const attributes = parseAttributes('Attributes', request.body.Attributes);
        if (attributes !== undefined && Object.keys(attributes).length > 0) {
          throw new AppError('validation_failed', 'Attributes on participants are not supported: Parley keeps none');
        }
        const conversationId = request.params.sid;
        // Twilio adds a participant outright: the invitation is made and accepted at once.
        const invited = await domain.membership.add(user, conversationId, request.body.Identity, { provision: true });
        const joinee = await provisionUser(domain.ctx, invited.username);
        await domain.membership.accept(joinee, conversationId);
        return reply.status(201).send(participantResource(place, conversationId, await memberBySid(user, conversationId, participantSidOf(conversationId, joinee.id))));
      });

      v1.get('/Conversations/:sid/Participants', { schema: { tags, params: ConversationParams, querystring: ListQuery } }, async (request) => {
        const { user, place } = await caller(request);
        const conversationId = request.params.sid;
        const items = (await members(user, conversationId)).map((p) => participantResource(place, conversationId, p));
        const pageSize = Math.max(items.length, 1);
        return page('participants', items, { url: `${place.base}/Conversations/${conversationId}/Participants`, pageSize, page: 0, next: null });
      });

      v1.get('/Conversations/:sid/Participants/:child', { schema: { tags, params: ChildParams } }, async (request) => {
        const { user, place } = await caller(request);
        return participantResource(place, request.params.sid, await memberBySid(user, request.params.sid, request.params.child));
      });

      v1.delete('/Conversations/:sid/Participants/:child', { schema: { tags, params: ChildParams } }, async (request, reply) => {
        const { user } = await caller(request);
        const member = await memberBySid(user, request.params.sid, request.params.child);
        await domain.membership.remove(user, request.params.sid, member.userId);
        return reply.status(204).send();
      });

      v1.post('/Conversations/:sid/Messages', { schema: { tags, params: ConversationParams, body: MessageBody } }, async (request, reply) => {
        const { user, place } = await caller(request);
        const conversationId = request.params.sid;
        const attributes = parseAttributes('Attributes', request.body.Attributes);
        let author = user;
        if (request.body.Author !== undefined) {
          const name = request.body.Author.toLowerCase();
          const member = (await members(user, conversationId)).find((p) => p.username === name);
          if (!member) throw new AppError('validation_failed', `Author ${request.body.Author} is not a participant of this conversation`);
          author = await provisionUser(domain.ctx, member.username);
        }
        // Twilio's idempotency token makes a retried create answer with the message it made.
        const token = request.headers['x-twilio-idempotency-token'];
        const clientId = typeof token === 'string' && token !== '' ? token.slice(0, LIMITS.clientIdMax) : randomUUID();
        const { message } = await domain.messages.send(author, conversationId, {
          body: request.body.Body,
          clientId,
          ...(attributes === undefined ? {} : { attributes }),
        });
        return reply.status(201).send(messageResource(place, message));
      });

      v1.get('/Conversations/:sid/Messages', { schema: { tags, params: ConversationParams, querystring: MessagesQuery } }, async (request) => {
        const { user, place } = await caller(request);
        const conversationId = request.params.sid;
        const pageSize = pageSizeOf(request.query);
        const order = request.query.Order ?? 'asc';
        const token = request.query.PageToken === undefined ? undefined : Number(request.query.PageToken);
        if (token !== undefined && !(Number.isSafeInteger(token) && token >= 0 && token <= LIMITS.indexMax)) {
          throw new AppError('validation_failed', 'PageToken is not one this API gave');
        }
        // Tokens are Parley indexes: the last one given (asc), or the first one given (desc).
        const history = await domain.messages.history(user, conversationId, order === 'asc' ? { after: token ?? 0, limit: pageSize } : { ...(token === undefined ? {} : { before: token }), limit: pageSize });
        const messages = order === 'asc' ? history.messages : [...history.messages].reverse();
        const last = messages.at(-1);
        const next = history.hasMore && last !== undefined ? String(last.index) : null;
        return page('messages', messages.map((m) => messageResource(place, m)), {
          url: `${place.base}/Conversations/${conversationId}/Messages`,
          pageSize,
          page: Number(request.query.Page ?? 0),
          next,
          query: { Order: order },
        });
      });

      v1.get('/Conversations/:sid/Messages/:child', { schema: { tags, params: ChildParams } }, async (request) => {
        const { user, place } = await caller(request);
        return messageResource(place, await domain.messages.find(user, request.params.sid, request.params.child));
      });

      v1.post('/Conversations/:sid/Messages/:child', { schema: { tags, params: ChildParams, body: MessageUpdateBody } }, async (request) => {
        const { user, place } = await caller(request);
        const message = await domain.messages.find(user, request.params.sid, request.params.child);
        // The account may change any message: the edit is made as its author.
        const author = await provisionUser(domain.ctx, message.author);
        return messageResource(place, await domain.messages.edit(author, request.params.sid, message.id, { body: request.body.Body }));
      });

      v1.delete('/Conversations/:sid/Messages/:child', { schema: { tags, params: ChildParams } }, async (request, reply) => {
        const { user } = await caller(request);
        await domain.messages.remove(user, request.params.sid, request.params.child);
        return reply.status(204).send();
      });
    },
    { prefix: '/v1' },
  );
}
