/**
 * What `runs.get` says about pending operations, on every backend: a sleep still ahead is `sleeping` with its
 * due time (not `done`), a pending wait is `waiting` with its timeout's due time.
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { Harness, HarnessFactory } from './harness.ts';

export function runViewContract(name: string, make: HarnessFactory) {
  describe(`run view: ${name}`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    test('a pending sleep is sleeping until its due time, then done', async () => {
      h = await make();
      const task = h.durable.durableTask({
        name: 'napper',
        fn: async (_: {}, ctx) => {
          await ctx.step('before', () => 1);
          await ctx.sleepFor('10m');
          return 'woke';
        },
      });
      const start = h.clock.now();
      const ref = await task.runNoWait({});
      await h.settle();
      const due = new Date(start + 600_000).toISOString();
      const pending = await h.durable.runs.get(ref.runId);
      expect(pending.status).toBe('WAITING');
      const sleep = pending.operations.find((o) => o.kind === 'sleep')!;
      expect(sleep).toMatchObject({ status: 'sleeping', dueAt: due });
      // Its planned length is known from the start.
      expect(sleep.result).toEqual({ durationMs: 600_000 });
      await h.advance(600_000);
      expect(await ref.result()).toBe('woke');
      const done = (await h.durable.runs.get(ref.runId)).operations.find((o) => o.kind === 'sleep')!;
      expect(done).toMatchObject({ status: 'done', dueAt: due, result: { durationMs: 600_000 } });
    });

    test('a pending wait with a timeout is waiting, with the timeout as its due time', async () => {
      h = await make();
      const task = h.durable.durableTask({
        name: 'waiter',
        fn: async (_: {}, ctx) => ctx.waitForEvent('approve', undefined, { timeout: '1h' }),
      });
      const start = h.clock.now();
      const ref = await task.runNoWait({});
      await h.settle();
      const op = (await h.durable.runs.get(ref.runId)).operations[0]!;
      expect(op).toMatchObject({ kind: 'event', status: 'waiting', dueAt: new Date(start + 3_600_000).toISOString() });
      expect(op.waitingFor!.map((w) => w.type).sort()).toEqual(['event', 'sleep']);
    });

    test('a sleep cut short by a cancel is interrupted, not done', async () => {
      h = await make();
      const task = h.durable.durableTask({ name: 'cut', fn: async (_: {}, ctx) => ctx.sleepFor('1h') });
      const ref = await task.runNoWait({});
      await h.settle();
      await h.durable.runs.cancel(ref.runId);
      await h.settle();
      const run = await h.durable.runs.get(ref.runId);
      expect(run.status).toBe('CANCELLED');
      expect(run.operations.map((o) => o.status)).toEqual(['interrupted']);
    });
  });
}
