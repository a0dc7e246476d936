/**
 * Flow control (issue 15), written once and run on the memory adapters (the test environment's) and on the aws/
 * adapters over dynalite + fauxqs (the embedded default's): concurrency strategies, rate limits, priority,
 * idempotency keys and the recovery of a slot whose holder died.
 */
import { forgeRun } from '../support/env.ts';
import { afterEach, describe, expect, test } from 'vitest';
import { ConcurrencyLimitStrategy, Priority, RateLimitDuration } from 'durable-tasks';
import type { Harness, HarnessFactory } from '../contract/harness.ts';

export function flowContract(name: string, make: HarnessFactory) {
  describe(`flow control: ${name}`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    async function statuses(harness: Harness, ids: readonly string[]): Promise<string[]> {
      return Promise.all(ids.map(async (id) => (await harness.durable.runs.get(id)).status));
    }

    /** A durable task per key that parks until `go:<id>` is pushed (a parked run keeps its slot). */
    function parking(harness: Harness, limitStrategy: ConcurrencyLimitStrategy, maxRuns = 1) {
      return harness.durable.durableTask({
        name: `parking-${limitStrategy}`,
        concurrency: { expression: 'input.userId', maxRuns, limitStrategy },
        fn: async (input: { userId: string; id: string }, ctx) => {
          await ctx.waitForEvent(`go:${input.id}`);
          return input.id;
        },
      });
    }
    type Parked = Awaited<ReturnType<ReturnType<typeof parking>['runNoWait']>>;

    /**
     * Starts one parking run per id on key u1, in turn: between two starts, `advance` lets 1 ms pass (each run is
     * older than the next), `settle` lets the run just started take its slot or queue.
     */
    async function startInTurn<const Ids extends readonly string[]>(
      harness: Harness,
      task: ReturnType<typeof parking>,
      ids: Ids,
      pause: 'advance' | 'settle',
    ): Promise<{ [K in keyof Ids]: Parked }> {
      const refs: Parked[] = [];
      for (const [i, id] of ids.entries()) {
        if (i > 0) await (pause === 'advance' ? harness.advance(1) : harness.settle());
        refs.push(await task.runNoWait({ userId: 'u1', id }));
      }
      return refs as { [K in keyof Ids]: Parked };
    }

    test('GROUP_ROUND_ROBIN: one run per key in flight, the others QUEUED saying why; a freed slot starts the next at once', async () => {
      h = await make();
      const task = parking(h, ConcurrencyLimitStrategy.GROUP_ROUND_ROBIN);
      const [a, b, c] = await startInTurn(h, task, ['a', 'b', 'c'], 'advance');
      const other = await task.runNoWait({ userId: 'u2', id: 'other' });
      await h.settle();
      expect(await statuses(h, [a.runId, b.runId, c.runId, other.runId])).toEqual(['WAITING', 'QUEUED', 'QUEUED', 'WAITING']);
      const queued = await h.durable.runs.get(b.runId);
      expect(queued.waitingFor).toContain('u1');
      expect(queued.concurrencyKey).toBe('parking-GROUP_ROUND_ROBIN#u1');
      await h.durable.events.push('go:a', {});
      await h.settle();
      // No time passed: the slot went to the oldest queued run when `a` finished, not at a sweep.
      expect(await statuses(h, [a.runId, b.runId, c.runId])).toEqual(['SUCCEEDED', 'WAITING', 'QUEUED']);
      await h.durable.events.push('go:b', {});
      await h.settle();
      await h.durable.events.push('go:c', {});
      await h.settle();
      expect(await c.result()).toBe('c');
    });

    test('priority: queued runs start high first, then oldest first', async () => {
      h = await make();
      const order: string[] = [];
      const task = h.durable.durableTask({
        name: 'prioritised',
        concurrency: { expression: 'input.userId', maxRuns: 1 },
        fn: async (input: { userId: string; id: string }, ctx) => {
          await ctx.waitForEvent(`go:${input.id}`);
          order.push(input.id);
          return input.id;
        },
      });
      const ids = ['first', 'low1', 'high', 'medium', 'low2'];
      const priorities = [undefined, Priority.LOW, Priority.HIGH, Priority.MEDIUM, undefined];
      for (const [i, id] of ids.entries()) {
        const p = priorities[i];
        await task.runNoWait({ userId: 'u', id }, p === undefined ? {} : { priority: p });
        await h.advance(1);
      }
      for (let i = 0; i < ids.length; i++) {
        // Release whichever run holds the slot now.
        for (const id of ids) await h.durable.events.push(`go:${id}`, {});
        await h.settle();
      }
      expect(order).toEqual(['first', 'high', 'medium', 'low1', 'low2']);
      expect((await h.durable.runs.list({ name: 'prioritised' })).every((r) => r.status === 'SUCCEEDED')).toBe(true);
    });

    test('CANCEL_IN_PROGRESS: a new run cancels the oldest in flight and takes its slot', async () => {
      h = await make();
      const task = parking(h, ConcurrencyLimitStrategy.CANCEL_IN_PROGRESS);
      const [a, b] = await startInTurn(h, task, ['a', 'b'], 'settle');
      await h.settle();
      expect(await statuses(h, [a.runId, b.runId])).toEqual(['CANCELLED', 'WAITING']);
      await h.durable.events.push('go:b', {});
      await h.settle();
      expect(await b.result()).toBe('b');
    });

    test('CANCEL_NEWEST: a new run that finds its key full is cancelled at once', async () => {
      h = await make();
      const task = parking(h, ConcurrencyLimitStrategy.CANCEL_NEWEST);
      const [a, b] = await startInTurn(h, task, ['a', 'b'], 'settle');
      await h.settle();
      expect(await statuses(h, [a.runId, b.runId])).toEqual(['WAITING', 'CANCELLED']);
      await expect(b.result()).rejects.toThrow(/CANCEL_NEWEST/);
      // The slot was never taken by b: a's slot frees when a ends, and a later run gets it.
      await h.durable.events.push('go:a', {});
      await h.settle();
      const c = await task.runNoWait({ userId: 'u1', id: 'c' });
      await h.settle();
      expect(await statuses(h, [a.runId, c.runId])).toEqual(['SUCCEEDED', 'WAITING']);
    });

    test('never more than maxRuns in flight per key (RUNNING or WAITING), over many runs', async () => {
      h = await make();
      const task = h.durable.durableTask({
        name: 'bounded',
        concurrency: { expression: 'input.key', maxRuns: 3 },
        fn: async (input: { key: string; n: number }, ctx) => {
          await ctx.sleepFor(`${1 + (input.n % 4)}s`);
          return input.n;
        },
      });
      const refs = await Promise.all(Array.from({ length: 16 }, (_, n) => task.runNoWait({ key: n % 2 ? 'odd' : 'even', n })));
      await h.settle();
      let maxSeen = 0;
      for (let step = 0; step < 40; step++) {
        const runs = await h.durable.runs.list({ name: 'bounded', limit: 100 });
        for (const key of ['odd', 'even']) {
          const ids = refs.filter((_, n) => (n % 2 ? 'odd' : 'even') === key).map((r) => r.runId);
          const inFlight = runs.filter((r) => ids.includes(r.runId) && (r.status === 'RUNNING' || r.status === 'WAITING')).length;
          maxSeen = Math.max(maxSeen, inFlight);
          expect(inFlight).toBeLessThanOrEqual(3);
        }
        if (runs.every((r) => r.status === 'SUCCEEDED')) break;
        await h.advance(1_000);
      }
      expect(maxSeen).toBe(3);
      expect(await Promise.all(refs.map((r) => r.result()))).toEqual(Array.from({ length: 16 }, (_, n) => n));
    });

    test('a static rate limit: runs over the window stay QUEUED and start at the refill, costing nothing meanwhile', async () => {
      h = await make();
      await h.durable.rateLimits.upsert({ key: 'crm-api', limit: 2, duration: RateLimitDuration.MINUTE });
      const task = h.durable.task({ name: 'crm-call', rateLimits: [{ staticKey: 'crm-api', units: 1 }], fn: async (input: { n: number }) => input.n });
      const refs = [];
      for (let n = 0; n < 5; n++) refs.push(await task.runNoWait({ n }));
      await h.settle();
      const first = await statuses(h, refs.map((r) => r.runId));
      expect(first.filter((s) => s === 'SUCCEEDED')).toHaveLength(2);
      expect(first.filter((s) => s === 'QUEUED')).toHaveLength(3);
      const waiting = await h.durable.runs.get(refs[first.indexOf('QUEUED')]!.runId);
      expect(waiting.waitingFor).toContain("rate limit 'crm-api'");
      const before = JSON.stringify(h.durable.metrics().requests);
      await h.advance(30_000);
      expect(JSON.stringify(h.durable.metrics().requests)).toBe(before);
      await h.advance(30_000);
      expect((await statuses(h, refs.map((r) => r.runId))).filter((s) => s === 'SUCCEEDED')).toHaveLength(4);
      await h.advance(60_000);
      expect(await Promise.all(refs.map((r) => r.result()))).toEqual([0, 1, 2, 3, 4]);
    });

    test('a dynamic rate limit: each key value has its own limit', async () => {
      h = await make();
      const task = h.durable.task({
        name: 'per-user',
        rateLimits: [{ dynamicKey: 'input.userId', units: 1, limit: 1, duration: RateLimitDuration.MINUTE }],
        fn: async (input: { userId: string }) => input.userId,
      });
      const a1 = await task.runNoWait({ userId: 'a' });
      const a2 = await task.runNoWait({ userId: 'a' });
      const b1 = await task.runNoWait({ userId: 'b' });
      await h.settle();
      expect(await statuses(h, [a1.runId, a2.runId, b1.runId])).toEqual(['SUCCEEDED', 'QUEUED', 'SUCCEEDED']);
      await h.advance(60_000);
      expect(await statuses(h, [a2.runId])).toEqual(['SUCCEEDED']);
    });

    test('bad input per run: units above the limit, a key never upserted, a key expression yielding a non-string', async () => {
      h = await make();
      await h.durable.rateLimits.upsert({ key: 'small', limit: 2, duration: 'SECOND' });
      const greedy = h.durable.task({ name: 'greedy', rateLimits: [{ staticKey: 'small', units: 5 }], fn: async () => 'ran' });
      await expect(greedy.run({})).rejects.toThrow(/needs 5 units, above the limit of 2/);
      const unset = h.durable.task({ name: 'unset', rateLimits: [{ staticKey: 'never-upserted', units: 1 }], fn: async () => 'ran' });
      await expect(unset.run({})).rejects.toThrow(/'never-upserted' was never set/);
      const keyed = h.durable.task({ name: 'keyed', concurrency: { expression: 'input.n', maxRuns: 1 }, fn: async () => 'ran' });
      await expect(keyed.run({ n: 5 })).rejects.toThrow(/concurrency.expression 'input.n' must yield a non-empty string, got 5/);
      // One bad run blocks no one.
      expect(await keyed.run({ n: 'five' })).toBe('ran');
    });

    test('idempotency keys: two concurrent starts make one run; a later start returns the same ref', async () => {
      h = await make();
      let ran = 0;
      const task = h.durable.task({
        name: 'webhook',
        fn: async (input: { n: number }) => {
          ran++;
          return input.n;
        },
      });
      const [x, y] = await Promise.all([
        task.runNoWait({ n: 1 }, { idempotencyKey: 'delivery-7' }),
        task.runNoWait({ n: 2 }, { idempotencyKey: 'delivery-7' }),
      ]);
      expect(x.runId).toBe(y.runId);
      await h.settle();
      const again = await task.runNoWait({ n: 3 }, { idempotencyKey: 'delivery-7' });
      expect(again.runId).toBe(x.runId);
      expect(await again.result()).toBe(1);
      expect(ran).toBe(1);
      expect(await h.durable.runs.list({ name: 'webhook' })).toHaveLength(1);
      expect((await h.durable.runs.get(x.runId)).idempotencyKey).toBe('delivery-7');
      const other = await task.runNoWait({ n: 4 }, { idempotencyKey: 'delivery-8' });
      expect(other.runId).not.toBe(x.runId);
    });

    test('crash recovery: a slot held by a run that ended without releasing it (crash) is freed', async () => {
      h = await make();
      const task = parking(h, ConcurrencyLimitStrategy.GROUP_ROUND_ROBIN);
      const [a, b] = await startInTurn(h, task, ['a', 'b'], 'settle');
      await h.settle();
      expect(await statuses(h, [a.runId, b.runId])).toEqual(['WAITING', 'QUEUED']);
      // The process that finished `a` died between its terminal write and the release.
      await forgeRun(h.backend.store, a.runId, { set: { status: 'FAILED', error: { name: 'Error', message: 'crashed' } } });
      await h.settle();
      expect(await statuses(h, [b.runId])).toEqual(['QUEUED']);
      // The sweeper re-dispatches the queued run; its gate checks the key's holders and frees the dead one's slot.
      await h.advance(61_000);
      await h.durable.engine.sweep();
      await h.settle();
      expect(await statuses(h, [b.runId])).toEqual(['WAITING']);
    });

    test('cancel: a cancelled queued run leaves the queue; a cancelled holder passes its slot on at once', async () => {
      h = await make();
      const task = parking(h, ConcurrencyLimitStrategy.GROUP_ROUND_ROBIN);
      const [a, b, c] = await startInTurn(h, task, ['a', 'b', 'c'], 'advance');
      await h.settle();
      await h.durable.runs.cancel(b.runId);
      await h.settle();
      expect(await statuses(h, [a.runId, b.runId, c.runId])).toEqual(['WAITING', 'CANCELLED', 'QUEUED']);
      await h.durable.runs.cancel(a.runId);
      await h.settle();
      expect(await statuses(h, [a.runId, b.runId, c.runId])).toEqual(['CANCELLED', 'CANCELLED', 'WAITING']);
    });

    test('workflows: concurrency applies to whole workflow runs', async () => {
      h = await make();
      const wf = h.durable.workflow({ name: 'wf-flow', concurrency: { expression: 'input.tenant', maxRuns: 1 } });
      wf.durableTask({ name: 'only', fn: async (input: { id: string }, ctx) => ctx.waitForEvent(`go:${input.id}`) });
      const a = await wf.runNoWait({ tenant: 't', id: 'a' } as never);
      await h.settle();
      const b = await wf.runNoWait({ tenant: 't', id: 'b' } as never);
      await h.settle();
      expect(await statuses(h, [a.runId, b.runId])).toEqual(['WAITING', 'QUEUED']);
      await h.durable.events.push('go:a', {});
      await h.settle();
      expect(await statuses(h, [a.runId, b.runId])).toEqual(['SUCCEEDED', 'WAITING']);
    });
  });
}
