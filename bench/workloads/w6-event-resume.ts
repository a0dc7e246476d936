/**
 * W6: a run parked on `waitForEvent` is resumed by a push: time from `events.push` to the run's result,
 * median of 20. The run is parked before timing starts, and `result()` is already waiting, so the figure is
 * push → route → resume → replay → finish → result, nothing else. Also the requests and capacity one event
 * wait costs over its whole life (register, resolve, resume, clean up).
 */
import { CapacityMeter } from '../cost/capacity-meter.ts';
import { diffRequests, engineRequests, requests, type BenchClient } from '../lib/modes.ts';
import { median, percentile, round } from '../lib/stats.ts';
import { figure, type BenchOptions, type Row } from '../lib/types.ts';
import { perUnit, perUnitCapacity } from './w1-sequential-steps.ts';

export async function w6(client: BenchClient, options: BenchOptions): Promise<Row> {
  const { durable } = client;
  const samples = options.quick ? 3 : 20;
  const warmup = options.quick ? 1 : 3;
  const task = durable.durableTask({
    name: 'w6-event-resume',
    fn: async (input: { id: string; waits: number }, ctx) => {
      let last: unknown;
      for (let i = 0; i < input.waits; i++) {
        await ctx.step(`before-${i}`, async () => i);
        // The same filter for every wait: each push must resume exactly one wait (an event resolved two
        // consecutive waits before 8eb9a2d; the run's result checks it).
        last = await ctx.waitForEvent('w6:go', `input.id == "${input.id}"`);
      }
      return last;
    },
  });
  // Each dispatch (the start, then each push) is handled once, ending parked or finished; the run's state
  // (not the count of handled dispatches, which a sweeper's duplicate would advance) says when.
  let expected = client.handled();
  const parked = async (runId: string) => {
    expected++;
    await client.waitRuns([runId], 'parked', `run ${runId} to park`);
  };
  const finished = async (runId: string) => {
    await client.waitRuns([runId], 'terminal', `run ${runId} to finish`);
    await client.waitHandled(++expected, `run ${runId}'s last dispatch to be acknowledged`);
  };
  const times: number[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    const id = `w6-${i}`;
    const ref = await task.runNoWait({ id, waits: 1 });
    await parked(ref.runId);
    const done = ref.result();
    await new Promise((r) => setImmediate(r));
    const started = performance.now();
    await durable.events.push('w6:go', { id, i: 0 });
    const out = (await done) as { id: string };
    const ms = performance.now() - started;
    if (out.id !== id) throw new Error(`W6: run ${id} resumed with ${JSON.stringify(out)}`);
    await finished(ref.runId);
    if (i >= warmup) times.push(ms);
  }
  const row: Row = {
    workload: 'W6',
    system: client.mode === 'test' ? 'test env' : 'embedded',
    figures: [figure('push → resumed and finished, p50', round(median(times), 2), 'ms'), figure('p90', round(percentile(times, 90), 2), 'ms')],
    notes: [`median of ${samples} after ${warmup} warm-up; the run is parked (WAITING) before the push`],
    data: { samplesMs: times.map((t) => round(t, 2)) },
  };
  if (client.meter) {
    // One more wait in a run: (run with k waits) − (run with 0 waits), over k. Covers register, push, resolve, resume, cleanup.
    const k = options.quick ? 2 : 5;
    const cost = async (waits: number) => {
      const id = `w6-cost-${waits}`;
      const r0 = requests(durable);
      const c0 = client.meter!.snapshot();
      const ref = await task.runNoWait({ id, waits });
      for (let i = 0; i < waits; i++) {
        await parked(ref.runId);
        await durable.events.push('w6:go', { id, i });
      }
      await ref.result();
      await finished(ref.runId);
      return { requests: engineRequests(diffRequests(r0, requests(durable))), capacity: CapacityMeter.diff(c0, client.meter!.snapshot()) };
    };
    const none = await cost(0);
    const some = await cost(k);
    // The k steps in the run with waits are a step each: remove them with W1's per-step cost later (cost model).
    row.requests = perUnit(some.requests, none.requests, k);
    row.capacity = perUnitCapacity(some.capacity, none.capacity, k);
    row.notes!.push(`requests/capacity are per event wait incl. one step and one push: (k waits) − (0 waits), k = ${k}; the cost model subtracts the step`);
  }
  return row;
}
