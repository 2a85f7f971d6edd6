/**
 * The one catalogue of error codes. The server renders every failure as
 * `{ error: { code, message } }` with the status given here; the SDK throws
 * `ParleyError` carrying the same code.
 *
 * @example
 * ERRORS.conversation_not_found.status // 404
 */
export const ERRORS = {
  validation_failed: { status: 400, message: 'The request is invalid' },
  malformed_json: { status: 400, message: 'The body is not valid JSON' },
  unsupported_media_type: { status: 415, message: 'The body must be application/json' },
  body_too_large: { status: 413, message: 'The body is too large' },
  frame_too_large: { status: 400, message: 'The frame is too large' },
  unknown_frame: { status: 400, message: 'Unknown frame type' },
  not_found: { status: 404, message: 'Not found' },
  route_not_found: { status: 404, message: 'No such route' },
  unauthenticated: { status: 401, message: 'Sign in first' },
  invalid_token: { status: 401, message: 'The access token is invalid' },
  invalid_api_key: { status: 401, message: 'The API key id or secret is wrong, or the key was revoked' },
  token_expired: { status: 401, message: 'The access token has expired' },
  invalid_credentials: { status: 401, message: 'Wrong username or password' },
  username_taken: { status: 409, message: 'That username is taken' },
  user_not_found: { status: 404, message: 'No user has that username' },
  conversation_not_found: { status: 404, message: 'Conversation not found' },
  participant_not_found: { status: 404, message: 'That user is not a participant' },
  message_not_found: { status: 404, message: 'Message not found' },
  message_removed: { status: 410, message: 'This message was removed' },
  not_message_author: { status: 403, message: 'Only the author of a message can do that' },
  invitation_not_found: { status: 404, message: 'No pending invitation for this conversation' },
  invite_not_found: { status: 404, message: 'This invite link does not exist' },
  invite_revoked: { status: 410, message: 'This invite link has been revoked' },
  invite_expired: { status: 410, message: 'This invite link has expired' },
  invite_exhausted: { status: 410, message: 'This invite link has been used up' },
  not_admin: { status: 403, message: 'Only an admin of this conversation can do that' },
  invites_admin_only: { status: 403, message: 'Only admins may create invite links in this conversation' },
  last_admin_cannot_leave: {
    status: 409,
    message: 'You are the last admin: hand the admin role to another member or delete the conversation',
  },
  already_participant: { status: 409, message: 'That user is already in this conversation' },
  already_invited: { status: 409, message: 'That user already has a pending invitation' },
  webhook_not_found: { status: 404, message: 'This API key has no webhook' },
  unique_name_taken: { status: 409, message: 'Another conversation has that unique name' },
  cannot_target_self: { status: 400, message: 'Use leave to remove yourself' },
  participant_not_joined: { status: 409, message: 'That participant has not joined' },
  removed_from_conversation: {
    status: 403,
    message: 'You were removed from this conversation; ask an admin to add you again',
  },
  rate_limited: { status: 429, message: 'Too many requests; slow down' },
  duplicate_client_id: { status: 409, message: 'That client id was already used for a different message' },
  unavailable: { status: 503, message: 'The service is temporarily unavailable' },
  internal: { status: 500, message: 'Internal server error' },
} as const satisfies Record<string, { status: number; message: string }>;

/** A stable, machine-readable error code. */
export type ErrorCode = keyof typeof ERRORS;

/** The JSON body of every error response and the payload of a WebSocket `error` frame. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown; retryAfterMs?: number };
}

/**
 * True when `code` is a known error code.
 *
 * @example
 * isErrorCode('not_admin') // true
 */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERRORS, code);
}
