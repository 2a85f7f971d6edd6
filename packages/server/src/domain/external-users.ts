import { USERNAME_PATTERN } from '@parley/protocol';
import { AppError } from '../errors.js';
import { newId } from '../ids.js';
import { UniqueViolation, type UserRecord } from '../storage/storage.js';
import type { DomainContext } from './context.js';

/**
 * The password hash of a user created for an integrator's identity (first seen in a token signed
 * with the integrator's key, or named in a server-side call). It is not a scrypt hash, so no
 * password ever matches it: such a user signs in only through the site's tokens.
 */
export const EXTERNAL_USER_HASH = 'external';

const IDENTITY = new RegExp(USERNAME_PATTERN);

/** True when `identity` can be a Parley username. */
export function isIdentity(identity: string): boolean {
  return IDENTITY.test(identity);
}

/** The message for an identity that cannot be a username. */
export const notAnIdentity = (identity: string): string => `The identity "${identity}" is not a valid username (3-32 of A-Z a-z 0-9 _ . -)`;

/**
 * The user whose username is `identity`, created (with no password) if there is none; for
 * identities an integrator vouches for. Throws `validation_failed` for an invalid username.
 *
 * @example
 * const ann = await provisionUser(ctx, 'shop.ann');
 */
export async function provisionUser(ctx: DomainContext, identity: string): Promise<UserRecord> {
  if (!isIdentity(identity)) throw new AppError('validation_failed', notAnIdentity(identity));
  const username = identity.toLowerCase();
  const existing = await ctx.storage.getUserByUsername(username);
  if (existing) return existing;
  const user: UserRecord = { id: newId('US'), username, passwordHash: EXTERNAL_USER_HASH, createdAt: ctx.now() };
  try {
    await ctx.storage.createUser(user);
    return user;
  } catch (err) {
    // Created meanwhile by another request or process: that one is the user.
    if (!(err instanceof UniqueViolation)) throw err;
    const raced = await ctx.storage.getUserByUsername(username);
    if (!raced) throw err;
    return raced;
  }
}
