import type { TokenService } from '../auth/tokens.js';
import { Accounts } from './accounts.js';
import type { DomainContext } from './context.js';
import { Conversations } from './conversations.js';
import { Invites } from './invites.js';
import { Membership } from './membership.js';
import { Messages } from './messages.js';
import { Webhooks } from './webhooks.js';

/** Every domain command, wired once per process and shared by REST routes and the gateway. */
export interface Domain {
  ctx: DomainContext;
  accounts: Accounts;
  conversations: Conversations;
  membership: Membership;
  messages: Messages;
  invites: Invites;
  webhooks: Webhooks;
}

/**
 * Wires the domain commands over one context.
 *
 * @example
 * const domain = createDomain(ctx, tokens);
 * await domain.messages.send(user, conversationId, { body: 'hi', clientId: 'c1' });
 */
export function createDomain(ctx: DomainContext, tokens: TokenService): Domain {
  const conversations = new Conversations(ctx);
  const membership = new Membership(ctx, conversations);
  return {
    ctx,
    accounts: new Accounts(ctx, tokens),
    conversations,
    membership,
    messages: new Messages(ctx),
    invites: new Invites(ctx, membership),
    webhooks: new Webhooks(ctx),
  };
}
