/**
 * W5: what a resume costs against the length of the journal. A run does n steps, then waits for an event;
 * the push resumes it, it replays n recorded steps and finishes. Reported per n: the resume's wall time
 * (push → result) and the requests it made, and the whole run's requests divided by n — flat when a run
 * costs O(n) requests, growing with n if it were O(n²). The journal is read back with one paginated Query
 * per resume, so its read units (not its request count) grow with n: reported too.
 */
import { CapacityMeter } from '../cost/capacity-meter.ts';
import { diffRequests, engineRequests, requests, totalRequests, type BenchClient } from '../lib/modes.ts';
import { median, round } from '../lib/stats.ts';
import { figure, type BenchOptions, type Row } from '../lib/types.ts';

export interface W5Point {
  n: number;
  resumeMs: number;
  resumeRequests: number;
  resumeRru: number;
  runRequests: number;
  requestsPerStep: number;
}

/**
 * The journal lengths measured. Full runs go to 50,000 operations (API.md "Limits") on the test environment; on the
 * embedded default (dynalite, about 10 ms a step on a busy 2-core machine, so about 10 minutes) only with
 * BENCH_W5_50K=1.
 */
export function w5Sizes(quick: boolean, mode: BenchClient['mode'] = 'test', env: NodeJS.ProcessEnv = process.env): number[] {
  if (quick) return [10, 100];
  return [10, 100, 1_000, 10_000, ...(mode === 'test' || env.BENCH_W5_50K === '1' ? [50_000] : [])];
}

export async function w5(client: BenchClient, options: BenchOptions): Promise<Row> {
  const { durable } = client;
  const task = durable.durableTask({
    name: 'w5-resume-cost',
    fn: async (input: { id: string; n: number }, ctx) => {
      for (let i = 0; i < input.n; i++) await ctx.step(`step-${i}`, async () => i);
      return ctx.waitForEvent('w5:go', `input.id == "${input.id}"`);
    },
  });
  let handled = client.handled();
  let seq = 0;
  const once = async (n: number) => {
    const id = `w5-${n}-${seq++}`;
    const r0 = requests(durable);
    const ref = await task.runNoWait({ id, n });
    handled++;
    await client.waitRuns([ref.runId], 'parked', `the ${n}-step run to park`);
    const r1 = requests(durable);
    const c1 = client.meter?.snapshot();
    const done = ref.result();
    await new Promise((r) => setImmediate(r));
    const started = performance.now();
    await durable.events.push('w5:go', { id });
    await done;
    const resumeMs = performance.now() - started;
    await client.waitRuns([ref.runId], 'terminal', `the ${n}-step run to finish`);
    await client.waitHandled(++handled, `the ${n}-step run's last dispatch to be acknowledged`);
    const r2 = requests(durable);
    const resume = engineRequests(diffRequests(r1, r2));
    const run = engineRequests(diffRequests(r0, r2));
    const capacity = client.meter ? CapacityMeter.diff(c1!, client.meter.snapshot()) : undefined;
    // The sweeper's periodic index queries (`Query <index>`) are not the resume's.
    const rru = capacity ? Object.entries(capacity).reduce((sum, [op, c]) => sum + (op.startsWith('Query ') ? 0 : c.rru), 0) : 0;
    return { resumeMs, resume, run, rru };
  };
  await once(10); // warm-up
  const points: W5Point[] = [];
  const detail: Record<string, { resume: Record<string, number>; run: Record<string, number> }> = {};
  for (const n of w5Sizes(options.quick, client.mode)) {
    const repeats = options.quick || n >= 10_000 ? 1 : 3;
    const samples = [];
    for (let i = 0; i < repeats; i++) samples.push(await once(n));
    const last = samples[samples.length - 1]!;
    const runRequests = totalRequests(last.run);
    points.push({
      n,
      resumeMs: round(median(samples.map((s) => s.resumeMs))),
      resumeRequests: totalRequests(last.resume),
      resumeRru: last.rru,
      runRequests,
      requestsPerStep: round(runRequests / n, 3),
    });
    detail[n] = { resume: last.resume, run: last.run };
    options.log(`  W5 ${client.mode} n=${n}: resume ${round(median(samples.map((s) => s.resumeMs)))} ms, ${totalRequests(last.resume)} requests; run ${runRequests} requests (${round(runRequests / n, 3)}/step)`);
  }
  const growth = points.length > 1 ? points[points.length - 1]!.requestsPerStep / points[1]!.requestsPerStep : 1;
  return {
    workload: 'W5',
    system: client.mode === 'test' ? 'test env' : 'embedded',
    figures: points.flatMap((p) => [
      figure(`n=${p.n}: resume`, p.resumeMs, 'ms'),
      figure(`n=${p.n}: requests per resume`, p.resumeRequests, 'req'),
      figure(`n=${p.n}: run requests / n`, p.requestsPerStep, 'req/step'),
    ]),
    notes: [
      `run requests / n from n=${points[1]?.n ?? '-'} to n=${points[points.length - 1]?.n}: ×${round(growth, 2)} (O(n) total when this stays ≈ 1)`,
      ...(client.meter ? [`read units per resume: ${points.map((p) => `n=${p.n}: ${p.resumeRru}`).join(', ')} (the journal is read in full on each resume)`] : ['test env: requests are in-memory port calls (Memory.*)']),
    ],
    data: { points, detail },
  };
}
