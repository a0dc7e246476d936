/**
 * Flow control under load and races (issue 15), on the memory adapters and on the aws adapters over dynalite +
 * fauxqs: many runs started at once on one concurrency key all start (no lost hand-over), never above maxRuns;
 * priority among runs waiting for a slot or for a rate limit's refill; a hot key does not hold up other keys.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { Priority, RateLimitDuration } from 'durable-tasks';
import type { Harness, HarnessFactory } from '../contract/harness.ts';

export function flowRacesContract(name: string, make: HarnessFactory) {
  describe(`flow control under load: ${name}`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    for (const [runs, maxRuns] of [
      [60, 10],
      [50, 1],
    ] as const) {
      test(`${runs} runs started at once on one key (maxRuns ${maxRuns}) all run, never more than ${maxRuns} at a time, no sweep needed`, async () => {
        h = await make();
        let inFn = 0;
        let most = 0;
        const task = h.durable.task({
          name: `hot-${maxRuns}`,
          concurrency: { expression: 'input.key', maxRuns },
          fn: async (input: { n: number; key: string }) => {
            most = Math.max(most, ++inFn);
            await new Promise((r) => setTimeout(r, 2));
            inFn--;
            return input.n;
          },
        });
        const refs = await Promise.all(Array.from({ length: runs }, (_, n) => task.runNoWait({ n, key: 'hot' })));
        // No virtual time passes: every start must come from a hand-over or a free slot, not from a sweep or timer.
        await h.settle();
        const statuses = await Promise.all(refs.map(async (r) => (await h!.durable.runs.get(r.runId)).status));
        expect(statuses.filter((s) => s !== 'SUCCEEDED')).toEqual([]);
        expect(await Promise.all(refs.map((r) => r.result()))).toEqual(Array.from({ length: runs }, (_, n) => n));
        expect(most).toBeLessThanOrEqual(maxRuns);
        // Every slot was given back and every queue item removed.
        const flow = h.backend.flow ?? (h.backend.store as unknown as { flow: NonNullable<typeof h.backend.flow> }).flow;
        expect((await flow.acquireSlot(`hot-${maxRuns}#hot`, 'probe', 0)).state.holders).toEqual([]);
        expect(await flow.queueHead(`hot-${maxRuns}#hot`, 10)).toEqual([]);
      }, 120_000);
    }
  });
}
