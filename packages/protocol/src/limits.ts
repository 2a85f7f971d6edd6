/**
 * Default limits shared by the server (which enforces them) and clients (which can
 * check early). The server may be configured with a different message length.
 *
 * @example
 * if (body.length > LIMITS.messageBodyMax) throw new Error('too long');
 */
export const LIMITS = {
  usernameMin: 3,
  usernameMax: 32,
  passwordMin: 8,
  passwordMax: 200,
  titleMax: 100,
  subjectMax: 500,
  messageBodyMax: 4000,
  clientIdMax: 64,
  attributesMaxBytes: 16 * 1024,
  pageSizeMax: 100,
  /** Largest message index a request may name: the 32-bit integer the databases store. */
  indexMax: 2_147_483_647,
  pageSizeDefault: 50,
  initialParticipantsMax: 100,
  /** Largest WebSocket frame the server accepts, in bytes. */
  frameMaxBytes: 64 * 1024,
  /** Largest REST body the server accepts, in bytes. */
  bodyMaxBytes: 256 * 1024,
} as const;

/** Usernames: lowercase letters, digits, `_`, `.` and `-`; compared case-insensitively. */
export const USERNAME_PATTERN = '^[A-Za-z0-9_.-]{3,32}$';
