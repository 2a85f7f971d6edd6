import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { PresenceStore } from './presence.js';

/** Options for `RedisPresence.connect`. */
export interface RedisPresenceOptions {
  /** Key prefix; processes share presence only under the same prefix (the bus channel's name). */
  prefix: string;
  /**
   * How long a process counts as alive after its last heartbeat, in ms. It beats three times
   * per period; a process silent for longer is taken for dead, and its users for offline.
   */
  ttlMs: number;
  /** Told when the store could not be reached (a heartbeat or a reap failed). */
  onError?: (err: unknown) => void;
}

/*
 * The keys, under `prefix`:
 * - `<prefix>:procs`: the set of process ids;
 * - `<prefix>:users:<pid>`: the set of user ids with a connection on that process;
 * - `<prefix>:alive:<pid>`: present while that process beats (PX ttl).
 * Each script runs atomically, so two processes never both see the other as the one holding a
 * user, and one dead process is reaped by exactly one live one. The scripts name keys they
 * build themselves, so this works on one Redis, not on Redis Cluster.
 */

/**
 * Lua every script starts with: whether a process other than `skip` (nil: any) holds `user`.
 * Processes are few, so this is a few SISMEMBERs.
 */
const HELD = `
local function held(prefix, user, skip)
  for _, pid in ipairs(redis.call('smembers', prefix .. ':procs')) do
    if pid ~= skip and redis.call('sismember', prefix .. ':users:' .. pid, user) == 1 then return true end
  end
  return false
end`;

/** ARGV: prefix, me, user. 1 when no other process had the user (and this one had not already). */
const CONNECTED = `${HELD}
redis.call('sadd', ARGV[1] .. ':procs', ARGV[2])
if redis.call('sadd', ARGV[1] .. ':users:' .. ARGV[2], ARGV[3]) == 0 then return 0 end
if held(ARGV[1], ARGV[3], ARGV[2]) then return 0 end
return 1`;

/** ARGV: prefix, me, user. 1 when this process had the user and no other process has it. */
const DISCONNECTED = `${HELD}
if redis.call('srem', ARGV[1] .. ':users:' .. ARGV[2], ARGV[3]) == 0 then return 0 end
if held(ARGV[1], ARGV[3], nil) then return 0 end
return 1`;

/** ARGV: prefix, users... One flag per user: 1 when some process has it. */
const ONLINE = `${HELD}
local out = {}
for i = 2, #ARGV do out[#out + 1] = held(ARGV[1], ARGV[i], nil) and 1 or 0 end
return out`;

/**
 * ARGV: prefix, me, ttl ms. Beats, then takes every process whose beat has lapsed out of the
 * set, and returns its users that no live process has: they went offline with it. Returns
 * `{ reaped, lost... }`, where reaped is 1 when this process had itself been taken for dead
 * (a pause longer than the ttl), so that it puts its users back.
 */
const BEAT = `${HELD}
local procs = ARGV[1] .. ':procs'
redis.call('set', ARGV[1] .. ':alive:' .. ARGV[2], '1', 'PX', ARGV[3])
local reaped = redis.call('sadd', procs, ARGV[2])
local out = { reaped }
for _, pid in ipairs(redis.call('smembers', procs)) do
  if pid ~= ARGV[2] and redis.call('exists', ARGV[1] .. ':alive:' .. pid) == 0 then
    redis.call('srem', procs, pid)
    local key = ARGV[1] .. ':users:' .. pid
    local users = redis.call('smembers', key)
    redis.call('del', key)
    for _, user in ipairs(users) do
      if not held(ARGV[1], user, nil) then out[#out + 1] = user end
    end
  end
end
return out`;

/** ARGV: prefix, me. A process leaving in good order: its keys go (its users were disconnected first). */
const LEAVE = `
redis.call('srem', ARGV[1] .. ':procs', ARGV[2])
redis.call('del', ARGV[1] .. ':users:' .. ARGV[2], ARGV[1] .. ':alive:' .. ARGV[2])
return 1`;

type Scripted = Redis & {
  parleyConnected(prefix: string, me: string, user: string): Promise<number>;
  parleyDisconnected(prefix: string, me: string, user: string): Promise<number>;
  parleyOnline(prefix: string, ...users: string[]): Promise<number[]>;
  parleyBeat(prefix: string, me: string, ttlMs: number): Promise<[number, ...string[]]>;
  parleyLeave(prefix: string, me: string): Promise<number>;
};

