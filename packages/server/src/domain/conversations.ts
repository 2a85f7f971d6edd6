import type {
  ConversationSummary,
  CreateConversationBody,
  CreateConversationResponse,
  UpdateConversationBody,
} from '@parley/protocol';
import { LIMITS } from '@parley/protocol';
import { AppError } from '../errors.js';
import { newId } from '../ids.js';
import { UniqueViolation, type ConversationCursor, type NewParticipant, type UserRecord } from '../storage/storage.js';
import { publish, type DomainContext } from './context.js';
import { assertAttributesSize, requireAdmin } from './policies.js';
import { presentConversation, presentSummary } from './presenters.js';

function encodeCursor(cursor: ConversationCursor): string {
  return Buffer.from(JSON.stringify([cursor.lastActivityAt, cursor.id])).toString('base64url');
}

function decodeCursor(raw: string): ConversationCursor {
  try {
    const [lastActivityAt, id] = JSON.parse(Buffer.from(raw, 'base64url').toString()) as unknown[];
    if (typeof lastActivityAt === 'string' && typeof id === 'string') return { lastActivityAt, id };
  } catch {
    // fall through to the error below
  }
  throw new AppError('validation_failed', 'querystring/cursor is not a cursor this server issued');
}

/** A storage write, with a clash of unique names as `unique_name_taken` (409). */
function uniqueNameFree<T>(work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) => {
    throw error instanceof UniqueViolation && error.what === 'uniqueName' ? new AppError('unique_name_taken') : error;
  });
}

/**
 * Creating, listing, reading, updating and deleting conversations.
 *
 * @example
 * const { conversation } = await conversations.create(user, { title: 'Book club' });
 */
export class Conversations {
  constructor(private readonly ctx: DomainContext) {}

  /** `apiKeyId`: the key the request came through, whose webhook then hears this conversation. */
  async create(actor: UserRecord, body: CreateConversationBody, apiKeyId?: string): Promise<CreateConversationResponse> {
    assertAttributesSize(body.attributes, LIMITS.attributesMaxBytes);
    const wanted = [...new Set((body.participants ?? []).map((u) => u.toLowerCase()))].filter((u) => u !== actor.username);
    const found = wanted.length > 0 ? await this.ctx.storage.getUsersByUsernames(wanted) : [];
    const foundNames = new Set(found.map((u) => u.username));
    const now = this.ctx.now();
    const conversation = {
      id: newId('CH'),
      title: body.title,
      subject: body.subject ?? '',
      attributes: body.attributes ?? {},
      invitePolicy: body.invitePolicy ?? ('members' as const),
      createdBy: actor.id,
      createdAt: now,
      updatedAt: now,
      lastActivityAt: now,
      lastMessageIndex: 0,
      lastChangeIndex: 0,
      uniqueName: body.uniqueName ?? null,
    };
    const participants: NewParticipant[] = [
      { userId: actor.id, role: 'admin', status: 'joined', invitedBy: null },
      ...found.map((u): NewParticipant => ({ userId: u.id, role: 'member', status: 'invited', invitedBy: actor.id })),
    ];
    await uniqueNameFree(this.ctx.storage.createConversation(conversation, participants, apiKeyId));
    const summary = await this.summaryFor(conversation.id, actor.id);
    await publish(this.ctx, { userIds: [actor.id] }, { name: 'conversationAdded', data: { conversation: summary } }, {
      kind: 'joined',
      conversationId: conversation.id,
      userId: actor.id,
    });
    if (found.length > 0) {
      const invitation = {
        conversationId: conversation.id,
        title: conversation.title,
        subject: conversation.subject,
        invitedBy: actor.username,
        invitedAt: now,
      };
      await publish(this.ctx, { userIds: found.map((u) => u.id) }, { name: 'invitationReceived', data: { invitation } });
    }
    return {
      conversation: summary,
      invited: found.map((u) => u.username),
      unknownUsernames: wanted.filter((u) => !foundNames.has(u)),
    };
  }

  async list(
    actor: UserRecord,
    query: { limit?: number; cursor?: string },
  ): Promise<{ conversations: ConversationSummary[]; total: number; nextCursor: string | null }> {
    const limit = query.limit ?? LIMITS.pageSizeDefault;
    const page: { limit: number; cursor?: ConversationCursor } = { limit };
    if (query.cursor !== undefined) page.cursor = decodeCursor(query.cursor);
    const { items, total } = await this.ctx.storage.listConversationsForUser(actor.id, page);
    const last = items.at(-1);
    const nextCursor =
      items.length === limit && last
        ? encodeCursor({ lastActivityAt: last.conversation.lastActivityAt, id: last.conversation.id })
        : null;
    return { conversations: items.map(presentSummary), total, nextCursor };
  }

  async get(actor: UserRecord, conversationId: string): Promise<ConversationSummary> {
    return this.summaryFor(conversationId, actor.id);
  }

  async update(actor: UserRecord, conversationId: string, patch: UpdateConversationBody): Promise<ConversationSummary> {
    await requireAdmin(this.ctx, conversationId, actor.id);
    assertAttributesSize(patch.attributes, LIMITS.attributesMaxBytes);
    const updated = await uniqueNameFree(this.ctx.storage.updateConversation(conversationId, { ...patch, updatedAt: this.ctx.now() }));
    if (!updated) throw new AppError('conversation_not_found');
    await publish(this.ctx, { conversationId }, { name: 'conversationUpdated', data: { conversation: presentConversation(updated) } });
    return this.summaryFor(conversationId, actor.id);
  }

  /** Deletes for everyone: members see it vanish live; invitations and links die with it. */
  async delete(actor: UserRecord, conversationId: string): Promise<void> {
    await requireAdmin(this.ctx, conversationId, actor.id);
    const participants = await this.ctx.storage.listParticipants(conversationId);
    await this.ctx.storage.deleteConversation(conversationId);
    const joined = participants.filter((p) => p.status === 'joined').map((p) => p.userId);
    const invited = participants.filter((p) => p.status === 'invited').map((p) => p.userId);
    await publish(
      this.ctx,
      { userIds: joined },
      { name: 'conversationRemoved', data: { conversationId, reason: 'deleted' } },
      { kind: 'deleted', conversationId },
    );
    if (invited.length > 0) {
      await publish(this.ctx, { userIds: invited }, { name: 'invitationRemoved', data: { conversationId } });
    }
  }

  /** The conversation as the user sees it; 404 unless they have joined. */
  async summaryFor(conversationId: string, userId: string): Promise<ConversationSummary> {
    const item = await this.ctx.storage.getConversationForUser(conversationId, userId);
    if (!item || item.participant.status !== 'joined') throw new AppError('conversation_not_found');
    return presentSummary(item);
  }
}
