/**
 * W1: one run of n sequential `ctx.step` calls (1,000 by default). Reports the median wall time of a run
 * (after warm-up) and steps per second; on the embedded default also the requests and DynamoDB capacity
 * one step costs, taken as the difference between a run of n steps and a run of none (so the run's fixed
 * cost — start, lease, load, finish — is not spread over the steps).
 */
import { CapacityMeter, combineSnapshots, type CapacitySnapshot } from '../cost/capacity-meter.ts';
import { diffRequests, engineRequests, requests, type BenchClient } from '../lib/modes.ts';
import { median, round } from '../lib/stats.ts';
import { figure, type BenchOptions, type Row } from '../lib/types.ts';

export interface W1Sizes {
  steps: number;
  warmup: number;
  runs: number;
}

export function w1Sizes(mode: 'test' | 'local', quick: boolean): W1Sizes {
  if (quick) return mode === 'test' ? { steps: 200, warmup: 1, runs: 3 } : { steps: 50, warmup: 1, runs: 1 };
  return mode === 'test' ? { steps: 1_000, warmup: 5, runs: 15 } : { steps: 1_000, warmup: 1, runs: 3 };
}

export async function w1(client: BenchClient, options: BenchOptions): Promise<Row> {
  const sizes = w1Sizes(client.mode, options.quick);
  const { durable } = client;
  const task = durable.durableTask({
    name: 'w1-sequential-steps',
    fn: async (input: { n: number }, ctx) => {
      let sum = 0;
      for (let i = 0; i < input.n; i++) sum += await ctx.step(`step-${i}`, async () => i);
      return sum;
    },
  });
  const expected = (sizes.steps * (sizes.steps - 1)) / 2;
  const runOnce = async (n: number) => {
    const out = await task.run({ n });
    if (n === sizes.steps && out !== expected) throw new Error(`W1: expected ${expected}, got ${String(out)}`);
  };
  for (let i = 0; i < sizes.warmup; i++) await runOnce(sizes.steps);
  const samples: number[] = [];
  for (let i = 0; i < sizes.runs; i++) {
    const started = performance.now();
    await runOnce(sizes.steps);
    samples.push(performance.now() - started);
  }
  const ms = median(samples);
  const row: Row = {
    workload: 'W1',
    system: client.mode === 'test' ? 'test env' : 'embedded',
    figures: [figure(`${sizes.steps} sequential steps`, round(ms), 'ms'), figure('throughput', Math.round((sizes.steps * 1000) / ms), 'steps/s')],
    notes: [`median of ${sizes.runs} runs after ${sizes.warmup} warm-up`],
    data: { samplesMs: samples.map((s) => round(s)), steps: sizes.steps },
  };
  if (client.meter) {
    const perStep = await marginalCost(client, sizes.steps, runOnce);
    row.requests = perStep.requests;
    row.capacity = perStep.capacity;
    row.notes!.push('requests and capacity are per step: (run of n steps − run of 0 steps) / n');
  }
  return row;
}

/** Requests and capacity of one more step: (cost of a run of n) − (cost of a run of 0), divided by n. */
async function marginalCost(client: BenchClient, n: number, runOnce: (n: number) => Promise<void>) {
  const measure = async (steps: number) => {
    const r0 = requests(client.durable);
    const c0 = client.meter!.snapshot();
    const h0 = client.handled();
    await runOnce(steps);
    await client.waitHandled(h0 + 1, 'the run\'s dispatch to be acknowledged');
    return { requests: engineRequests(diffRequests(r0, requests(client.durable))), capacity: CapacityMeter.diff(c0, client.meter!.snapshot()) };
  };
  const empty = await measure(0);
  const full = await measure(n);
  return { requests: perUnit(full.requests, empty.requests, n), capacity: perUnitCapacity(full.capacity, empty.capacity, n) };
}

export function perUnit(full: Record<string, number>, base: Record<string, number>, n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const op of new Set([...Object.keys(full), ...Object.keys(base)])) {
    const v = ((full[op] ?? 0) - (base[op] ?? 0)) / n;
    if (Math.abs(v) >= 0.0005) out[op] = round(v, 3);
  }
  return out;
}

export function perUnitCapacity(full: CapacitySnapshot, base: CapacitySnapshot, n: number): CapacitySnapshot {
  return combineSnapshots(full, base, (f, b) => round((f - b) / n, 3));
}
