/**
 * Soak: a long-lived embedded worker (`Durable.local()`, its own state directory) runs many runs, each a sleep
 * then an event wait, and the heap (after GC) and RSS are sampled as it goes (soak-child.ts, a process of its own
 * with --expose-gc). Verdict: flat when the heap's least-squares slope over the second half of the samples is at
 * most `FLAT_BYTES_PER_RUN` per finished run (a leak of one parked continuation, a journal or an input per run
 * is kilobytes per run). Runs 100,000 by default (BENCH_SOAK_RUNS), 100 in quick mode.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { round } from '../lib/stats.ts';
import { figure, type BenchOptions, type Row } from '../lib/types.ts';

const CHILD = fileURLToPath(new URL('./soak-child.ts', import.meta.url));
/** A heap slope at or below this, per finished run, over the second half counts as flat. */
export const FLAT_BYTES_PER_RUN = 100;

export interface SoakSample {
  runs: number;
  elapsedMs: number;
  heapBytes: number;
  rssBytes: number;
}

/** Least-squares slope of `y` over `x`. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

export async function soak(options: BenchOptions): Promise<Row> {
  const runs = Number(process.env.BENCH_SOAK_RUNS ?? (options.quick ? 100 : 100_000));
  const window = Number(process.env.BENCH_SOAK_WINDOW ?? 100);
  const sampleEvery = Math.max(1, Math.round(runs / 40));
  // BENCH_SOAK_MINUTES caps the time (on a loaded machine 100,000 runs can take hours): no run starts after it.
  const maxMs = Number(process.env.BENCH_SOAK_MINUTES ?? Infinity) * 60_000;
  const sampleMs = options.quick ? Infinity : 30_000;
  const dir = mkdtempSync(join(tmpdir(), 'durable-soak-'));
  const samples: SoakSample[] = [];
  try {
    const child = spawn(process.execPath, ['--expose-gc', '--no-warnings', '--import', 'tsx', CHILD, dir, String(runs), String(window), String(sampleEvery), String(maxMs), String(sampleMs)], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let buffer = '';
    let elapsedMs = 0;
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let i;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const [kind, ...fields] = buffer.slice(0, i).split(' ');
        buffer = buffer.slice(i + 1);
        const [a, b, c, d] = fields.map(Number) as [number, number, number, number];
        if (kind === 'sample') {
          samples.push({ runs: a, elapsedMs: b, heapBytes: c, rssBytes: d });
          options.log(`  soak: ${a} runs, ${round(b / 1000, 1)} s, heap ${mb(c)} MB, RSS ${mb(d)} MB`);
        } else if (kind === 'done') elapsedMs = b;
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (code !== 0) throw new Error(`soak: the worker process exited with ${code}: ${stderr}`);
    const last = samples[samples.length - 1]!;
    const half = samples.filter((s) => s.runs >= last.runs / 2);
    const heapSlope = slope(half.map((s) => ({ x: s.runs, y: s.heapBytes })));
    const rssSlope = slope(half.map((s) => ({ x: s.runs, y: s.rssBytes })));
    const first = samples.find((s) => s.runs > 0) ?? samples[0]!;
    const flat = heapSlope <= FLAT_BYTES_PER_RUN;
    options.log(`  soak: heap slope over the second half ${round(heapSlope, 1)} B/run, RSS ${round(rssSlope, 1)} B/run: ${flat ? 'FLAT' : 'NOT FLAT'}`);
    return {
      workload: 'soak',
      system: 'embedded',
      figures: [
        figure('runs', last.runs, 'runs'),
        figure('duration', round(elapsedMs / 1000, 1), 's'),
        figure('throughput', round(last.runs / (elapsedMs / 1000), 1), 'runs/s'),
        figure('heap after GC, first sample', mb(first.heapBytes), 'MB'),
        figure('heap after GC, last sample', mb(last.heapBytes), 'MB'),
        figure('heap slope, second half', round(heapSlope, 1), 'B/run'),
        figure('RSS, first sample', mb(first.rssBytes), 'MB'),
        figure('RSS, last sample', mb(last.rssBytes), 'MB'),
        figure('RSS slope, second half', round(rssSlope, 1), 'B/run'),
        figure('heap flat (slope ≤ 100 B/run)', flat ? 1 : 0, 'bool'),
      ],
      notes: [
        `${last.runs} runs${last.runs < runs ? ` of ${runs} (time cap BENCH_SOAK_MINUTES)` : ''} (sleep 20 ms, then waitForEvent), ${window} at a time, one long-lived Durable.local() process; heap after GC every ${sampleEvery} runs${sampleMs < Infinity ? ` or ${sampleMs / 1000} s` : ''}`,
      ],
      data: samples,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function mb(bytes: number): number {
  return round(bytes / 2 ** 20, 1);
}
