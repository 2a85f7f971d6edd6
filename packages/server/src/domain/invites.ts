import { createHash } from 'node:crypto';
import type { ConversationSummary, CreateInviteBody, InviteLink, InvitePreviewResponse } from '@parley/protocol';
import { AppError } from '../errors.js';
import { newId, newSecret } from '../ids.js';
import type { InviteRecord, UserRecord } from '../storage/storage.js';
import type { DomainContext } from './context.js';
import type { Membership } from './membership.js';
import { assertMayInvite, requireConversation, requireJoined } from './policies.js';
import { presentInvite } from './presenters.js';

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Invite links (the tutorial's Invite button): 256-bit tokens, stored hashed, revocable,
 * with optional expiry and use limit.
 *
 * @example
 * const invite = await invites.create(user, conversationId, {}, 'https://chat.example.com');
 * await invites.join(friend, invite.token!);
 */
export class Invites {
  constructor(
    private readonly ctx: DomainContext,
    private readonly membership: Membership,
  ) {}

  async create(actor: UserRecord, conversationId: string, body: CreateInviteBody, baseUrl: string): Promise<InviteLink> {
    const me = await requireJoined(this.ctx, conversationId, actor.id);
    assertMayInvite(await requireConversation(this.ctx, conversationId), me);
    const token = newSecret(32);
    const now = Date.now();
    const record: InviteRecord = {
      id: newId('IV'),
      conversationId,
      tokenHash: hashToken(token),
      createdBy: actor.id,
      createdAt: new Date(now).toISOString(),
      expiresAt: body.expiresInSeconds ? new Date(now + body.expiresInSeconds * 1000).toISOString() : null,
      maxUses: body.maxUses ?? null,
      uses: 0,
      revokedAt: null,
    };
    await this.ctx.storage.createInvite(record);
    return presentInvite(record, { token, url: `${baseUrl}/join/${token}` });
  }

  async list(actor: UserRecord, conversationId: string): Promise<InviteLink[]> {
    await requireJoined(this.ctx, conversationId, actor.id);
    return (await this.ctx.storage.listInvites(conversationId)).map((r) => presentInvite(r));
  }

  /** The creator of a link or an admin may revoke it. */
  async revoke(actor: UserRecord, conversationId: string, inviteId: string): Promise<void> {
    const me = await requireJoined(this.ctx, conversationId, actor.id);
    const invite = (await this.ctx.storage.listInvites(conversationId)).find((r) => r.id === inviteId);
    if (!invite) throw new AppError('invite_not_found');
    if (invite.createdBy !== actor.id && me.role !== 'admin') throw new AppError('not_admin');
    await this.ctx.storage.revokeInvite(conversationId, inviteId, this.ctx.now());
  }

  /** What a visitor may see before joining; the link must be usable. */
  async preview(token: string): Promise<InvitePreviewResponse> {
    const invite = await this.usable(token);
    const conversation = await this.ctx.storage.getConversation(invite.conversationId);
    if (!conversation) throw new AppError('invite_not_found');
    const creator = await this.ctx.storage.getUserById(invite.createdBy);
    return {
      conversationId: conversation.id,
      title: conversation.title,
      createdBy: creator?.username ?? 'unknown',
      expiresAt: invite.expiresAt,
    };
  }

  /** Joins through a link; a member who opens it again just gets the conversation. */
  async join(actor: UserRecord, token: string): Promise<ConversationSummary> {
    const invite = await this.usable(token);
    const existing = await this.ctx.storage.getParticipant(invite.conversationId, actor.id);
    if (existing?.status === 'joined') return this.membership.joinedSummary(actor, invite.conversationId);
    if (existing?.status === 'removed') throw new AppError('removed_from_conversation');
    if (!(await this.ctx.storage.consumeInvite(invite.id))) throw new AppError('invite_exhausted');
    return this.membership.join(actor, invite.conversationId, existing?.role ?? 'member');
  }

  private async usable(token: string): Promise<InviteRecord> {
    const invite = await this.ctx.storage.getInviteByTokenHash(hashToken(token));
    if (!invite) throw new AppError('invite_not_found');
    if (invite.revokedAt !== null) throw new AppError('invite_revoked');
    if (invite.expiresAt !== null && invite.expiresAt <= this.ctx.now()) throw new AppError('invite_expired');
    if (invite.maxUses !== null && invite.uses >= invite.maxUses) throw new AppError('invite_exhausted');
    return invite;
  }
}
