// `npm run bench [-- --quick] [--json PATH] [--only fanout,latency,...] [--skip-baselines|--skip-parley] [--rounds N] [--set NAME=NUMBER]`
//
// Runs every workload of SPEC section 4 against Parley and, where they apply, against the three
// baselines, in one run: servers pinned to core 0, load generators to core 1 (taskset). Prints
// a table and optionally writes the rows as JSON. With several rounds (the full run's default is
// 2), each round measures every target again, Parley and the baselines in turn and in
// alternating order, and each figure is the best of its rounds (see report.mjs). See
// docs/performance.md.
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { BASELINES, startBaseline } from './lib/targets.mjs';
import { hasTaskset, setNice, shutdown } from './lib/procs.mjs';
import { buildRows, formatMarkdown, formatTable } from './lib/report.mjs';
import { describeDisk, probeDisk } from './lib/disk-probe.mjs';
import { FULL, QUICK } from './scale.mjs';
import { runParley } from './workloads/parley.mjs';
import { chatSuite, log, runSteps, setProfileDir, setQuietBudget } from './workloads/suite.mjs';

export const WORKLOADS = ['fanout', 'latency', 'ingest', 'ingest-postgres', 'connections', 'history', 'scaleout'];

function parseArgs(argv) {
  const args = { quick: false, json: null, only: null, markdown: null, skipBaselines: false, skipParley: false, profile: null, nice: null, build: true, raw: null, rounds: null, nodeFlags: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--json') args.json = argv[(i += 1)];
    else if (a === '--markdown') args.markdown = argv[(i += 1)];
    else if (a === '--only') args.only = argv[(i += 1)].split(',');
    else if (a === '--skip-baselines') args.skipBaselines = true;
    else if (a === '--skip-parley') args.skipParley = true;
    else if (a === '--profile') args.profile = argv[(i += 1)];
    else if (a === '--nice') args.nice = Number(argv[(i += 1)]);
    else if (a === '--node-flag') args.nodeFlags.push(argv[(i += 1)]);
    else if (a === '--no-build') args.build = false;
    else if (a === '--raw') args.raw = argv[(i += 1)];
    else if (a === '--rounds') args.rounds = Number(argv[(i += 1)]);
    else if (a === '--set') {
      // Overrides one size of bench/scale.mjs, e.g. `--set historyRate=1000`.
      const [key, value] = argv[(i += 1)].split('=');
      if (!(key in FULL) || !Number.isFinite(Number(value))) throw new Error(`--set wants NAME=NUMBER with NAME one of ${Object.keys(FULL).join(', ')}`);
      (args.set ??= {})[key] = Number(value);
    }
    // --ingest-groups N: the quick run's short windows with the full run's 1,000 groups, say.
    else if (a === '--ingest-groups') (args.set ??= {}).ingestGroups = Number(argv[(i += 1)]);
    else if (a === '--help' || a === '-h') {
      console.log('usage: node bench/run.mjs [--quick] [--json PATH] [--markdown PATH] [--only a,b] [--skip-baselines] [--skip-parley] [--profile DIR] [--nice N] [--node-flag FLAG] [--no-build] [--raw PATH] [--rounds N] [--set NAME=NUMBER] [--ingest-groups N]');
      console.log(`workloads: ${WORKLOADS.join(', ')}`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  for (const w of args.only ?? []) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w}; one of ${WORKLOADS.join(', ')}`);
  for (const f of args.nodeFlags) if (typeof f !== 'string' || !f.startsWith('--')) throw new Error(`--node-flag takes one of Node's flags, e.g. --node-flag --single-threaded-gc (got ${String(f)})`);
  if (args.rounds !== null && !(Number.isInteger(args.rounds) && args.rounds >= 1 && args.rounds <= 9)) throw new Error('--rounds takes a whole number from 1 to 9');
  const groups = args.set?.ingestGroups;
  if (groups !== undefined && !(Number.isInteger(groups) && groups > 0)) throw new Error('--ingest-groups (ingestGroups) takes a positive integer');
  return args;
}

/** Which server code was measured: the commit, and whether packages/server had local changes. */
function provenance() {
  const git = (...a) => spawnSync('git', a, { cwd: path.dirname(new URL(import.meta.url).pathname), encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git('rev-parse', '--short', 'HEAD') || 'unknown';
  const dirty = git('status', '--porcelain', '--', '../packages/server', '../packages/protocol');
  return `commit ${head}${dirty ? ' + uncommitted changes in packages/server or protocol' : ''}`;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const scale = { ...(args.quick ? QUICK : FULL), ...args.set };
  const selected = (w) => !args.only || args.only.includes(w);
  const started = Date.now();
  log(`parley bench (${args.quick ? 'quick' : 'full'}); taskset: ${hasTaskset ? 'server on core 0, load on core 1' : 'not available, processes unpinned'}`);
  const rounds = args.rounds ?? (args.quick ? 1 : 2);
  const raws = [];
  const reasons = { parley: {} };
  const steps = chatSuite(scale, selected);
  if (args.profile) setProfileDir(path.resolve(args.profile));
  if (args.nice !== null) setNice(args.nice);
  setQuietBudget(scale.quietBudgetMs);
  const disk = await probeDisk();
  const diskLine = describeDisk(disk);
  log(diskLine);

  const measureBaselines = async (raw) => {
    if (args.skipBaselines || !steps.length) return;
    for (const key of Object.keys(BASELINES)) {
      log(`baseline ${key}`);
      let target;
      try {
        target = await startBaseline(key);
        await runSteps(target, steps, raw[key], scale.quietWaitMs, () => startBaseline(key));
      } catch (err) {
        log(`  baseline ${key} failed: ${err.message}`);
      } finally {
        await target?.stop();
      }
    }
  };
  const measureParley = async (raw, build) => {
    if (args.skipParley) reasons.parley.all = 'skipped (--skip-parley)';
    else await runParley({ scale, selected, steps, raw: raw.parley, reasons: reasons.parley, profileDir: args.profile, nodeFlags: args.nodeFlags, build });
  };
  for (let r = 0; r < rounds; r += 1) {
    const raw = { parley: {}, wsBroadcast: {}, wsFrameOnce: {}, socketIo: {} };
    raws.push(raw);
    if (rounds > 1) log(`round ${r + 1} of ${rounds}`);
    // Built once, before the first round's Parley. Which side goes first alternates, so that a
    // slow stretch of the machine does not always fall on the same side.
    const build = args.build && r === 0;
    if (r % 2 === 0) {
      await measureBaselines(raw);
      await measureParley(raw, build);
    } else {
      await measureParley(raw, build);
      await measureBaselines(raw);
    }
  }

  const rows = buildRows(raws, scale, reasons, disk).filter((r) => selected(r.workload));
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const header = `Parley benchmark, ${args.quick ? 'quick' : 'full'} run, ${when} UTC, ${((Date.now() - started) / 1000).toFixed(0)} s, ${provenance()}` +
    (rounds > 1 ? `, best of ${rounds} rounds per figure (the worst for held connections and publishes per message)` : '');
  console.log(`\n${header}\n${diskLine}\n`);
  console.log(formatTable(rows));
  if (args.json) {
    fs.mkdirSync(path.dirname(path.resolve(args.json)), { recursive: true });
    fs.writeFileSync(args.json, `${JSON.stringify(rows, null, 2)}\n`);
    log(`\nwrote ${args.json}`);
  }
  if (args.markdown) fs.writeFileSync(args.markdown, `${header}\n\n${diskLine}\n\n${formatMarkdown(rows)}\n`);
  if (args.raw) fs.writeFileSync(args.raw, JSON.stringify({ scale, disk, rounds: raws }, null, 2));
}

main()
  .then(() => shutdown())
  .then(() => process.exit(0))
  .catch(async (err) => {
    console.error(err.stack ?? err.message);
    await shutdown();
    process.exit(1);
  });
