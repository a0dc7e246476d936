/**
 * Long runs (API.md "Limits"): a run holds at least 50,000 durable operations, and resuming it reads its journal
 * with O(n) reads: one paginated Query (pages of at most 1 MB on DynamoDB), never a read per operation per replay.
 * On the test environment at 50,000 operations; on the aws adapters over dynalite at LONG_RUN_DYNALITE_OPS
 * (default 2,000: each step is a few dynalite writes, about 10 ms on a busy 2-core machine; 50000 takes about 10 minutes).
 */
import { afterAll, describe, expect, test } from 'vitest';
import { awsHarnessFactory, memoryHarness, type Harness, type HarnessFactory } from '../contract/harness.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

const DYNALITE_OPS = Number(process.env.LONG_RUN_DYNALITE_OPS ?? 2_000);

const backends: [string, HarnessFactory, number][] = [
  ['memory (test environment)', memoryHarness, 50_000],
  ['aws (dynalite + fauxqs)', (...args) => aws.factory(...args), DYNALITE_OPS],
];

const reads = (h: Harness) => {
  const s = h.backend.counter.snapshot();
  return { query: s['DynamoDB.Query'] ?? 0, get: s['DynamoDB.GetItem'] ?? 0, batchGet: s['DynamoDB.BatchGetItem'] ?? 0 };
};

describe.each(backends)('a long run on %s', (_name, factory, n) => {
  test(`${n} steps, a sleep, then the resume replays them all from one paginated read of the journal`, { timeout: 600_000 }, async () => {
    const h = await factory();
    try {
      let executed = 0;
      const task = h.durable.durableTask({
        name: 'long',
        executionTimeout: '1h',
        fn: async (input: { n: number }, ctx) => {
          let sum = 0;
          for (let i = 0; i < input.n; i++) sum += await ctx.step(`s${i}`, async () => (executed++, i));
          await ctx.sleepFor('1s');
          return { sum, now: (await ctx.now()).getTime() > 0 };
        },
      });
      const started = performance.now();
      const ref = await task.runNoWait({ n });
      await h.settle();
      // On the aws harness a replay this long can outlast settle()'s quiet period: wait for the park itself.
      for (let i = 0; i < 6000 && (await h.backend.store.getRun(ref.runId))?.status !== 'WAITING'; i++) await new Promise((r) => setTimeout(r, 100));
      await h.settle();
      const firstMs = performance.now() - started;
      expect(executed).toBe(n);
      expect((await h.backend.store.getRun(ref.runId))?.status).toBe('WAITING');
      const before = reads(h);
      const resumeStarted = performance.now();
      await h.advance(1000);
      const result = await ref.result();
      const resumeMs = performance.now() - resumeStarted;
      expect(result).toEqual({ sum: (n * (n - 1)) / 2, now: true });
      expect(executed).toBe(n); // every step replayed from the journal, none run again
      const after = reads(h);
      const loaded = await h.backend.store.loadRun(ref.runId);
      expect(loaded!.entries.filter((e) => e.kind === 'step')).toHaveLength(n);
      const queries = after.query - before.query;
      console.log(`long run ${h.name} n=${n}: first replay ${Math.round(firstMs)} ms, resume ${Math.round(resumeMs)} ms, resume Queries ${queries}, GetItems ${after.get - before.get}`);
      if (h.name === 'aws') {
        // The resume reads the journal with one Query per 1 MB page: O(n) items in O(n / page) requests, plus a
        // handful of reads that do not depend on n (the embedded worker's sweeps query the sweep index meanwhile).
        expect(queries).toBeGreaterThanOrEqual(1);
        expect(queries).toBeLessThanOrEqual(Math.ceil(n / 2_000) + 8);
        // GetItems: the lease, and result() polling the run item every 250 ms while the resume runs; none per step.
        expect(after.get - before.get).toBeLessThanOrEqual(10 + Math.ceil(resumeMs / 250));
      }
    } finally {
      await h.close();
    }
  });
});
