import type {
  ConversationResponse,
  CreateConversationResponse,
  Invitation,
  InvitationsResponse,
  InvitePolicy,
  InvitePreviewResponse,
} from '@parley/protocol';
import type { Conversation } from './conversation.js';
import { ClientCore } from './core.js';
import { TypedEmitter } from './emitter.js';
import { ParleyError } from './errors.js';
import { seg } from './http.js';
import type { ConnectionState } from './socket.js';
import type { ClientEvents, ClientOptions } from './types.js';

/** Options for {@link Client.createConversation}. */
export interface CreateConversationOptions {
  title: string;
  subject?: string;
  /** Usernames to invite. */
  participants?: string[];
  invitePolicy?: InvitePolicy;
  attributes?: Record<string, unknown>;
}

/**
 * The Parley client: one WebSocket for real-time events plus REST calls, named after
 * `@twilio/conversations`. It reconnects by itself with jittered backoff, resumes from the last
 * message seen in every conversation (each message reaches `messageAdded` exactly once, in
 * order), re-sends unacknowledged messages, and refreshes its token through `getToken`.
 *
 * @example
 * import { AuthClient, Client } from '@parley/sdk';
 * import { WebSocket } from 'ws'; // Node only; browsers have a global WebSocket
 *
 * const auth = new AuthClient({ baseUrl: 'http://localhost:8000' });
 * await auth.signIn('ada', 'correct horse battery');
 * const client = await Client.create(await auth.getToken(), {
 *   baseUrl: 'http://localhost:8000',
 *   getToken: () => auth.getToken(),
 *   WebSocket,
 * });
 * client.on('messageAdded', (m) => console.log(`${m.author}: ${m.body}`));
 */
export class Client extends TypedEmitter<ClientEvents> {
  private readonly core: ClientCore;

  private constructor(token: string, opts: ClientOptions) {
    super();
    this.core = new ClientCore(token, opts, this);
  }

  /**
   * Connects and resolves once the server has said `ready` and the conversation list is loaded.
   * Rejects with a `ParleyError` if the token is refused and cannot be refreshed.
   *
   * @example
   * const client = await Client.create(token, { baseUrl: 'https://chat.example.com', getToken: fetchToken });
   */
  static async create(token: string, opts: ClientOptions): Promise<Client> {
    const client = new Client(token, opts);
    await client.core.start();
    return client;
  }

  /**
   * The signed-in user: id and identity (username).
   *
   * @example
   * const mine = message.authorId === client.user.id;
   */
  get user(): { id: string; identity: string } {
    return { id: this.core.userId, identity: this.core.identity };
  }

  /**
   * `connecting`, `connected`, `disconnected` (waiting to reconnect) or `denied` (token refused).
   *
   * @example
   * banner.hidden = client.connectionState === 'connected';
   */
  get connectionState(): ConnectionState {
    return this.core.realtime.state;
  }

  /**
   * Every conversation I have joined (all pages), newest activity first. Instances are shared:
   * the same id always gives the same object.
   *
   * @example
   * for (const c of await client.getSubscribedConversations()) console.log(c.title, c.unreadCount);
   */
  async getSubscribedConversations(): Promise<Conversation[]> {
    const list = await this.core.listAll();
    return list.map((summary) => this.core.upsert(summary, true));
  }

  /**
   * One conversation I have joined (`conversation_not_found` otherwise).
   *
   * @example
   * const conversation = await client.getConversation(params.id);
   */
  async getConversation(id: string): Promise<Conversation> {
    const res = await this.core.http.request<ConversationResponse>('GET', `/conversations/${seg(id)}`);
    return this.core.upsert(res.conversation, true);
  }

  /**
   * Follows the presence of these users (replacing whom I followed before); only those who
   * share a conversation with me are followed. Resolves with each followed user's state now;
   * `presenceChanged` then reports each change, including those missed while disconnected.
   *
   * @example
   * const ids = (await conversation.getParticipants()).map((p) => p.userId);
   * const online = await client.watchPresence(ids); // Map { 'US1' => true, ... }
   * client.on('presenceChanged', ({ userId, online }) => render(userId, online));
   */
  watchPresence(userIds: string[]): Promise<Map<string, boolean>> {
    return this.core.watchPresence(userIds);
  }

