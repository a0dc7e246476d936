/**
 * Runs the selected workloads on the selected modes and the peers, derives ratios, the cost model and the
 * targets, writes results.json and the W5 chart, and renders the table `npm run bench` prints.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { costOf, loadPrices, peerPrices, subtract, type MeasuredOperation, type OperationCost } from '../cost/cost-model.ts';
import { METERED_INDEXES, combineSnapshots } from '../cost/capacity-meter.ts';
import { awsRunnerW1 } from '../peers/aws-runner.ts';
import { dbosPeer } from '../peers/dbos.ts';
import { bundle } from '../workloads/bundle.ts';
import { w1, w1Sizes } from '../workloads/w1-sequential-steps.ts';
import { w2 } from '../workloads/w2-sleep.ts';
import { SWEEP_HOLD_MS } from '../../sdk/adapters/aws/dynamo-sweep.ts';
import { w3 } from '../workloads/w3-parallel-runs.ts';
import { w4 } from '../workloads/w4-fan-in-events.ts';
import { w5, type W5Point } from '../workloads/w5-resume-cost.ts';
import { w6 } from '../workloads/w6-event-resume.ts';
import { w7 } from '../workloads/w7-recovery.ts';
import { soak } from '../workloads/soak.ts';
import { sim } from '../workloads/sim.ts';
import { machineInfo, type MachineInfo } from './machine.ts';
import { withClient, type BenchClient, type Mode } from './modes.ts';
import { round } from './stats.ts';
import { w5Chart } from './svg-chart.ts';
import { fmt, renderTable } from './table.ts';
import type { BenchOptions, Row } from './types.ts';

export interface Ratio {
  name: string;
  value: number;
  note: string;
}

export interface Target {
  name: string;
  target: string;
  value: number | undefined;
  unit: string;
  met: boolean | undefined;
}

export interface BenchResults {
  machine: MachineInfo & { loadAverage1mAtEnd: number };
  options: { quick: boolean; modes: readonly Mode[]; peers: boolean; dbos: boolean; only: readonly string[] };
  rows: Row[];
  ratios: Ratio[];
  cost: { operations: OperationCost[]; peers: { name: string; usdPerMillion: number }[]; pricesChecked: string; notes: string[] } | undefined;
  targets: Target[];
}

const WORKLOADS: { id: string; run: (client: BenchClient, options: BenchOptions) => Promise<Row> }[] = [
  { id: 'W1', run: w1 },
  { id: 'W2', run: w2 },
  { id: 'W3', run: w3 },
  { id: 'W6', run: w6 },
  { id: 'W4', run: w4 },
  { id: 'W5', run: w5 },
];

export async function runBench(options: BenchOptions, outDir: string): Promise<{ results: BenchResults; table: string }> {
  const selected = (id: string) => options.only.length === 0 || options.only.includes(id);
  const machine = machineInfo();
  const rows: Row[] = [];
  for (const mode of options.modes) {
    for (const workload of WORKLOADS) {
      if (!selected(workload.id)) continue;
      options.log(`${workload.id} on ${mode === 'test' ? 'the test environment' : 'the embedded default'}…`);
      const started = performance.now();
      const row = await guarded(workload.id, mode === 'test' ? 'test env' : 'embedded', options, () => withClient(mode, (client) => workload.run(client, options)));
      rows.push(row);
      options.log(`  ${summary(row)} (${round((performance.now() - started) / 1000, 1)} s)`);
    }
  }
  if (options.modes.includes('local') && !options.quick && selected('W7')) {
    options.log('W7 (restart after a kill) on the embedded default…');
    rows.push(await guarded('W7', 'embedded', options, () => w7(options)));
  }
  if (options.peers && selected('W1')) {
    options.log('W1 on AWS LocalDurableTestRunner…');
    rows.push(...(await awsRunnerW1(options, w1Sizes('test', options.quick).steps)));
  }
  if (options.peers && options.pgUrl) {
    options.log('DBOS on PostgreSQL…');
    rows.push(...(await dbosPeer(options, options.pgUrl, selected)));
  } else if (options.peers) {
    options.log('DBOS skipped: set PG_URL to run it');
  }
  // Long (100,000 runs by default): only when asked for by name (BENCH_ONLY=soak).
  if (options.only.includes('SOAK')) {
    options.log('soak (a long-lived embedded worker, heap and RSS over time)…');
    rows.push(await guarded('soak', 'embedded', options, () => soak(options)));
  }
  // The throttling simulation (bench/sim/): its own simulated AWS account, whatever the modes.
  if (selected('SIM')) {
    options.log('sim (throttling at the published AWS quotas: three loads, modelled figures)…');
    try {
      rows.push(...(await sim(options)));
    } catch (error) {
      rows.push(await guarded('SIM', 'sim', options, () => Promise.reject(error)));
    }
  }
  if (selected('bundle')) {
    options.log('worker bundle…');
    rows.push(await guarded('bundle', 'worker Lambda', options, () => bundle(options)));
  }

  const results: BenchResults = {
    machine: { ...machine, loadAverage1mAtEnd: machineInfo().loadAverage1m },
    options: { quick: options.quick, modes: options.modes, peers: options.peers, dbos: Boolean(options.peers && options.pgUrl), only: options.only },
    rows,
    ratios: ratios(rows),
    cost: costModel(rows),
    targets: [],
  };
  results.targets = targets(results);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const chart = w5ChartOf(rows, results.machine);
  if (chart) writeFileSync(join(outDir, 'w5-resume-cost.svg'), chart);
  return { results, table: render(results) };
}

/** A workload that fails leaves a row saying so; the others still run. */
async function guarded(workload: string, system: string, options: BenchOptions, fn: () => Promise<Row>): Promise<Row> {
  try {
    return await fn();
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    options.log(`  ${workload} on ${system} FAILED: ${message}`);
    return { workload, system, figures: [], notes: [`FAILED: ${message}`] };
  }
}

