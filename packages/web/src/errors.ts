import { InvitePreviewError } from './invite-preview.js';
import { ParleyError } from './sdk.js';

/** Words for the invite-link failures, shown on the error page. */
export const INVITE_ERRORS: Record<string, { title: string; body: string }> = {
  invite_not_found: {
    title: 'This invite link does not exist',
    body: 'Check that you copied the whole link, or ask for a new one.',
  },
  invite_revoked: {
    title: 'This invite link has been revoked',
    body: 'Whoever shared it has turned it off. Ask a member of the conversation for a new link.',
  },
  invite_expired: {
    title: 'This invite link has expired',
    body: 'Invite links can be given an expiry date, and this one has passed it. Ask for a new link.',
  },
  invite_exhausted: {
    title: 'This invite link has been used up',
    body: 'It has reached the number of uses it was created for. Ask for a new link.',
  },
};

/** The error code of a failure, if the server gave one. */
export function errorCode(error: unknown): string | null {
  if (error instanceof ParleyError || error instanceof InvitePreviewError) return error.code;
  return null;
}

/** A sentence for the user: the server's own message, or a plain description of what failed. */
export function describeError(error: unknown): string {
  if (error instanceof ParleyError || error instanceof InvitePreviewError) return error.message;
  if (error instanceof TypeError) return 'Could not reach the server. Check your connection and try again.';
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong. Please try again.';
}
