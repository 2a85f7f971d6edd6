#!/usr/bin/env node
import { mkdirSync } from 'node:fs';
import { ConfigError, loadConfig } from './config/config.js';
import { newId, newSecret } from './ids.js';
import { openStorage } from './storage/open-storage.js';

const USAGE = `Usage: parley keys create [--name NAME] | parley keys list | parley keys revoke KEY_ID

API keys let a site's backend call Parley server-side and mint access tokens
(JWTs signed with the key secret, Twilio AccessToken layout, iss = key id).
The secret is printed once and never shown again.
Reads the same environment as the server (PARLEY_DATA_DIR, DATABASE_URL).`;

async function run(argv: string[]): Promise<number> {
  const [group, command, ...rest] = argv;
  if (group !== 'keys' || !command || !['create', 'list', 'revoke'].includes(command)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const config = loadConfig(process.env);
  if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true });
  const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await storage.migrate();
    if (command === 'create') {
      const nameAt = rest.indexOf('--name');
      const name = nameAt >= 0 ? (rest[nameAt + 1] ?? 'api key') : 'api key';
      const key = { id: newId('SK'), secret: newSecret(), name, createdAt: new Date().toISOString(), revokedAt: null };
      await storage.createApiKey(key);
      process.stdout.write(`key id:     ${key.id}\nkey secret: ${key.secret}\n(store the secret now: it is not shown again)\n`);
    } else if (command === 'list') {
      for (const k of await storage.listApiKeys()) {
        process.stdout.write(`${k.id}  ${k.name}  created ${k.createdAt}${k.revokedAt ? `  revoked ${k.revokedAt}` : ''}\n`);
      }
    } else {
      const id = rest[0];
      if (!id) throw new Error('Which key? parley keys revoke KEY_ID');
      const ok = await storage.revokeApiKey(id, new Date().toISOString());
      process.stdout.write(ok ? `revoked ${id}\n` : `no active key ${id}\n`);
      if (!ok) return 1;
    }
    return 0;
  } finally {
    await storage.close();
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