function summary(row: Row): string {
  if (row.figures.length === 0) return row.notes?.[0] ?? 'no figures';
  return row.figures.map((f) => `${f.name}: ${fmt(f.value)} ${f.unit}`).join('; ');
}

function find(rows: Row[], workload: string, system: string): Row | undefined {
  return rows.find((r) => r.workload === workload && r.system === system);
}

function value(row: Row | undefined, name: string): number | undefined {
  return row?.figures.find((f) => f.name === name || f.name.startsWith(name))?.value;
}

function ratios(rows: Row[]): Ratio[] {
  const out: Ratio[] = [];
  const ours = find(rows, 'W1', 'test env');
  for (const peer of ['AWS runner', 'AWS runner (skipTime)']) {
    const theirs = find(rows, 'W1', peer);
    const a = value(ours, 'throughput');
    const b = value(theirs, 'throughput');
    if (a && b) out.push({ name: `W1 test env vs ${peer}`, value: round(a / b, 1), note: 'steps/s ours ÷ theirs, same process, same workload' });
  }
  const embedded = (w: string) => find(rows, w, 'embedded');
  const dbos = (w: string) => find(rows, w, 'DBOS');
  const pairs: [string, string, boolean][] = [
    ['W1', 'throughput', true],
    ['W3', 'throughput', true],
    ['W6', 'push → resumed and finished, p50', false],
  ];
  for (const [w, fig, higherIsBetter] of pairs) {
    const a = value(embedded(w), fig);
    const b = value(dbos(w), fig);
    if (a && b) out.push({ name: `${w} embedded vs DBOS`, value: round(higherIsBetter ? a / b : b / a, 2), note: higherIsBetter ? 'steps/s ours ÷ DBOS' : 'DBOS ms ÷ ours' });
  }
  return out;
}

function measured(row: Row | undefined): MeasuredOperation | undefined {
  return row?.requests && row.capacity ? { requests: row.requests, capacity: row.capacity } : undefined;
}

function scale(m: MeasuredOperation, f: number): MeasuredOperation {
  const requests = Object.fromEntries(Object.entries(m.requests).map(([op, n]) => [op, n * f]));
  return { requests, capacity: combineSnapshots(m.capacity, {}, (x) => x * f) };
}

/** Dispatch messages per worker invocation the cost model is computed at. */
const BATCHES = [1, 10] as const;

