// Bundles the web app into dist/: index.html, app.js and app.css.
// The SDK and protocol are bundled from their TypeScript sources so the web build never
// depends on a stale `tsc -b` output.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');
const sources = {
  '@parley/sdk': path.join(here, '../sdk/src/index.ts'),
  '@parley/protocol': path.join(here, '../protocol/src/index.ts'),
};

/** Points the workspace packages at their sources. */
const workspaceSources = {
  name: 'workspace-sources',
  setup(b) {
    b.onResolve({ filter: /^@parley\/(sdk|protocol)$/ }, (args) => ({ path: sources[args.path] }));
  },
};

await mkdir(dist, { recursive: true });
await build({
  entryPoints: { app: path.join(here, 'src/main.ts') },
  outdir: dist,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  minify: process.env.NODE_ENV !== 'development',
  sourcemap: true,
  legalComments: 'none',
  plugins: [workspaceSources],
  logLevel: 'warning',
});
await copyFile(path.join(here, 'src/index.html'), path.join(dist, 'index.html'));
console.log('web: built', path.relative(process.cwd(), dist));
