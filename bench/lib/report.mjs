// Turns raw measurements into the result rows (one object per workload figure), the JSON
// file and the table. A figure that was not measured is null with a reason, never a guess.
export const TARGET_KEYS = ['parley', 'wsBroadcast', 'wsFrameOnce', 'socketIo'];
const BASELINE_KEYS = TARGET_KEYS.slice(1);

const lat = (name, q) => (m) => m[name]?.delivery?.[q];
const cpu = (name) => (m) => m[name]?.cpuPerUnit;
const ackDetails = (name) => (m) => m[name]?.ack && { ackP50Ms: m[name].ack.p50Ms, ackP99Ms: m[name].ack.p99Ms, deliveryP999Ms: m[name].delivery.p999Ms };

/** Row definitions; `scale` fills in the sizes actually run. */
export function rowDefs(scale) {
  return [
    {
      workload: 'fanout',
      figure: 'deliveries/s: 1 group x 100 members, 100-byte messages, persisted + acked (closed loop)',
      unit: 'deliveries/s',
      measure: 'fanout',
      best: 'max',
      value: (m) => m.fanout?.value,
      cpu: cpu('fanout'),
      target: '>= 0.85 x ws frame-once; <= 5.0 us server CPU/delivery; ahead of bare ws and Socket.IO',
      met: (v, b, c) => v >= 0.85 * b.wsFrameOnce && c <= 5.0 && v > b.wsBroadcast && v > b.socketIo,
      needs: ['wsFrameOnce', 'wsBroadcast', 'socketIo'],
    },
    {
      workload: 'latency',
      figure: 'p50 delivery latency: 100 members @ 10,000 deliveries/s',
      unit: 'ms',
      measure: 'latency100',
      details: ackDetails('latency100'),
      best: 'min',
      value: lat('latency100', 'p50Ms'),
      cpu: cpu('latency100'),
      target: 'p50 <= 1 ms',
      met: (v) => v <= 1,
    },
    {
      workload: 'latency',
      figure: 'p99 delivery latency: 100 members @ 10,000 deliveries/s',
      unit: 'ms',
      measure: 'latency100',
      details: ackDetails('latency100'),
      best: 'min',
      value: lat('latency100', 'p99Ms'),
      cpu: cpu('latency100'),
      target: 'p99 <= 2 ms',
      met: (v) => v <= 2,
    },
    {
      workload: 'latency',
      figure: `p50 delivery latency: ${scale.bigGroup} members @ ${fmt(scale.bigRate)} deliveries/s`,
      unit: 'ms',
      measure: 'latencyBig',
      details: ackDetails('latencyBig'),
      best: 'min',
      value: lat('latencyBig', 'p50Ms'),
      cpu: cpu('latencyBig'),
      target: '(none; reported)',
      met: () => null,
    },
    {
      workload: 'latency',
      figure: `p99 delivery latency: ${scale.bigGroup} members @ ${fmt(scale.bigRate)} deliveries/s`,
      unit: 'ms',
      measure: 'latencyBig',
      details: ackDetails('latencyBig'),
      best: 'min',
      value: lat('latencyBig', 'p99Ms'),
      cpu: cpu('latencyBig'),
      target: 'p99 <= 10 ms (1,000 members @ 50,000/s)',
      met: (v) => (scale.bigGroup === 1000 && scale.bigRate === 50_000 ? v <= 10 : null),
    },
    {
      workload: 'ingest',
      figure: `acknowledged messages/s across ${fmt(scale.ingestGroups)} groups of 3 (SQLite WAL)`,
      unit: 'msg/s',
      measure: 'ingest',
      best: 'max',
      value: (m) => m.ingest?.value,
      cpu: cpu('ingest'),
      target: '>= 25,000 msg/s',
      met: (v) => v >= 25_000,
    },
    {
      workload: 'ingest',
      figure: `ack p99 at ${fmt(scale.ingestRate)} msg/s across ${fmt(scale.ingestGroups)} groups (SQLite WAL)`,
      unit: 'ms',
      measure: 'ingestRate',
      best: 'min',
      value: (m) => m.ingestRate?.ack?.p99Ms,
      details: (m) => m.ingestRate && { ackP50Ms: m.ingestRate.ack.p50Ms, achievedRate: Math.round(m.ingestRate.acksPerSec) },
      cpu: cpu('ingestRate'),
      target: 'ack p99 <= 5 ms at 10,000 msg/s',
      met: (v) => v <= 5,
      floor: (disk) => disk?.underWriteback && {
        ms: disk.underWriteback.withWriteback.p99Ms,
        what: `disk alone: p99 of a ${disk.underWriteback.commitPages}-page commit's write + fsync while a checkpoint's ` +
          `${disk.underWriteback.checkpointPages} pages are flushed every ${disk.underWriteback.checkpointEveryMs} ms (no CPU, no sockets)`,
      },
    },
    {
      workload: 'ingest-postgres',
      figure: `acknowledged messages/s across ${fmt(scale.ingestGroups)} groups of 3 (PostgreSQL)`,
      unit: 'msg/s',
      measure: 'ingestPostgres',
      best: 'max',
      value: (m) => m.ingestPostgres?.value,
      cpu: cpu('ingestPostgres'),
      target: '>= 10,000 msg/s',
      met: (v) => v >= 10_000,
      parleyOnly: true,
    },
    {
      workload: 'connections',
      figure: `idle WebSocket connections held by one process (of ${fmt(scale.connections)} opened)`,
      unit: 'connections',
      measure: 'connections',
      // Held connections are a correctness figure: the worst round counts.
      best: 'min',
      value: (m) => m.connections?.held,
      target: '19,000 held',
      // A quick run opens fewer: not a verdict on the target.
      met: (v) => (scale.connections >= 19_000 ? v >= 19_000 : null),
    },
    {
      workload: 'connections',
      figure: 'server memory per idle connection (RSS growth / connections)',
      unit: 'KiB',
      measure: 'connections',
      best: 'min',
      value: (m) => m.connections?.kibPerConnection,
      target: '<= 8 KiB each',
      met: (v) => v <= 8,
    },
    {
      workload: 'connections',
      figure: 'connects/s (upgrade + auth + ready frame)',
      unit: 'connects/s',
      measure: 'connections',
      best: 'max',
      value: (m) => m.connections?.connectsPerSec,
      target: '>= 3,000 connects/s',
      met: (v) => v >= 3000,
    },
    {
      workload: 'history',
      figure: `p99 of a 50-message page in a conversation of ${fmt(scale.historyMessages)} @ ${fmt(scale.historyRate)} req/s`,
      unit: 'ms',
      measure: 'history',
      best: 'min',
      value: (m) => m.history?.latency?.p99Ms,
      details: (m) => m.history && { p50Ms: m.history.latency.p50Ms, achievedRate: Math.round(m.history.achievedRate) },
      cpu: cpu('history'),
      target: 'p99 <= 5 ms at 2,000 req/s (1,000,000 messages)',
      met: (v) => (scale.historyMessages >= 1_000_000 && scale.historyRate >= 2000 ? v <= 5 : null),
      parleyOnly: true,
    },
    {
      workload: 'scaleout',
      figure: 'Redis publishes per chat message (2 processes, Redis + PostgreSQL)',
      unit: 'publishes/msg',
      measure: 'scaleout',
      // Exactly one publish per message in every round: the round furthest from 1 counts.
      best: 'furthest from 1',
      value: (m) => m.scaleout?.publishesPerMessage,
      target: 'exactly 1',
      met: (v) => Math.abs(v - 1) < 0.01,
      parleyOnly: true,
    },
    {
      workload: 'scaleout',
      figure: 'added p99 delivery latency across processes (other process minus same process)',
      unit: 'ms',
      measure: 'scaleout',
      best: 'min',
      value: (m) => m.scaleout?.addedP99Ms,
      details: (m) => m.scaleout && { sameProcessP99Ms: m.scaleout.same.p99Ms, otherProcessP99Ms: m.scaleout.other.p99Ms },
      target: 'added p99 <= 2 ms',
      met: (v) => v <= 2,
      parleyOnly: true,
    },
  ];
}

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const round = (v, d = 3) => (v === null ? null : Math.round(v * 10 ** d) / 10 ** d);

