/**
 * `npm run bench` in quick mode on the test environment only: the script runs to the end and writes
 * well-formed results (never a wall-clock assertion: figures depend on the machine).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKLOADS = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6'];

interface Results {
  machine: { cpu: string; cores: number; node: string; date: string };
  options: { quick: boolean; modes: string[] };
  rows: { workload: string; system: string; figures: { name: string; value: number; unit: string }[]; data?: unknown }[];
  targets: { name: string; met: boolean | undefined }[];
}

let out: string;
let run: ReturnType<typeof spawnSync>;
beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  run = spawnSync(process.execPath, ['--no-warnings', '--import', 'tsx', 'bench/run.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 150_000,
    env: { ...process.env, BENCH_QUICK: '1', BENCH_MODES: 'test', BENCH_ONLY: [...WORKLOADS, 'soak', 'sim'].join(','), BENCH_PEERS: '0', BENCH_OUT: out, PG_URL: '', BENCH_SOAK_RUNS: '40', BENCH_SOAK_WINDOW: '20' },
  });
}, 160_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run bench (quick, test environment)', () => {
  test('given BENCH_QUICK=1, when the script runs, then it exits 0 and prints the table', () => {
    expect(run.status, String(run.stderr)).toBe(0);
    expect(run.stdout).toContain('workload');
    for (const w of WORKLOADS) expect(run.stdout).toContain(w);
  });

  test('then results.json holds the machine and one well-formed row per workload', () => {
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.machine.cpu).not.toBe('');
    expect(results.machine.node).toMatch(/^v\d+/);
    expect(Number.isNaN(Date.parse(results.machine.date))).toBe(false);
    expect(results.options).toMatchObject({ quick: true, modes: ['test'] });
    const testRows = results.rows.filter((r) => r.workload !== 'soak' && r.workload !== 'SIM');
    expect(testRows.map((r) => r.workload).sort()).toEqual(WORKLOADS);
    for (const row of testRows) {
      expect(row.system).toBe('test env');
      expect(row.figures.length).toBeGreaterThan(0);
      for (const f of row.figures) {
        expect(Number.isFinite(f.value), `${row.workload} ${f.name}`).toBe(true);
        expect(f.value).toBeGreaterThanOrEqual(0);
        expect(f.unit).not.toBe('');
      }
    }
    for (const t of results.targets) expect(typeof t.met).toBe('boolean');
  });

  test('then the soak row has its heap samples over time, its slope and a flat/not-flat verdict', () => {
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
    const row = results.rows.find((r) => r.workload === 'soak');
    expect(row, run.stderr as string).toBeDefined();
    expect(row!.system).toBe('embedded');
    const figure = (name: string) => row!.figures.find((f) => f.name.startsWith(name))?.value;
    expect(figure('runs')).toBe(40);
    expect(Number.isFinite(figure('heap slope'))).toBe(true);
    expect([0, 1]).toContain(figure('heap flat'));
    const samples = row!.data as { runs: number; heapBytes: number; rssBytes: number }[];
    expect(samples.length).toBeGreaterThan(5);
    expect(samples[samples.length - 1]!.runs).toBe(40);
    for (const s of samples) expect(s.heapBytes).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/soak: .*(FLAT|NOT FLAT)/);
  });

  test('then the throttling simulation replays the three loads with nothing lost or duplicated, and prints the modelled figures', () => {
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
    const rows = results.rows.filter((r) => r.workload === 'SIM');
    expect(rows.map((r) => r.system), run.stderr as string).toEqual(['sim: starts', 'sim: parked', 'sim: waiters', 'sim: modelled']);
    const figure = (row: Results['rows'][number], name: string) => row.figures.find((f) => f.name.startsWith(name))?.value;
    for (const row of rows.slice(0, 3)) {
      expect(figure(row, 'runs')).toBeGreaterThan(0);
      expect(figure(row, 'lost'), row.system).toBe(0);
      expect(figure(row, 'duplicated'), row.system).toBe(0);
      expect(figure(row, 'p99')).toBeGreaterThanOrEqual(figure(row, 'p50')!);
      const data = row.data as { throttled: Record<string, number>; sdkRetries: number; lambdaPeak: number; lambdaLimit: number };
      expect(data.lambdaPeak).toBeLessThanOrEqual(data.lambdaLimit); // Lambda's concurrency limit holds
    }
    // At 10,000 starts/s (scaled) some shared partition throttles, and the SDK retries what was throttled.
    const starts = rows[0]!.data as { throttled: Record<string, number>; sdkRetries: number };
    expect(Object.values(starts.throttled).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(starts.sdkRetries).toBeGreaterThan(0);
    const modelled = rows[3]!;
    expect(figure(modelled, 'AWS durable functions')).toBe(33);
    expect(figure(modelled, 'event -> resumed result, p50')).toBeGreaterThan(0);
    expect(run.stdout).toContain('sim: modelled');
  });

  test('then the W5 chart is an SVG with a line per mode run', () => {
    const svg = readFileSync(join(out, 'w5-resume-cost.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('test environment');
  });
});

describe('npm run bench (quick, embedded default)', () => {
  // The embedded rows meter DynamoDB capacity through the AWS store's client (bench/cost/capacity-meter.ts): a store
  // that stopped exposing it made every embedded workload a FAILED row while the test-environment smoke stayed green.
  test('given BENCH_MODES=local, when W1 runs, then it has an embedded row with its capacity per step and no FAILED row', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-local-'));
    try {
      const local = spawnSync(process.execPath, ['--no-warnings', '--import', 'tsx', 'bench/run.ts'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 150_000,
        env: { ...process.env, BENCH_QUICK: '1', BENCH_MODES: 'local', BENCH_ONLY: 'W1', BENCH_PEERS: '0', BENCH_OUT: dir, PG_URL: '' },
      });
      expect(local.status, String(local.stderr)).toBe(0);
      expect(`${local.stdout}${local.stderr}`).not.toContain('FAILED');
      const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results;
      const row = results.rows.find((r) => r.workload === 'W1' && r.system === 'embedded');
      expect(row, String(local.stderr)).toBeDefined();
      expect(row!.figures.length).toBeGreaterThan(0);
      for (const f of row!.figures) expect(Number.isFinite(f.value), f.name).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 160_000);
});
