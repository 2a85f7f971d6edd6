import type { ConversationSummary, Invitation, Participant, Role } from '@parley/protocol';
import { AppError } from '../errors.js';
import type { ParticipantRecord, UserRecord } from '../storage/storage.js';
import { publish, type DomainContext } from './context.js';
import { provisionUser } from './external-users.js';
import type { Conversations } from './conversations.js';
import { requireAdmin, requireConversation, requireJoined } from './policies.js';
import { presentInvitation, presentParticipant } from './presenters.js';

/**
 * Kandy's invitation lifecycle with Twilio's roles: invite, accept, decline, remove,
 * leave, and handing over the admin role. Every change is committed, then published to
 * the conversation so every member's participant list updates live.
 *
 * @example
 * await membership.add(admin, conversationId, 'grace');   // grace gets invitationReceived
 * await membership.accept(grace, conversationId);         // everyone gets participantJoined
 */
export class Membership {
  constructor(
    private readonly ctx: DomainContext,
    private readonly conversations: Conversations,
  ) {}

  /**
   * Every participant, whatever their status; the joined ones with `online`, since presence is
   * shared among the members of a conversation (invited or departed users' is not shown).
   */
  async list(actor: UserRecord, conversationId: string): Promise<Participant[]> {
    await requireJoined(this.ctx, conversationId, actor.id);
    const participants = (await this.ctx.storage.listParticipants(conversationId)).map(presentParticipant);
    const joined = participants.filter((p) => p.status === 'joined');
    const online = await this.onlineAmong(joined.map((p) => p.userId));
    if (online !== undefined) for (const p of joined) p.online = online.has(p.userId);
    return participants;
  }

  /** Who of `userIds` is online; undefined (presence left out, not guessed) when it cannot be told. */
  private async onlineAmong(userIds: string[]): Promise<Set<string> | undefined> {
    try {
      return await this.ctx.presence.online(userIds);
    } catch (err) {
      this.ctx.log.warn({ err }, 'presence lookup failed');
      return undefined;
    }
  }

  async pendingInvitations(actor: UserRecord): Promise<Invitation[]> {
    return (await this.ctx.storage.listPendingInvitations(actor.id)).map(presentInvitation);
  }

  /**
   * Admin invites a user by username; a declined, departed or removed user can be invited again.
   * With `provision` (an integrator's server-side call) a username not seen before becomes a
   * user, once the actor is known to be an admin.
   */
  async add(actor: UserRecord, conversationId: string, username: string, opts: { provision?: boolean } = {}): Promise<Participant> {
    await requireAdmin(this.ctx, conversationId, actor.id);
    const conversation = await requireConversation(this.ctx, conversationId);
    const user = opts.provision ? await provisionUser(this.ctx, username) : await this.ctx.storage.getUserByUsername(username);
    if (!user) throw new AppError('user_not_found', `No user has the username "${username.toLowerCase()}"`);
    const existing = await this.ctx.storage.getParticipant(conversationId, user.id);
    if (existing?.status === 'joined') throw new AppError('already_participant');
    if (existing?.status === 'invited') throw new AppError('already_invited');
    const now = this.ctx.now();
    const row = await this.ctx.storage.setParticipantStatus(conversationId, user.id, {
      status: 'invited',
      role: 'member',
      invitedBy: actor.id,
      now,
    });
    await this.announce(row, 'participantUpdated');
    const invitation = {
      conversationId,
      title: conversation.title,
      subject: conversation.subject,
      invitedBy: actor.username,
      invitedAt: now,
    };
    await publish(this.ctx, { userIds: [user.id] }, { name: 'invitationReceived', data: { invitation } });
    return presentParticipant(row);
  }

  async accept(actor: UserRecord, conversationId: string): Promise<ConversationSummary> {
    const existing = await this.ctx.storage.getParticipant(conversationId, actor.id);
    if (existing?.status !== 'invited') throw new AppError('invitation_not_found');
    return this.join(actor, conversationId, existing.role);
  }

  async decline(actor: UserRecord, conversationId: string): Promise<void> {
    const existing = await this.ctx.storage.getParticipant(conversationId, actor.id);
    if (existing?.status !== 'invited') throw new AppError('invitation_not_found');
    const row = await this.ctx.storage.setParticipantStatus(conversationId, actor.id, { status: 'declined', now: this.ctx.now() });
    await this.announce(row, 'participantUpdated');
    await publish(this.ctx, { userIds: [actor.id] }, { name: 'invitationRemoved', data: { conversationId } });
  }