function costModel(rows: Row[]): BenchResults['cost'] {
  const step = measured(find(rows, 'W1', 'embedded'));
  const sleepRow = find(rows, 'W2', 'embedded');
  const sleep = measured(sleepRow);
  const sleepMoved = (sleepRow?.data as { keyMoved?: MeasuredOperation } | undefined)?.keyMoved;
  const wait = measured(find(rows, 'W6', 'embedded'));
  if (!step && !sleep && !wait) return undefined;
  const prices = loadPrices();
  const operations: OperationCost[] = [];
  if (step) operations.push(costOf('step (W1)', step, prices, { 'SQS.ReceiveMessage': 0 }, 0.7));
  const fanIn = find(rows, 'W4', 'embedded');
  const fanInMeasured = measured(fanIn);
  // Every operation that dispatches, at 1 message per worker invocation (an idle or lightly loaded queue:
  // what the targets are read against) and at 10 (the construct's batchSize, reached only under load).
  for (const batch of BATCHES) {
    const at = (name: string) => `${name}, ${batch} msg/batch`;
    if (sleep) {
      // A held sweep key is read by every one-minute sweep until the timer fires (worst case: one per minute).
      operations.push(costOf(at('sleep ≤ 1 min (W2, sweep key held)'), sleep, prices, { 'Sweeper.HeldReads': 1 }, 3, batch));
      operations.push(costOf(at(`sleep of ${SWEEP_HOLD_MS / 60_000} min (W2, sweep key held)`), sleep, prices, { 'Sweeper.HeldReads': SWEEP_HOLD_MS / 60_000 }, 3, batch));
    }
    if (sleepMoved) {
      operations.push(costOf(at(`sleep ${SWEEP_HOLD_MS / 60_000}–15 min (W2, sweep key moved)`), sleepMoved, prices, {}, 3, batch));
      operations.push(costOf(at('sleep > 15 min (W2, sweep key moved, + Scheduler)'), sleepMoved, prices, { 'Scheduler.Invocation': 1 }, 3, batch));
    }
    if (wait && step) {
      operations.push(
        costOf(at('event wait, 1 event per wait (W6)'), subtract(wait, step), prices, { 'EventBridge.PutEvents': 1, 'Lambda.Invoke': 1, 'Router.InlineResumes': 1 }, 3, batch),
      );
    }
    if (fanInMeasured && step) {
      const runs = (fanIn!.data as { runs: number }).runs;
      operations.push(
        costOf(
          at(`event wait, 1 event per ${runs} waits (W4)`),
          subtract(scale(fanInMeasured, 1 / runs), step),
          prices,
          { 'EventBridge.PutEvents': 1 / runs, 'Lambda.Invoke': 1 / runs, 'Router.InlineResumes': 1 / runs },
          3,
          batch,
        ),
      );
    }
  }
  return {
    operations,
    peers: peerPrices(prices),
    pricesChecked: prices.checked,
    notes: [
      'measured on the embedded default: real DynamoDB/SQS requests against dynalite/fauxqs, counted by the adapters\' middleware; capacity units applied per AWS rules by bench/cost/capacity-meter.ts',
      'event waits: W6 gives one event per wait (the event\'s own PutEvents, router Lambda, recordEvent and shard queries are all on that wait); W4 gives the marginal cost per wait when one event resolves many (those per-event costs are divided by the runs); both minus one step',
      'modelled (in-process locally): EventBridge PutEvents (1 per event) and the router Lambda, which on AWS resumes the first run an event wakes itself (its dispatch message and worker invocation are taken out); Scheduler (only sleeps > 15 min; shorter ones are SQS DelaySeconds, measured); the event source mapping\'s ReceiveMessage and DeleteMessageBatch and the worker Lambda invocation, 1 per batch of dispatches (at 1 and at 10 messages per batch)',
      'targets are read at 1 message per batch: the event source mapping fills batches of 10 only when 10 dispatches are waiting at a poll (sustained load) or with a batching window (added latency)',
      `indexes metered as TABLE_SCHEMA defines them: ${METERED_INDEXES.map((i) => i.label).join('; ')}`,
      'per-step figures exclude the run\'s fixed cost (start, lease, load, finish), which a run pays once whatever its length',
      '"with duration" adds the engine\'s Lambda GB-seconds: awaited requests × assumed latency × worker memory (prices.json assumptions)',
    ],
  };
}

