import { ERRORS, type ErrorCode } from '@parley/protocol';

/**
 * The only error the domain and routes throw on purpose: a code from the catalogue, an
 * optional sharper message, details and a retry hint. Anything else becomes an opaque 500.
 *
 * @example
 * throw new AppError('conversation_not_found');
 * throw new AppError('validation_failed', 'body/title must NOT be empty');
 */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: unknown,
    readonly retryAfterMs?: number,
  ) {
    super(message ?? ERRORS[code].message);
    this.name = 'AppError';
    this.status = ERRORS[code].status;
  }

  /** The wire form: `{ error: { code, message } }`. */
  toBody(): { error: { code: ErrorCode; message: string; details?: unknown; retryAfterMs?: number } } {
    const error: { code: ErrorCode; message: string; details?: unknown; retryAfterMs?: number } = {
      code: this.code,
      message: this.message,
    };
    if (this.details !== undefined) error.details = this.details;
    if (this.retryAfterMs !== undefined) error.retryAfterMs = this.retryAfterMs;
    return { error };
  }
}