  /**
   * Whether a user I follow (`watchPresence`) is online now; undefined for anyone else.
   *
   * @example
   * badge.textContent = client.isOnline(userId) ? 'online' : 'offline';
   */
  isOnline(userId: string): boolean | undefined {
    return this.core.isOnline(userId);
  }

  /**
   * Creates a conversation with me as admin; named users get invitations.
   *
   * @example
   * const { conversation, unknownUsernames } = await client.createConversation({ title: 'Launch', participants: ['grace'] });
   */
  async createConversation(
    opts: CreateConversationOptions,
  ): Promise<{ conversation: Conversation; invited: string[]; unknownUsernames: string[] }> {
    const res = await this.core.http.request<CreateConversationResponse>('POST', '/conversations', { body: opts });
    const conversation = this.core.upsert(res.conversation, true);
    return { conversation, invited: res.invited, unknownUsernames: res.unknownUsernames };
  }

  /**
   * My pending invitations.
   *
   * @example
   * const invitations = await client.getInvitations();
   */
  async getInvitations(): Promise<Invitation[]> {
    const res = await this.core.http.request<InvitationsResponse>('GET', '/invitations');
    return res.invitations;
  }

  /**
   * Accepts an invitation; the conversation also arrives as `conversationAdded`.
   *
   * @example
   * client.on('invitationReceived', async (inv) => { await client.acceptInvitation(inv.conversationId); });
   */
  async acceptInvitation(conversationId: string): Promise<Conversation> {
    const path = `/invitations/${seg(conversationId)}/accept`;
    const res = await this.core.http.request<ConversationResponse>('POST', path);
    return this.core.upsert(res.conversation, true);
  }

  /**
   * Declines an invitation.
   *
   * @example
   * await client.declineInvitation(invitation.conversationId);
   */
  async declineInvitation(conversationId: string): Promise<void> {
    await this.core.http.request<void>('POST', `/invitations/${seg(conversationId)}/decline`);
  }

  /**
   * What an invite link leads to, without joining (`invite_not_found`, `invite_expired`, ...).
   *
   * @example
   * const { title } = await client.previewInvite(token);
   */
  previewInvite(tokenOrUrl: string): Promise<InvitePreviewResponse> {
    return this.core.http.request<InvitePreviewResponse>('GET', `/invites/${seg(inviteToken(tokenOrUrl))}`);
  }

  /**
   * Joins through an invite link; accepts the raw token or the whole `.../join/<token>` URL.
   * Joining a conversation I am already in just returns it.
   *
   * @example
   * const conversation = await client.joinByInvite('https://chat.example.com/join/3q2-...');
   */
  async joinByInvite(tokenOrUrl: string): Promise<Conversation> {
    const path = `/invites/${seg(inviteToken(tokenOrUrl))}/join`;
    const res = await this.core.http.request<ConversationResponse>('POST', path);
    return this.core.upsert(res.conversation, true);
  }

  /**
   * Replaces the access token (when not using `getToken`, answer `tokenAboutToExpire` with it).
   *
   * @example
   * client.on('tokenAboutToExpire', async () => client.updateToken(await fetchToken()));
   */
  updateToken(token: string): Promise<void> {
    return this.core.updateToken(token);
  }

  /**
   * Closes the connection for good; unacknowledged sends are rejected.
   *
   * @example
   * await client.shutdown();
   */
  async shutdown(): Promise<void> {
    this.core.shutdown();
  }
}

/**
 * The token in an invite link, or the argument itself when it is already a bare token.
 *
 * @example
 * inviteToken('http://localhost:8000/join/abc?x=1') // 'abc'
 */
export function inviteToken(tokenOrUrl: string): string {
  const trimmed = tokenOrUrl.trim();
  const match = /\/join\/([^/?#]+)/.exec(trimmed);
  const token = match?.[1] !== undefined ? decodeURIComponent(match[1]) : trimmed;
  if (!token) throw new ParleyError('invite_not_found', 'No invite token given');
  return token;
}