/**
 * Which of several rounds' values a row reports: the best for a performance figure (noise on
 * this machine only ever slows a server down, so the best round is the one least disturbed),
 * the worst for a correctness figure. Returns the index, or -1 if no round has a value.
 */
const BETTER = {
  max: (a, b) => a > b,
  min: (a, b) => a < b,
  'furthest from 1': (a, b) => Math.abs(a - 1) > Math.abs(b - 1),
};

function pickRound(values, best) {
  let chosen = -1;
  values.forEach((v, i) => {
    if (v !== null && (chosen === -1 || BETTER[best](v, values[chosen]))) chosen = i;
  });
  return chosen;
}

/**
 * Builds the JSON rows from raw measurements `raw[targetKey][measurement]`, or from several
 * rounds of them (an array): then each figure of each target comes from the round `pickRound`
 * chooses for it, with its CPU and "other" CPU from that same round, every round's value in
 * `rounds`, and the problems of every round. With `disk` (the disk probe), a row whose
 * figure has a floor on this machine's disk gets it as `floor: { ms, what }`.
 */
export function buildRows(rawOrRounds, scale, reasons, disk) {
  const rounds = Array.isArray(rawOrRounds) ? rawOrRounds : [rawOrRounds];
  return rowDefs(scale)
    .filter((def) => [def.value, def.cpu].some(Boolean))
    .map((def) => {
      const perRound = Object.fromEntries(TARGET_KEYS.map((k) => [k, rounds.map((raw) => num(def.value(raw[k] ?? {})))]));
      const chosen = Object.fromEntries(TARGET_KEYS.map((k) => [k, pickRound(perRound[k], def.best)]));
      const from = (k) => rounds[Math.max(0, chosen[k])][k] ?? {};
      const at = (k) => num(def.value(from(k)));
      const parley = at('parley');
      const baselines = Object.fromEntries(BASELINE_KEYS.map((k) => [k, def.parleyOnly ? null : at(k)]));
      const ratios = Object.fromEntries(
        BASELINE_KEYS.map((k) => [k, parley !== null && baselines[k] ? round(parley / baselines[k]) : null]),
      );
      const serverCpuUsPerUnit = def.cpu
        ? Object.fromEntries(TARGET_KEYS.map((k) => [k, round(num(def.cpu(from(k))))]))
        : null;
      let met = null;
      if (parley !== null && (def.needs ?? []).every((k) => baselines[k] !== null)) {
        met = def.met(parley, baselines, serverCpuUsPerUnit?.parley ?? Infinity);
      }
      const row = {
        workload: def.workload,
        figure: def.figure,
        unit: def.unit,
        parley: round(parley),
        baselines: Object.fromEntries(Object.entries(baselines).map(([k, v]) => [k, round(v)])),
        ratios,
        serverCpuUsPerUnit,
        target: def.target,
        met,
      };
      if (rounds.length > 1) {
        row.rounds = Object.fromEntries(
          TARGET_KEYS.filter((k) => k === 'parley' || !def.parleyOnly).map((k) => [k, perRound[k].map((v) => round(v))]),
        );
      }
      const other = Object.fromEntries(
        TARGET_KEYS.map((k) => [k, round(num(from(k)[def.measure]?.otherCpuPct), 0)]).filter(([, v]) => v !== null),
      );
      if (Object.keys(other).length) row.otherCpuPct = other;
      const details = def.details?.(from('parley'));
      if (details) row.details = details;
      const floor = def.floor?.(disk);
      if (floor) row.floor = floor;
      if (parley === null) {
        row.reason = from('parley')[def.measure]?.error ?? reasons.parley?.[def.workload] ?? reasons.parley?.all ?? 'not measured';
      }
      const problems = rounds.flatMap((raw, i) =>
        TARGET_KEYS.flatMap((k) => (raw[k]?.[def.measure]?.problems ?? []).map((p) => `${rounds.length > 1 ? `round ${i + 1}, ` : ''}${k}: ${p}`)),
      );
      if (problems.length) row.problems = [...new Set(problems)];
      return row;
    });
}

