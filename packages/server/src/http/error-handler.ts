import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { twilioError } from './twilio/twilio-resources.js';

/** Fastify's own client errors, mapped onto the catalogue. */
function fromFastify(err: FastifyError): AppError | undefined {
  if (err.validation) {
    const where = err.validationContext ?? 'request';
    const detail = err.validation[0];
    const path = detail?.instancePath ? `${where}${detail.instancePath}` : where;
    let message = `${path} ${detail?.message ?? 'is invalid'}`;
    if (detail?.keyword === 'additionalProperties') {
      message = `${path} has an unknown field "${String((detail.params as { additionalProperty?: unknown }).additionalProperty)}"`;
    }
    return new AppError('validation_failed', message, err.validation);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('malformed_json', err.message);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('body_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('validation_failed', 'Content-Length does not match the body');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('validation_failed', 'A path segment is longer than any id (at most 100 characters)');
    case 'FST_ERR_BAD_URL':
      return new AppError('validation_failed', 'The URL has a path segment that is not valid percent-encoded UTF-8');
  }
  if (err instanceof SyntaxError) return new AppError('malformed_json', 'The body is not valid JSON');
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new AppError('validation_failed', err.message);
  }
  return undefined;
}

/** Connection-level database or network failures: the request may succeed if retried. */
function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'SQLITE_BUSY'].includes(code)) return true;
    // PostgreSQL: 08xxx connection exceptions, 57P01-57P03 shutdown / cannot connect now.
    if (/^(08|57P0[123])/.test(code)) return true;
  }
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
}

/**
 * Any error a route threw, as an entry of the catalogue: Fastify's client errors by their
 * meaning, an unreachable dependency as `unavailable` (retry in 1 s), anything else as an
 * opaque `internal`, logged with its stack.
 *
 * @example
 * const appError = classifyError(err, request); // reply.status(appError.status)
 */
export function classifyError(err: FastifyError, request: FastifyRequest): AppError {
  const appError = err instanceof AppError ? err : fromFastify(err);
  if (appError) return appError;
  if (isUnavailable(err)) {
    request.log.warn({ err }, 'dependency unavailable');
    return new AppError('unavailable', 'A dependency is unreachable; retry shortly', undefined, 1000);
  }
  request.log.error({ err }, 'unhandled error');
  return new AppError('internal');
}

/**
 * One handler renders every error of `app` (and of the scopes it holds), and every unknown
 * route, with `render`: by default `{ error: { code, message } }`; the `/v1` scope renders
 * Twilio's shape. Unknown errors are logged with their stack and become an opaque 500: no stack
 * trace ever reaches a client.
 *
 * @example
 * installErrorHandler(app);
 * installErrorHandler(v1, twilioError);
 */
export function installErrorHandler(app: FastifyInstance, render: (error: AppError) => unknown = (error) => error.toBody()): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const appError = classifyError(err, request);
    if (appError.retryAfterMs !== undefined) reply.header('retry-after', Math.ceil(appError.retryAfterMs / 1000));
    return reply.status(appError.status).send(render(appError));
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new AppError('route_not_found', `No route ${request.method} ${request.url.split('?')[0]}`);
    return reply.status(404).send(render(error));
  });
}

/**
 * Fastify's `frameworkErrors`: the router's own refusals (a path segment that is not valid
 * percent-encoded UTF-8, or longer than the router takes) in the catalogue's shape, instead of
 * Fastify's default bodies (which echo the whole URL back).
 *
 * @example
 * Fastify({ frameworkErrors });
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const appError = fromFastify(error) ?? new AppError('validation_failed', error.message);
  // The router answers before any scope's own handler: /v1 keeps Twilio's shape here too.
  const body = request.url.startsWith('/v1/') ? twilioError(appError) : appError.toBody();
  void reply.status(appError.status).send(body);
}
