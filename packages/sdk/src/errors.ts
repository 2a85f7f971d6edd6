import { ERRORS, isErrorCode, type ErrorCode } from '@parley/protocol';

/** Codes that are worth retrying as-is after a pause. */
const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['rate_limited', 'unavailable']);

/** Options for {@link ParleyError}. */
export interface ParleyErrorOptions {
  /** HTTP status; defaults to the catalogue's status for the code. `0` means no response. */
  status?: number;
  retryAfterMs?: number;
  details?: unknown;
  cause?: unknown;
}

/**
 * Every failure the SDK reports: a REST error response, a WebSocket `error` frame, or a network
 * failure (code `unavailable`, status `0`). `code` is one of the protocol's error codes.
 *
 * @example
 * try {
 *   await conversation.leave();
 * } catch (err) {
 *   if (err instanceof ParleyError && err.code === 'last_admin_cannot_leave') showHandOverDialog();
 * }
 */
export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfterMs?: number;
  readonly details?: unknown;

  constructor(code: ErrorCode, message?: string, opts: ParleyErrorOptions = {}) {
    super(message ?? ERRORS[code].message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ParleyError';
    this.code = code;
    this.status = opts.status ?? ERRORS[code].status;
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
    if (opts.details !== undefined) this.details = opts.details;
  }

  /**
   * True when the same call may succeed if repeated later (network failure, rate limit,
   * temporary unavailability). Wait `retryAfterMs` first when it is set.
   *
   * @example
   * if (err.retryable) setTimeout(retry, err.retryAfterMs ?? 1000);
   */
  get retryable(): boolean {
    if (RETRYABLE_CODES.has(this.code)) return true;
    return this.status === 0 || this.status === 429 || (this.status >= 502 && this.status <= 504);
  }

  /**
   * Builds the error for a failed HTTP response from its status, parsed JSON body (if any) and
   * `Retry-After` header.
   *
   * @example
   * ParleyError.fromResponse(404, { error: { code: 'conversation_not_found', message: 'Conversation not found' } });
   */
  static fromResponse(status: number, body: unknown, retryAfterHeader?: string | null): ParleyError {
    const payload = errorPayload(body);
    const code = isErrorCode(payload.code) ? payload.code : codeForStatus(status);
    const retryAfterMs = payload.retryAfterMs ?? parseRetryAfter(retryAfterHeader);
    const details =
      payload.details ?? (payload.code !== undefined && payload.code !== code ? { serverCode: payload.code } : undefined);
    return new ParleyError(code, payload.message ?? ERRORS[code].message, { status, retryAfterMs, details });
  }

  /**
   * Builds the error for a WebSocket `error` frame.
   *
   * @example
   * ParleyError.fromFrame({ type: 'error', code: 'not_found', message: 'nope' }).status // 404
   */
  static fromFrame(frame: { code: string; message?: string; details?: unknown; retryAfterMs?: number }): ParleyError {
    const code = isErrorCode(frame.code) ? frame.code : 'internal';
    return new ParleyError(code, frame.message ?? ERRORS[code].message, {
      retryAfterMs: frame.retryAfterMs,
      details: frame.details ?? (code !== frame.code ? { serverCode: frame.code } : undefined),
    });
  }

  /**
   * Wraps a network failure (no HTTP response, socket gone): code `unavailable`, status `0`.
   *
   * @example
   * ParleyError.network(new TypeError('fetch failed')).retryable // true
   */
  static network(cause: unknown, message = 'Network error: the server could not be reached'): ParleyError {
    return new ParleyError('unavailable', message, { status: 0, cause });
  }
}

interface ErrorPayload {
  code?: string;
  message?: string;
  details?: unknown;
  retryAfterMs?: number;
}

function errorPayload(body: unknown): ErrorPayload {
  if (typeof body !== 'object' || body === null) return {};
  const inner = (body as { error?: unknown }).error;
  // RFC 9457 problem+json puts `code` at the top level.
  const source = typeof inner === 'object' && inner !== null ? inner : body;
  const rec = source as Record<string, unknown>;
  const out: ErrorPayload = {};
  if (typeof rec.code === 'string') out.code = rec.code;
  const message = rec.message ?? rec.detail;
  if (typeof message === 'string') out.message = message;
  if (rec.details !== undefined) out.details = rec.details;
  if (typeof rec.retryAfterMs === 'number') out.retryAfterMs = rec.retryAfterMs;
  return out;
}

/** The closest catalogue code for a status when the body names none we know. */
export function codeForStatus(status: number): ErrorCode {
  if (status === 400) return 'validation_failed';
  if (status === 401 || status === 403) return 'unauthenticated';
  if (status === 404) return 'not_found';
  if (status === 413) return 'body_too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status === 429) return 'rate_limited';
  if (status === 502 || status === 503 || status === 504) return 'unavailable';
  if (status >= 500) return 'internal';
  return 'validation_failed';
}

function parseRetryAfter(header: string | null | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
