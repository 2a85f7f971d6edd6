import { pino, type Logger } from 'pino';

/**
 * The process logger: JSON lines, secrets redacted wherever they may appear.
 *
 * @example
 * const log = createLogger('info');
 * log.child({ module: 'gateway' }).info('ready');
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        'password',
        '*.password',
        'token',
        '*.token',
        'secret',
        '*.secret',
      ],
      censor: '[redacted]',
    },
  });
}
