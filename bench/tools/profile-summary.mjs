// Summarises a V8 .cpuprofile (from `node --cpu-prof`, or `npm run bench -- --profile DIR`):
// top functions by self time, and by inclusive time for frames matching an optional filter.
// With `--measure NAME`, only samples inside that measurement's window count (the harness logs
// windows to windows.json beside the profiles; V8 and process.hrtime share CLOCK_MONOTONIC).
// Self time is also summed per package (a node_modules package, Node's own `node:` modules,
// Parley's `server/dist`, or V8 and native code for frames without a script).
// Usage: node bench/tools/profile-summary.mjs FILE.cpuprofile [--top 30] [--match server/dist] [--measure fanout]
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const file = args[0];
const top = Number(args[args.indexOf('--top') + 1]) || 30;
const match = args.includes('--match') ? args[args.indexOf('--match') + 1] : null;
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time per node from samples and timeDeltas.
let window = null;
if (args.includes('--measure')) {
  const measure = args[args.indexOf('--measure') + 1];
  const pid = Number(/\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(file)?.[1]);
  const windows = JSON.parse(fs.readFileSync(path.join(path.dirname(file), 'windows.json'), 'utf8'));
  const w = windows.find((x) => x.measure === measure && (x.pids.includes(pid) || !pid));
  if (!w) throw new Error(`no window for ${measure} (pid ${pid}) in windows.json`);
  window = w.windowUs;
}
const selfUs = new Map();
let t = profile.startTime;
for (let i = 0; i < profile.samples.length; i += 1) {
  t += profile.timeDeltas[i] ?? 0;
  if (window && (t < window[0] || t > window[1])) continue;
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const name = (n) => {
  const f = n.callFrame;
  const where = f.url ? `${f.url.replace(/^file:\/\//, '').replace(/.*node_modules\//, 'nm/').replace(/.*\/packages\//, '')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
};

const self = new Map();
const inclusive = new Map();
for (const [id, us] of selfUs) {
  const key = name(byId.get(id));
  self.set(key, (self.get(key) ?? 0) + us);
  // Inclusive: credit every distinct function on the stack once.
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = name(byId.get(cur));
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + us);
  }
}
/** Which package a frame's script belongs to. */
const packageOf = (n) => {
  const url = n.callFrame.url.replace(/^file:\/\//, '');
  if (!url) return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native)';
  const nm = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  return url.replace(/.*\/packages\/([^/]+)\/.*/, '$1');
};
const byPackage = new Map();
for (const [id, us] of selfUs) {
  const key = packageOf(byId.get(id));
  byPackage.set(key, (byPackage.get(key) ?? 0) + us);
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`total sampled ${(total / 1000).toFixed(0)} ms`);
console.log(`\nself time (top ${top}):`);
for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
console.log('\nself time by package:');
for (const [k, us] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
console.log(`\ninclusive time (top ${top}${match ? `, matching ${match}` : ''}):`);
for (const [k, us] of [...inclusive]
  .filter(([k]) => !match || k.includes(match))
  .sort((a, b) => b[1] - a[1])
  .slice(0, top)) console.log(`${pct(us)}  ${k}`);