/**
 * Presence shared by the processes of a deployment through Redis. Each process keeps the set of
 * its users there and beats; if one dies without leaving, the first live process to beat after
 * its beat lapses reaps it and announces its users offline (`onChange`), unless another
 * process still has them.
 *
 * @example
 * const presence = await RedisPresence.connect('redis://127.0.0.1:6379', { prefix: 'parley:bus', ttlMs: 15_000 });
 * presence.onChange((userIds, online) => announce(userIds, online));
 */
export class RedisPresence implements PresenceStore {
  readonly shared = true;
  /** This process's id in Redis: new on every start. */
  readonly id = `P${randomBytes(8).toString('hex')}`;
  /** The users this process has marked, to put back if it was reaped while alive. */
  private readonly mine = new Set<string>();
  private readonly handlers: Array<(userIds: string[], online: boolean) => void> = [];
  private readonly timer: NodeJS.Timeout;
  private beating: Promise<void> | undefined;

  private constructor(
    private readonly redis: Scripted,
    private readonly options: RedisPresenceOptions,
  ) {
    this.timer = setInterval(() => void this.beat(), Math.max(100, Math.floor(options.ttlMs / 3)));
    this.timer.unref();
  }

  /** Connects and beats once, so a process is known as alive before its first user. */
  static async connect(url: string, options: RedisPresenceOptions): Promise<RedisPresence> {
    const redis = new Redis(url, {
      lazyConnect: true,
      // Fail fast while Redis is away (presence is then unknown, not queued up).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times - 1, 5), 2000),
    });
    redis.on('error', () => undefined);
    redis.defineCommand('parleyConnected', { numberOfKeys: 0, lua: CONNECTED });
    redis.defineCommand('parleyDisconnected', { numberOfKeys: 0, lua: DISCONNECTED });
    redis.defineCommand('parleyOnline', { numberOfKeys: 0, lua: ONLINE });
    redis.defineCommand('parleyBeat', { numberOfKeys: 0, lua: BEAT });
    redis.defineCommand('parleyLeave', { numberOfKeys: 0, lua: LEAVE });
    await redis.connect();
    const presence = new RedisPresence(redis as Scripted, options);
    await presence.beat();
    return presence;
  }

  async connected(userId: string): Promise<boolean> {
    this.mine.add(userId);
    return (await this.redis.parleyConnected(this.options.prefix, this.id, userId)) === 1;
  }

  async disconnected(userId: string): Promise<boolean> {
    this.mine.delete(userId);
    return (await this.redis.parleyDisconnected(this.options.prefix, this.id, userId)) === 1;
  }

  async online(userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const flags = await this.redis.parleyOnline(this.options.prefix, ...userIds);
    return new Set(userIds.filter((_, i) => flags[i] === 1));
  }

  onChange(handler: (userIds: string[], online: boolean) => void): void {
    this.handlers.push(handler);
  }

  /** Leaves: the gateway has disconnected its users already. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
    try {
      await this.redis.parleyLeave(this.options.prefix, this.id);
    } catch (err) {
      this.options.onError?.(err);
    }
    this.redis.disconnect();
  }

  private emit(userIds: string[], online: boolean): void {
    for (const handler of this.handlers) handler(userIds, online);
  }

  /** One heartbeat and reap; at most one at a time. */
  private beat(): Promise<void> {
    this.beating ??= this.beatOnce().finally(() => {
      this.beating = undefined;
    });
    return this.beating;
  }

  private async beatOnce(): Promise<void> {
    try {
      const [reaped, ...lost] = await this.redis.parleyBeat(this.options.prefix, this.id, this.options.ttlMs);
      if (lost.length > 0) this.emit(lost, false);
      if (reaped !== 1 || this.mine.size === 0) return;
      // Taken for dead during a pause: our users were removed (and announced offline), so
      // mark them again and announce those no other process had meanwhile.
      const back: string[] = [];
      for (const userId of this.mine) {
        if ((await this.redis.parleyConnected(this.options.prefix, this.id, userId)) === 1) back.push(userId);
      }
      if (back.length > 0) this.emit(back, true);
    } catch (err) {
      this.options.onError?.(err);
    }
  }
}