  /** Makes the user a joined participant and tells everyone, including the user's other tabs. */
  async join(actor: UserRecord, conversationId: string, role: Role = 'member'): Promise<ConversationSummary> {
    const row = await this.ctx.storage.setParticipantStatus(conversationId, actor.id, {
      status: 'joined',
      role,
      readFromLatest: true,
      now: this.ctx.now(),
    });
    // Members learn whether the newcomer is online with the join: no presenceChanged told them.
    const participant = presentParticipant(row);
    const online = await this.onlineAmong([actor.id]);
    if (online !== undefined) participant.online = online.has(actor.id);
    await publish(
      this.ctx,
      { conversationId },
      { name: 'participantJoined', data: { conversationId, participant } },
      { kind: 'joined', conversationId, userId: actor.id },
    );
    const summary = await this.conversations.summaryFor(conversationId, actor.id);
    await publish(this.ctx, { userIds: [actor.id] }, { name: 'conversationAdded', data: { conversation: summary } });
    await publish(this.ctx, { userIds: [actor.id] }, { name: 'invitationRemoved', data: { conversationId } });
    return summary;
  }

  /** The summary for a user who has already joined. */
  joinedSummary(actor: UserRecord, conversationId: string): Promise<ConversationSummary> {
    return this.conversations.summaryFor(conversationId, actor.id);
  }

  /** Admin removes a joined or invited participant; their open sockets stop receiving at once. */
  async remove(actor: UserRecord, conversationId: string, userId: string): Promise<void> {
    await requireAdmin(this.ctx, conversationId, actor.id);
    if (userId === actor.id) throw new AppError('cannot_target_self');
    const target = await this.ctx.storage.getParticipant(conversationId, userId);
    if (!target || (target.status !== 'joined' && target.status !== 'invited')) throw new AppError('participant_not_found');
    const row = await this.ctx.storage.setParticipantStatus(conversationId, userId, { status: 'removed', now: this.ctx.now() });
    if (target.status === 'invited') {
      await this.announce(row, 'participantLeft');
      await publish(this.ctx, { userIds: [userId] }, { name: 'invitationRemoved', data: { conversationId } });
      return;
    }
    await this.depart(row, 'removed');
  }

  /** A member leaves; the last admin must hand over the role or delete the conversation first. */
  async leave(actor: UserRecord, conversationId: string): Promise<void> {
    const me = await requireJoined(this.ctx, conversationId, actor.id);
    if (me.role === 'admin' && (await this.ctx.storage.countJoinedAdmins(conversationId)) <= 1) {
      throw new AppError('last_admin_cannot_leave');
    }
    const row = await this.ctx.storage.setParticipantStatus(conversationId, actor.id, { status: 'left', now: this.ctx.now() });
    await this.depart(row, 'left');
  }

  /** Admin changes a joined participant's role; demoting the last admin is refused. */
  async setRole(actor: UserRecord, conversationId: string, userId: string, role: Role): Promise<Participant> {
    await requireAdmin(this.ctx, conversationId, actor.id);
    const target = await this.ctx.storage.getParticipant(conversationId, userId);
    if (!target || (target.status !== 'joined' && target.status !== 'invited')) throw new AppError('participant_not_found');
    if (target.status !== 'joined') throw new AppError('participant_not_joined');
    if (target.role === 'admin' && role === 'member' && (await this.ctx.storage.countJoinedAdmins(conversationId)) <= 1) {
      throw new AppError('last_admin_cannot_leave', 'A conversation needs an admin: make someone else admin first');
    }
    const row = await this.ctx.storage.setParticipantRole(conversationId, userId, role, this.ctx.now());
    if (!row) throw new AppError('participant_not_found');
    await this.announce(row, 'participantUpdated');
    return presentParticipant(row);
  }

  private async depart(row: ParticipantRecord, reason: 'left' | 'removed'): Promise<void> {
    const { conversationId, userId } = row;
    // The membership change travels with the event, so every gateway unsubscribes the
    // departing user's sockets before anything later in the stream is delivered.
    await publish(
      this.ctx,
      { conversationId },
      { name: 'participantLeft', data: { conversationId, participant: presentParticipant(row) } },
      { kind: 'gone', conversationId, userId },
    );
    await publish(this.ctx, { userIds: [userId] }, { name: 'conversationRemoved', data: { conversationId, reason } });
  }

  private async announce(row: ParticipantRecord, name: 'participantUpdated' | 'participantLeft'): Promise<void> {
    await publish(this.ctx, { conversationId: row.conversationId }, {
      name,
      data: { conversationId: row.conversationId, participant: presentParticipant(row) },
    });
  }
}
