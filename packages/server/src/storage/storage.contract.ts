import { afterAll, beforeAll, describe } from 'vitest';
import type { Storage } from './storage.js';
import { accountsContract } from './contract/accounts.contract.js';
import { batchedAppendsContract } from './contract/batched-appends.contract.js';
import { conversationsContract } from './contract/conversations.contract.js';
import { invitesContract } from './contract/invites.contract.js';
import { messagesContract } from './contract/messages.contract.js';
import { participantsContract } from './contract/participants.contract.js';
import { webhooksContract } from './contract/webhooks.contract.js';

/*
 * The one behaviour every `Storage` must have, run against each database (Kysely's habit:
 * one suite, many dialects). Tests share one opened storage and stay apart by using unique
 * ids, so the suite also runs against a database that other tests are using.
 */

/**
 * Defines the contract tests for one implementation. `open` returns a fresh, unmigrated
 * storage; the suite migrates it and closes it at the end.
 *
 * @example
 * storageContract('sqlite (file)', () => openSqliteStorage({ file: tmpFile }));
 */
export function storageContract(name: string, open: () => Promise<Storage>): void {
  describe(`Storage contract: ${name}`, () => {
    let storage: Storage | undefined;
    const get = (): Storage => {
      if (storage === undefined) throw new Error('storage did not open; see the beforeAll error');
      return storage;
    };
    beforeAll(async () => {
      storage = await open();
      await storage.migrate();
    });
    afterAll(async () => {
      await storage?.close();
    });

    accountsContract(get);
    conversationsContract(get);
    participantsContract(get);
    messagesContract(get);
    batchedAppendsContract(get);
    invitesContract(get);
    webhooksContract(get);
  });
}
