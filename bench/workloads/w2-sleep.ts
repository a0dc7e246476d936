/**
 * W2: sleeping. In the test environment, a run that sleeps 1 h with `advanceTime('1h')`: wall time from
 * start to result (the virtual clock skips the hour). On the embedded default, real short sleeps: each run
 * does k sleeps of d ms and records, for each, when it was due (`ctx.now()` + d) and when the step after it
 * ran; fired-at − due is the timer's lateness (p50/p99). Also the requests and capacity one more sleep costs.
 */
import { CapacityMeter } from '../cost/capacity-meter.ts';
import { SWEEP_HOLD_MS } from '../../sdk/adapters/aws/dynamo-sweep.ts';
import { diffRequests, engineRequests, requests, type BenchClient } from '../lib/modes.ts';
import { median, percentile, round } from '../lib/stats.ts';
import { figure, type BenchOptions, type Row } from '../lib/types.ts';
import { perUnit, perUnitCapacity } from './w1-sequential-steps.ts';

export async function w2(client: BenchClient, options: BenchOptions): Promise<Row> {
  return client.mode === 'test' ? w2TestEnv(client, options) : w2Embedded(client, options);
}

async function w2TestEnv(client: BenchClient, options: BenchOptions): Promise<Row> {
  const env = client.env!;
  const task = client.durable.durableTask({ name: 'w2-sleep-1h', fn: async (_: {}, ctx) => ctx.sleepFor('1h') });
  const warmup = options.quick ? 1 : 5;
  const runs = options.quick ? 3 : 20;
  const samples: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const started = performance.now();
    const ref = await task.runNoWait({});
    await env.advanceTime('1h');
    const out = (await ref.result()) as { durationMs: number };
    if (out.durationMs !== 3_600_000) throw new Error(`W2: expected durationMs 3600000, got ${JSON.stringify(out)}`);
    if (i >= warmup) samples.push(performance.now() - started);
  }
  return {
    workload: 'W2',
    system: 'test env',
    figures: [figure('sleep 1h (time skipped)', round(median(samples), 3), 'ms')],
    notes: [`start → advanceTime('1h') → result, median of ${runs} after ${warmup} warm-up`],
    data: { samplesMs: samples.map((s) => round(s, 3)) },
  };
}

async function w2Embedded(client: BenchClient, options: BenchOptions): Promise<Row> {
  const parallel = options.quick ? 1 : 3;
  const sleeps = options.quick ? 3 : 20;
  const sleepMs = 200;
  const task = client.durable.durableTask({
    name: 'w2-short-sleeps',
    fn: async (input: { k: number }, ctx) => {
      const lateness: number[] = [];
      for (let i = 0; i < input.k; i++) {
        // ctx.now() immediately followed by a sleep: the case that used to hang the replay (fixed in e5eaa31).
        const due = ctx.now().getTime() + sleepMs;
        await ctx.sleepFor(sleepMs);
        const firedAt = await ctx.step(`fired-${i}`, () => Date.now());
        lateness.push(firedAt - due);
      }
      return lateness;
    },
  });
  await task.run({ k: 1 }); // warm-up
  const outs = await Promise.all(Array.from({ length: parallel }, () => task.run({ k: sleeps })));
  const lateness = outs.flat() as number[];

  // One more sleep (with its ctx.now and step) minus one more plain step and now: what a sleep adds.
  const cost = async (fn: () => Promise<unknown>, dispatches: number) => {
    const r0 = requests(client.durable);
    const c0 = client.meter!.snapshot();
    const h0 = client.handled();
    await fn();
    await client.waitHandled(h0 + dispatches, 'the runs\' dispatches to be acknowledged');
    return { requests: engineRequests(diffRequests(r0, requests(client.durable))), capacity: CapacityMeter.diff(c0, client.meter!.snapshot()) };
  };
  const plain = client.durable.durableTask({
    name: 'w2-no-sleep',
    fn: async (input: { k: number }, ctx) => {
      for (let i = 0; i < input.k; i++) {
        ctx.now();
        await ctx.step(`fired-${i}`, () => Date.now());
      }
    },
  });
  const k = options.quick ? 2 : 5;
  const withSleeps = await cost(() => task.run({ k }), k + 1);
  const without = await cost(() => plain.run({ k }), 1);
  // A sleep longer than the sweep-key hold (5 min) moves the run's sweep-index key: measured by holding nothing.
  client.setSweepHoldMs!(0);
  const moved = await cost(() => task.run({ k }), k + 1);
  client.setSweepHoldMs!(SWEEP_HOLD_MS);
  return {
    workload: 'W2',
    system: 'embedded',
    figures: [
      figure(`timer lateness p50 (${sleepMs} ms sleeps)`, round(percentile(lateness, 50), 1), 'ms'),
      figure('timer lateness p99', round(percentile(lateness, 99), 1), 'ms'),
    ],
    requests: perUnit(withSleeps.requests, without.requests, k),
    capacity: perUnitCapacity(withSleeps.capacity, without.capacity, k),
    notes: [
      `${parallel} runs × ${sleeps} sleeps of ${sleepMs} ms; lateness = (step after the sleep ran) − (ctx.now() before it + ${sleepMs})`,
      'requests/capacity are per sleep: (k × (now, sleep, step)) − (k × (now, step)), k = ' + k,
      `a ${sleepMs} ms sleep keeps the run's sweep-index key (held: due within ${SWEEP_HOLD_MS / 60_000} min); data.keyMoved is the same measured with no hold, as a longer sleep costs`,
      'local timers are in-process; on AWS a sleep ≤ 15 min is one SQS SendMessage with DelaySeconds (whole seconds), beyond it one EventBridge Scheduler schedule',
    ],
    data: { latenessMs: lateness, keyMoved: { requests: perUnit(moved.requests, without.requests, k), capacity: perUnitCapacity(moved.capacity, without.capacity, k) } },
  };
}