function targets(results: BenchResults): Target[] {
  const { rows } = results;
  const t: Target[] = [];
  const add = (name: string, target: string, v: number | undefined, unit: string, ok: (v: number) => boolean) =>
    t.push({ name, target, value: v, unit, met: v === undefined ? undefined : ok(v) });
  const ratio = (name: string) => results.ratios.find((r) => r.name === name)?.value;
  add('W1 test env vs AWS runner (skipTime)', '≥ 1,000×', ratio('W1 test env vs AWS runner (skipTime)'), '×', (v) => v >= 1000);
  add('W1 test env vs AWS runner', '≥ 100×', ratio('W1 test env vs AWS runner'), '×', (v) => v >= 100);
  add('W2 test env: sleep 1h', '≤ 10 ms', value(find(rows, 'W2', 'test env'), 'sleep 1h'), 'ms', (v) => v <= 10);
  add('W1 embedded', '≥ 700 steps/s', value(find(rows, 'W1', 'embedded'), 'throughput'), 'steps/s', (v) => v >= 700);
  add('W3 embedded', '≥ 1,600 steps/s', value(find(rows, 'W3', 'embedded'), 'throughput'), 'steps/s', (v) => v >= 1600);
  add('W6 embedded', '≤ 4 ms', value(find(rows, 'W6', 'embedded'), 'push → resumed and finished, p50'), 'ms', (v) => v <= 4);
  add('soak embedded: heap slope over the second half', '≤ 100 B/run (flat)', value(find(rows, 'soak', 'embedded'), 'heap slope'), 'B/run', (v) => v <= 100);
  add('W7 embedded: killed run, restart → first step', '≤ 500 ms', value(find(rows, 'W7', 'embedded'), 'killed run'), 'ms', (v) => v <= 500);
  add('W4 embedded: all resumed', '≤ 2,000 ms', value(find(rows, 'W4', 'embedded'), 'push matching all'), 'ms', (v) => v <= 2000);
  add('worker bundle (construct default)', '≤ 250 KB', value(find(rows, 'bundle', 'worker Lambda'), 'bundle, runtime AWS SDK'), 'KB', (v) => v <= 250);
  for (const op of results.cost?.operations ?? []) {
    if (op.target !== undefined) add(`cost: ${op.operation}`, `≤ $${op.target}/M`, op.usdPerMillion, '$/M', (v) => v <= op.target!);
  }
  return t.filter((x) => x.value !== undefined);
}

function w5ChartOf(rows: Row[], machine: MachineInfo): string | undefined {
  const colors: Record<string, string> = { 'test env': '#1f77b4', embedded: '#d62728' };
  const series = rows
    .filter((r) => r.workload === 'W5')
    .map((r) => ({ label: r.system === 'test env' ? 'test environment (memory)' : 'embedded default (dynalite + fauxqs)', color: colors[r.system] ?? '#333', points: (r.data as { points: W5Point[] }).points }));
  if (series.length === 0) return undefined;
  return w5Chart(series, `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.date.slice(0, 10)}`);
}

function render(results: BenchResults): string {
  const { machine } = results;
  const out: string[] = [];
  out.push(`durable-tasks benchmarks — ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.date}${results.options.quick ? ' (QUICK: small sizes)' : ''}`);
  out.push('');
  const body: string[][] = [];
  for (const row of results.rows) {
    row.figures.forEach((f, i) => body.push([i === 0 ? row.workload : '', i === 0 ? row.system : '', f.name, fmt(f.value), f.unit]));
  }
  out.push(renderTable(['workload', 'system', 'figure', 'value', 'unit'], body, [false, false, false, true, false]));
  if (results.ratios.length) {
    out.push('');
    out.push(renderTable(['ratio', 'value', 'meaning'], results.ratios.map((r) => [r.name, `${fmt(r.value, 1)}×`, r.note]), [false, true, false]));
  }
  if (results.cost) {
    out.push('');
    out.push(`cost per million operations (us-east-1 list prices checked ${results.cost.pricesChecked}; bench/prices.json)`);
    const lines: string[][] = [];
    for (const op of results.cost.operations) {
      lines.push([op.operation, '', '', `$${fmt(op.usdPerMillion, 3)}`, `$${fmt(op.usdPerMillionWithDuration, 3)}`, op.target !== undefined ? `≤ $${op.target}` : '']);
      for (const l of op.lines) lines.push(['', `${l.item}${l.basis === 'modelled' ? ' [modelled]' : ''}`, `${fmt(l.quantity, 3)} ${l.unit}`, `$${fmt(l.usdPerMillionOps, 3)}`, '', '']);
    }
    for (const p of results.cost.peers) lines.push([p.name, '', '', `$${fmt(p.usdPerMillion)}`, '', '']);
    out.push(renderTable(['operation', 'request', 'per op', '$/M ops', 'with duration', 'target'], lines, [false, false, true, true, true, false]));
  }
  if (results.targets.length) {
    out.push('');
    out.push(renderTable(['target', 'wanted', 'measured', 'met'], results.targets.map((t) => [t.name, t.target, `${fmt(t.value ?? Number.NaN)} ${t.unit}`, t.met ? 'yes' : 'NO']), [false, false, true, false]));
  }
  return out.join('\n');
}
