import type { ConversationRecord, ParticipantRecord } from '../storage/storage.js';
import { AppError } from '../errors.js';
import type { DomainContext } from './context.js';

/*
 * Who may do what. A conversation the actor has not joined does not exist for them:
 * 404, never 403, so its existence does not leak.
 */

/**
 * The actor's participant row, if they have joined; otherwise `conversation_not_found`.
 *
 * @example
 * const me = await requireJoined(ctx, conversationId, user.id);
 */
export async function requireJoined(ctx: DomainContext, conversationId: string, userId: string): Promise<ParticipantRecord> {
  const participant = await ctx.storage.getParticipant(conversationId, userId);
  if (!participant || participant.status !== 'joined') throw new AppError('conversation_not_found');
  return participant;
}

/** Like `requireJoined`, and the actor must be an admin. */
export async function requireAdmin(ctx: DomainContext, conversationId: string, userId: string): Promise<ParticipantRecord> {
  const participant = await requireJoined(ctx, conversationId, userId);
  if (participant.role !== 'admin') throw new AppError('not_admin');
  return participant;
}

/** Loads a conversation the actor has joined. */
export async function requireConversation(ctx: DomainContext, conversationId: string): Promise<ConversationRecord> {
  const conversation = await ctx.storage.getConversation(conversationId);
  if (!conversation) throw new AppError('conversation_not_found');
  return conversation;
}

/** May this participant create invite links under the conversation's policy? */
export function assertMayInvite(conversation: ConversationRecord, participant: ParticipantRecord): void {
  if (conversation.invitePolicy === 'admins' && participant.role !== 'admin') throw new AppError('invites_admin_only');
}

/** Attributes are JSON objects of bounded size. */
export function assertAttributesSize(attributes: Record<string, unknown> | undefined, maxBytes: number): void {
  if (attributes === undefined) return;
  const size = Buffer.byteLength(JSON.stringify(attributes));
  if (size > maxBytes) {
    throw new AppError('validation_failed', `attributes must be at most ${maxBytes} bytes of JSON (got ${size})`);
  }
}
