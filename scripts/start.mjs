#!/usr/bin/env node
// `npm start`: build what is missing or stale (incremental, a few seconds), then run the server.
import { spawnSync } from 'node:child_process';

if (process.env.PARLEY_SKIP_BUILD !== '1') {
  const build = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('Build failed; see the errors above.');
    process.exit(build.status ?? 1);
  }
}
await import('../packages/server/dist/main.js');
