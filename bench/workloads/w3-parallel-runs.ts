/**
 * W3: many runs of a few steps at once (50 × 10 by default), all started together: steps per second from
 * the first start to the last result. Median of several rounds after a warm-up round.
 */
import type { BenchClient } from '../lib/modes.ts';
import { median, round } from '../lib/stats.ts';
import { figure, type BenchOptions, type Row } from '../lib/types.ts';

export async function w3(client: BenchClient, options: BenchOptions): Promise<Row> {
  const runs = options.quick ? 10 : 50;
  const steps = options.quick ? 5 : 10;
  const rounds = options.quick ? 1 : client.mode === 'test' ? 10 : 3;
  const task = client.durable.durableTask({
    name: 'w3-parallel',
    fn: async (input: { steps: number }, ctx) => {
      let sum = 0;
      for (let i = 0; i < input.steps; i++) sum += await ctx.step(`step-${i}`, async () => i);
      return sum;
    },
  });
  const round1 = async () => {
    const started = performance.now();
    const refs = await Promise.all(Array.from({ length: runs }, () => task.runNoWait({ steps })));
    await Promise.all(refs.map((r) => r.result()));
    return performance.now() - started;
  };
  await round1();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) samples.push(await round1());
  const ms = median(samples);
  return {
    workload: 'W3',
    system: client.mode === 'test' ? 'test env' : 'embedded',
    figures: [figure(`${runs} runs × ${steps} steps`, round(ms), 'ms'), figure('throughput', Math.round((runs * steps * 1000) / ms), 'steps/s')],
    notes: [`median of ${rounds} rounds after 1 warm-up round`],
    data: { samplesMs: samples.map((s) => round(s)) },
  };
}
