/**
 * W4: N runs wait on one event key with CEL filters. Each run waits for `input.phase == 1` (every run
 * matches the first push), then for `input.phase == 2 && input.bucket == <its bucket of 100>` (the second
 * push matches 1%). Reported per push: time from push until every matched run has resumed (run its next
 * step), and the requests spent from the push until every matched run is parked or finished again.
 */
import { CapacityMeter, type CapacitySnapshot } from '../cost/capacity-meter.ts';
import { diffRequests, engineRequests, requests, totalRequests, until, type BenchClient } from '../lib/modes.ts';
import { round } from '../lib/stats.ts';
import { figure, type BenchOptions, type Row } from '../lib/types.ts';

export function w4Runs(mode: 'test' | 'local', quick: boolean): number {
  if (quick) return mode === 'test' ? 500 : 100;
  const override = Number(process.env.BENCH_W4_LOCAL_RUNS);
  return mode === 'test' ? 10_000 : Number.isInteger(override) && override > 0 ? override : 1_000;
}

export async function w4(client: BenchClient, options: BenchOptions): Promise<Row> {
  const { durable } = client;
  const runs = w4Runs(client.mode, options.quick);
  const bucket = 7;
  let resumed1 = 0;
  let resumed2 = 0;
  let lastResume1 = 0;
  let lastResume2 = 0;
  const task = durable.durableTask({
    name: 'w4-fan-in',
    fn: async (input: { bucket: number }, ctx) => {
      await ctx.waitForEvent('w4:go', 'input.phase == 1');
      await ctx.step('resumed-1', async () => {
        resumed1++;
        lastResume1 = performance.now();
      });
      await ctx.waitForEvent('w4:go', `input.phase == 2 && input.bucket == ${input.bucket}`);
      await ctx.step('resumed-2', async () => {
        resumed2++;
        lastResume2 = performance.now();
      });
    },
  });
  const startedAt = performance.now();
  const runIds: string[] = [];
  for (let i = 0; i < runs; i += 200) {
    const refs = await Promise.all(Array.from({ length: Math.min(200, runs - i) }, (_, j) => task.runNoWait({ bucket: (i + j) % 100 })));
    runIds.push(...refs.map((r) => r.runId));
  }
  await client.waitRuns(runIds, 'parked', `${runs} runs to park`);
  const parkMs = performance.now() - startedAt;
  options.log(`  W4 ${client.mode}: ${runs} runs parked in ${round(parkMs)} ms`);

  const phase = async (payload: Record<string, unknown>, matched: string[], resumedCount: () => number, last: () => number) => {
    const r0 = requests(durable);
    const c0 = client.meter?.snapshot();
    const started = performance.now();
    await durable.events.push('w4:go', payload);
    const pushMs = performance.now() - started;
    await until(`${matched.length} runs to resume`, () => resumedCount() >= matched.length, 900_000, 1);
    const resumedMs = last() - started;
    await client.waitRuns(matched, phaseTwo ? 'terminal' : 'parked', `${matched.length} resumed runs to park or finish`);
    phaseTwo = true;
    const spent = engineRequests(diffRequests(r0, requests(durable)));
    const capacity: CapacitySnapshot | undefined = c0 ? CapacityMeter.diff(c0, client.meter!.snapshot()) : undefined;
    return { pushMs, resumedMs, requests: spent, capacity };
  };
  let phaseTwo = false;
  const all = await phase({ phase: 1 }, runIds, () => resumed1, () => lastResume1);
  options.log(`  W4 ${client.mode}: push matching all resumed ${runs} in ${round(all.resumedMs)} ms`);
  const onePct = await phase({ phase: 2, bucket }, runIds.filter((_, i) => i % 100 === bucket), () => resumed2, () => lastResume2);
  if (resumed2 !== runs / 100) throw new Error(`W4: expected ${runs / 100} runs in bucket ${bucket} to resume, ${resumed2} did`);
  return {
    workload: 'W4',
    system: client.mode === 'test' ? 'test env' : 'embedded',
    figures: [
      figure(`push matching all ${runs}: all resumed`, round(all.resumedMs), 'ms'),
      figure('requests spent', totalRequests(all.requests), 'req'),
      figure(`push matching 1% (${runs / 100}): all resumed`, round(onePct.resumedMs), 'ms'),
      figure('requests spent', totalRequests(onePct.requests), 'req'),
    ],
    requests: all.requests,
    ...(all.capacity ? { capacity: all.capacity } : {}),
    notes: [
      `${runs} runs on one key${client.mode === 'local' && runs < 10_000 ? ' (fewer than 10,000 on the embedded default: see README; BENCH_W4_LOCAL_RUNS overrides)' : ''}; ${round(parkMs)} ms to start and park them`,
      `push call itself returned after ${round(all.pushMs)} ms (all) and ${round(onePct.pushMs)} ms (1%): the in-process router resolves waiters before push returns`,
      `requests of the 1% push: ${JSON.stringify(onePct.requests)}`,
    ],
    data: { runs, all, onePct },
  };
}
