import type { Conversation } from '@parley/sdk';
import type { TestUser } from './users.js';

/**
 * The owner creates a conversation and every other user joins it through an invite link.
 * Returns each user's own `Conversation` object, owner first.
 *
 * @example
 * const [mine, theirs] = await sharedConversation('Lunch', alice, bob);
 */
export async function sharedConversation(title: string, owner: TestUser, ...members: TestUser[]): Promise<Conversation[]> {
  const { conversation } = await owner.client.createConversation({ title });
  const invite = await conversation.createInvite();
  if (!invite.url) throw new Error('createInvite returned no url');
  const joined = await Promise.all(members.map((m) => m.client.joinByInvite(invite.url!)));
  return [conversation, ...joined];
}
