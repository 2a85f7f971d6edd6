import { LIMITS } from '@parley/protocol';

/** Everything the server reads from its environment, parsed once at start. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** postgres://... to use PostgreSQL; SQLite under dataDir otherwise. */
  databaseUrl: string | undefined;
  /** redis://... to fan out across processes; in-process bus otherwise. */
  redisUrl: string | undefined;
  /** Redis pub/sub channel shared by the processes of one deployment (PARLEY_REDIS_CHANNEL). */
  redisChannel: string;
  /** Public base URL used in invite links; derived from the request when unset. */
  publicUrl: string | undefined;
  logLevel: string;
  tokenTtlSeconds: number;
  sessionTtlSeconds: number;
  messageMaxLength: number;
  /** Directory of the built web app; not served when missing. */
  webDir: string | undefined;
  /** Sends per second per user over REST and WebSocket. */
  sendRatePerSecond: number;
  trustProxy: boolean;
  /** How long a user whose last connection closed still shows online (reloads, quick reconnects). */
  presenceGraceMs: number;
  /** With Redis: how long a silent process counts as alive; its users then show offline. */
  presenceTtlMs: number;
  /** How long a webhook receiver has to answer one delivery before it counts as failed. */
  webhookTimeoutMs: number;
  /** The longest wait between two attempts of a failing webhook delivery (they double from 1 s up to it). */
  webhookRetryMaxMs: number;
}

/** Thrown when one or more variables are invalid; lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function intVar(env: Env, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
    return fallback;
  }
  return value;
}

function urlVar(env: Env, name: string, schemes: string[], problems: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  try {
    const url = new URL(raw);
    if (!schemes.includes(url.protocol)) {
      problems.push(`${name} must start with ${schemes.map((s) => `${s}//`).join(' or ')} (got "${url.protocol}//...")`);
    }
  } catch {
    problems.push(`${name} is not a valid URL`);
  }
  return raw;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Reads and validates the configuration; reports every bad variable at once.
 *
 * @example
 * const config = loadConfig(process.env); // throws ConfigError listing all problems
 */
export function loadConfig(env: Env, defaults: { webDir?: string } = {}): Config {
  const problems: string[] = [];
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const trustProxy = env.PARLEY_TRUST_PROXY ?? 'false';
  if (!['true', 'false'].includes(trustProxy)) problems.push('PARLEY_TRUST_PROXY must be true or false');
  const config: Config = {
    port: intVar(env, 'PORT', 8000, 0, 65535, problems),
    host: env.HOST ?? '0.0.0.0',
    dataDir: env.PARLEY_DATA_DIR ?? './data',
    databaseUrl: urlVar(env, 'DATABASE_URL', ['postgres:', 'postgresql:'], problems),
    redisUrl: urlVar(env, 'REDIS_URL', ['redis:', 'rediss:'], problems),
    redisChannel: env.PARLEY_REDIS_CHANNEL || 'parley:bus',
    publicUrl: urlVar(env, 'PARLEY_PUBLIC_URL', ['http:', 'https:'], problems),
    logLevel,
    tokenTtlSeconds: intVar(env, 'PARLEY_TOKEN_TTL_SECONDS', 3600, 5, 7 * 24 * 3600, problems),
    sessionTtlSeconds: intVar(env, 'PARLEY_SESSION_TTL_SECONDS', 30 * 24 * 3600, 60, 365 * 24 * 3600, problems),
    messageMaxLength: intVar(env, 'PARLEY_MESSAGE_MAX_LENGTH', LIMITS.messageBodyMax, 1, LIMITS.messageBodyMax, problems),
    webDir: env.PARLEY_WEB_DIR ?? defaults.webDir,
    sendRatePerSecond: intVar(env, 'PARLEY_SEND_RATE_PER_SECOND', 50, 1, 1_000_000, problems),
    trustProxy: trustProxy === 'true',
    presenceGraceMs: intVar(env, 'PARLEY_PRESENCE_GRACE_MS', 2000, 0, 60_000, problems),
    presenceTtlMs: intVar(env, 'PARLEY_PRESENCE_TTL_MS', 15_000, 300, 600_000, problems),
    webhookTimeoutMs: intVar(env, 'PARLEY_WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000, problems),
    webhookRetryMaxMs: intVar(env, 'PARLEY_WEBHOOK_RETRY_MAX_MS', 300_000, 100, 24 * 3600_000, problems),
  };
  if (env.PARLEY_DATA_DIR === '') problems.push('PARLEY_DATA_DIR must not be empty');
  if (/\s/.test(config.redisChannel)) problems.push('PARLEY_REDIS_CHANNEL must not contain whitespace');
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
