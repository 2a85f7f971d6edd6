import { describe, expect, it } from 'vitest';
import { ParleyError, codeForStatus } from './errors.js';

describe('ParleyError', () => {
  it('maps an error body to code, status and message', () => {
    const err = ParleyError.fromResponse(404, {
      error: { code: 'conversation_not_found', message: 'Conversation not found' },
    });
    expect(err).toBeInstanceOf(ParleyError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('conversation_not_found');
    expect(err.status).toBe(404);
    expect(err.message).toBe('Conversation not found');
    expect(err.retryable).toBe(false);
    expect(err.name).toBe('ParleyError');
  });

  it('reads retry hints from the body or the Retry-After header', () => {
    const fromBody = ParleyError.fromResponse(429, { error: { code: 'rate_limited', message: 'slow', retryAfterMs: 1500 } });
    expect(fromBody.retryAfterMs).toBe(1500);
    expect(fromBody.retryable).toBe(true);
    const fromHeader = ParleyError.fromResponse(429, { error: { code: 'rate_limited', message: 'slow' } }, '2');
    expect(fromHeader.retryAfterMs).toBe(2000);
  });

  it('keeps validation details', () => {
    const err = ParleyError.fromResponse(400, {
      error: { code: 'validation_failed', message: 'body/title must NOT have more than 100 characters', details: [{ path: '/title' }] },
    });
    expect(err.details).toEqual([{ path: '/title' }]);
    expect(err.message).toContain('body/title');
  });

  it('falls back on the status for unknown codes and non-JSON bodies', () => {
    const unknown = ParleyError.fromResponse(409, { error: { code: 'something_new', message: 'new' } });
    expect(unknown.status).toBe(409);
    expect(unknown.details).toEqual({ serverCode: 'something_new' });
    const html = ParleyError.fromResponse(502, '<html>Bad gateway</html>');
    expect(html.code).toBe('unavailable');
    expect(html.retryable).toBe(true);
    expect(ParleyError.fromResponse(500, undefined).code).toBe('internal');
    expect(ParleyError.fromResponse(500, undefined).retryable).toBe(false);
  });

  it('accepts problem+json with a top-level code', () => {
    const err = ParleyError.fromResponse(403, { type: 'about:blank', code: 'not_admin', detail: 'Only admins' });
    expect(err.code).toBe('not_admin');
    expect(err.message).toBe('Only admins');
  });

  it('maps WebSocket error frames', () => {
    const err = ParleyError.fromFrame({ code: 'removed_from_conversation', message: 'You were removed' });
    expect(err.code).toBe('removed_from_conversation');
    expect(err.status).toBe(403);
    expect(ParleyError.fromFrame({ code: 'rate_limited', message: 'x', retryAfterMs: 100 }).retryAfterMs).toBe(100);
  });

  it('wraps network failures as retryable status 0', () => {
    const cause = new TypeError('fetch failed');
    const err = ParleyError.network(cause);
    expect(err.code).toBe('unavailable');
    expect(err.status).toBe(0);
    expect(err.retryable).toBe(true);
    expect(err.cause).toBe(cause);
  });

  it('picks a code for every status', () => {
    expect(codeForStatus(400)).toBe('validation_failed');
    expect(codeForStatus(401)).toBe('unauthenticated');
    expect(codeForStatus(404)).toBe('not_found');
    expect(codeForStatus(429)).toBe('rate_limited');
    expect(codeForStatus(503)).toBe('unavailable');
  });
});
