/**
 * Modelled AWS figures, on the simulated account at full quotas (scale 1: nothing throttles) with the latency
 * model on: one run of n sequential steps (steps/s, ms per step, requests per step) and an event resuming a parked
 * run (push -> the run's result). The simulated wall time includes dynalite's own processing on this machine (about
 * 1-2 ms a request); the "modelled" figures replace it by the requests' AWS latencies alone.
 */
import type { Durable } from '../../sdk/durable.ts';
import { LATENCY } from './latency.ts';
import { median, percentile, round } from '../lib/stats.ts';
import { createWorld } from './world.ts';

export interface ModelledFigures {
  steps: number;
  /** Wall time in the simulation, per step. */
  simulatedMsPerStep: number;
  simulatedStepsPerSecond: number;
  /** DynamoDB requests per step, and those times DynamoDB's modelled p50 (they are sequential). */
  requestsPerStep: number;
  modelledMsPerStep: number;
  modelledStepsPerSecond: number;
  /** Push -> resumed run's result, simulated (includes EventBridge delivery, the router Lambda, the resume). */
  eventToResultP50Ms: number;
  eventToResultP99Ms: number;
  samples: number;
  /** The published figure this is set beside. */
  awsDurableFunctions: { stepsPerSecond: number; medianMsPerStep: number; source: string };
}

/** DynamoDB attempts (the queue's polling is not the run's). */
const attempts = (stats: Record<string, number>) => Object.entries(stats).reduce((a, [name, n]) => a + (name.startsWith('DynamoDB.') ? n : 0), 0);

export async function modelledFigures(quick: boolean): Promise<ModelledFigures> {
  const steps = quick ? 20 : 1_000;
  const samples = quick ? 2 : 10;
  let seq!: ReturnType<Durable['durableTask']>;
  let waiter!: ReturnType<Durable['durableTask']>;
  const world = await createWorld({
    scale: 1,
    seed: 4,
    define: (durable) => [
      (seq = durable.durableTask({
        name: 'sim-sequential',
        fn: async (input: { steps: number }, ctx) => {
          let total = 0;
          for (let i = 0; i < input.steps; i++) total += await ctx.step(`s${i}`, async () => i);
          return total;
        },
      })),
      (waiter = durable.durableTask({
        name: 'sim-event-resume',
        fn: async (input: { id: string }, ctx) => ctx.waitForEvent('sim:resume', `input.id == "${input.id}"`),
      })),
    ],
  });
  try {
    world.start(2, 3_600_000);
    const runOf = async (n: number) => {
      const before = attempts(world.edge.stats.attempts);
      const started = performance.now();
      await (await seq.runNoWait({ steps: n })).result();
      return { ms: performance.now() - started, requests: attempts(world.edge.stats.attempts) - before };
    };
    await runOf(5); // warm-up
    const empty = await runOf(0);
    const full = await runOf(steps);
    const msPerStep = (full.ms - empty.ms) / steps;
    const requestsPerStep = (full.requests - empty.requests) / steps;
    const modelledMsPerStep = requestsPerStep * LATENCY.DynamoDB.p50Ms;

    const times: number[] = [];
    for (let i = 0; i < samples + 1; i++) {
      const id = `e${i}`;
      const ref = await waiter.runNoWait({ id });
      for (let t = 0; t < 200 && (await world.observer.getRun(ref.runId))?.status !== 'WAITING'; t++) await new Promise((r) => setTimeout(r, 20));
      const result = ref.result();
      const started = performance.now();
      await world.durable.events.push('sim:resume', { id });
      await result;
      if (i > 0) times.push(performance.now() - started);
    }
    return {
      steps,
      simulatedMsPerStep: round(msPerStep, 2),
      simulatedStepsPerSecond: Math.round(1000 / msPerStep),
      requestsPerStep: round(requestsPerStep, 2),
      modelledMsPerStep: round(modelledMsPerStep, 2),
      modelledStepsPerSecond: Math.round(1000 / modelledMsPerStep),
      eventToResultP50Ms: round(median(times), 1),
      eventToResultP99Ms: round(percentile(times, 99), 1),
      samples,
      awsDurableFunctions: { stepsPerSecond: 33, medianMsPerStep: 29, source: 'as published for AWS Lambda durable functions (figure quoted in issue 19)' },
    };
  } finally {
    await world.close();
  }
}
