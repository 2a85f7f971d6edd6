import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TokenService } from '../auth/tokens.js';
import { loadConfig } from '../config/config.js';
import { MemoryBus } from '../realtime/memory-bus.js';
import { openSqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import type { Storage } from '../storage/storage.js';
import { Accounts } from './accounts.js';
import { MemoryPresence } from '../realtime/presence.js';

let storage: Storage;
let tokens: TokenService;
let accounts: Accounts;
beforeAll(async () => {
  storage = await openSqliteStorage({ file: ':memory:' });
  await storage.migrate();
  tokens = await TokenService.open(storage, 60);
  const ctx = { storage, bus: new MemoryBus(), presence: new MemoryPresence(), config: loadConfig({ LOG_LEVEL: 'silent' }), log: pino({ level: 'silent' }), now: () => new Date().toISOString() };
  accounts = new Accounts(ctx, tokens);
});
afterAll(() => storage.close());

const user = (username: string) => ({ id: `US${username}`, username, passwordHash: 'x', createdAt: new Date().toISOString() });

describe('Accounts.userForToken', () => {
  it('looks a user up once, then answers from memory', async () => {
    await storage.createUser(user('ada'));
    const { token } = await tokens.mint('ada');
    const lookups = vi.spyOn(storage, 'getUserByUsername');
    expect((await accounts.userForToken(token)).user.id).toBe('USada');
    expect((await accounts.userForToken(token)).user.id).toBe('USada');
    expect(lookups).toHaveBeenCalledTimes(1);
    lookups.mockRestore();
  });

  it('does not remember that a user was missing: one signed up later is found', async () => {
    const { token } = await tokens.mint('grace');
    await expect(accounts.userForToken(token)).rejects.toMatchObject({ code: 'invalid_token', message: 'No user has the identity "grace"' });
    await storage.createUser(user('grace'));
    expect((await accounts.userForToken(token)).user.id).toBe('USgrace');
  });

  it('still verifies the token every time: an expired one is refused even with its user cached', async () => {
    vi.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    try {
      await storage.createUser(user('lin'));
      const { token, expiresAt } = await tokens.mint('lin', 5);
      await accounts.userForToken(token);
      vi.setSystemTime(expiresAt.getTime());
      await expect(accounts.userForToken(token)).rejects.toMatchObject({ code: 'token_expired' });
    } finally {
      vi.useRealTimers();
    }
  });
});