export function fmt(v) {
  if (v === null || v === undefined) return '-';
  if (typeof v !== 'number') return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** A fixed-width text table of the rows. */
export function formatTable(rows) {
  const head = ['workload', 'figure', 'unit', 'Parley', 'bare ws', 'frame-once', 'Socket.IO', 'P/frame-once', 'CPU us/unit P|ws|f1|sio', 'target', 'met'];
  const body = rows.map((r) => [
    r.workload,
    r.figure.length > 64 ? `${r.figure.slice(0, 61)}...` : r.figure,
    r.unit,
    r.parley === null ? 'n/a' : fmt(r.parley),
    fmt(r.baselines.wsBroadcast),
    fmt(r.baselines.wsFrameOnce),
    fmt(r.baselines.socketIo),
    r.ratios.wsFrameOnce === null ? '-' : `${r.ratios.wsFrameOnce.toFixed(2)}x`,
    r.serverCpuUsPerUnit ? TARGET_KEYS.map((k) => fmt(r.serverCpuUsPerUnit[k])).join('|') : '-',
    r.target,
    r.met === null ? '-' : r.met ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  const notes = rows.filter((r) => r.reason || r.problems).map((r) => `  ${r.workload} / ${r.figure.slice(0, 50)}: ${r.reason ?? ''}${r.problems ? ` problems: ${r.problems.join('; ')}` : ''}`);
  if (notes.length) out.push('', 'notes:', ...[...new Set(notes)]);
  return out.join('\n');
}

/** The same rows as a Markdown table (for docs/performance.md). */
export function formatMarkdown(rows) {
  const out = [
    '| workload | figure | unit | Parley | bare ws | ws frame-once | Socket.IO | Parley / frame-once | server CPU us/unit (Parley / ws / frame-once / Socket.IO) | target | met |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    out.push(
      `| ${r.workload} | ${r.figure} | ${r.unit} | ${r.parley === null ? `n/a (${r.reason})` : fmt(r.parley)} | ${fmt(r.baselines.wsBroadcast)} | ${fmt(r.baselines.wsFrameOnce)} | ${fmt(r.baselines.socketIo)} | ${r.ratios.wsFrameOnce === null ? '-' : `${r.ratios.wsFrameOnce.toFixed(2)}x`} | ${r.serverCpuUsPerUnit ? TARGET_KEYS.map((k) => fmt(r.serverCpuUsPerUnit[k])).join(' / ') : '-'} | ${r.target} | ${r.met === null ? '-' : r.met ? 'yes' : '**no**'} |`,
    );
  }
  return out.join('\n');
}
