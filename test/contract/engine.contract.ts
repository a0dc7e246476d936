/**
 * The engine contract, written once and run on every backend (memory and aws over dynalite + fauxqs), so
 * the two can never drift.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { And, NonDeterminismError, Or, RunCancelledError } from 'durable-tasks';
import { delegatingStore, deferred } from '../support/env.ts';
import { MAX_PARKED_ENTRIES } from '../../sdk/core/journal.ts';
import type { Harness, HarnessFactory } from './harness.ts';

export function engineContract(name: string, make: HarnessFactory) {
  describe(`engine contract: ${name}`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    test('steps, a sleep, an event with CEL, Or and And, end to end', async () => {
      h = await make();
      let effects = 0;
      const task = h.durable.durableTask({
        name: 'tour',
        fn: async (input: { n: number }, ctx) => {
          const a = await ctx.step('a', () => (effects++, input.n + 1));
          const slept = await ctx.sleepFor('10m');
          const paid = await ctx.waitForEvent('paid', 'input.amount > 100');
          const first = await ctx.waitFor(Or({ sleepFor: '1h', readableDataKey: 'timer' }, { eventKey: 'nudge', readableDataKey: 'nudge' }));
          const both = await ctx.waitFor(And({ eventKey: 'x' }, { eventKey: 'y' }));
          return { a, slept, paid, first, both };
        },
      });
      const ref = await task.runNoWait({ n: 1 });
      await h.advance(10 * 60_000);
      await h.durable.events.push('paid', { amount: 5 });
      await h.durable.events.push('paid', { amount: 500 });
      await h.settle();
      await h.durable.events.push('nudge', 'now');
      await h.settle();
      await h.durable.events.push('x', 1);
      await h.settle();
      expect((await h.durable.runs.get(ref.runId)).status).toBe('WAITING');
      await h.durable.events.push('y', 2);
      expect(await ref.result()).toEqual({ a: 2, slept: { durationMs: 600_000 }, paid: { amount: 500 }, first: { nudge: 'now' }, both: { x: 1, y: 2 } });
      expect(effects).toBe(1);
      const details = await h.durable.runs.get(ref.runId);
      expect(details.operations.map((o) => `${o.kind}:${o.name}:${o.status}`)).toEqual([
        'step:a:done',
        'sleep::done',
        'event:paid:done',
        'wait:timer|nudge:done',
        'wait:x|y:done',
      ]);
      expect(await h.backend.store.findWaiters('x')).toEqual([]);
    });

    test('a sleep writes no entry item of its own: the park records it, the next entry item carries it', async () => {
      const written: string[] = [];
      h = await make((inner) =>
        delegatingStore(inner, {
          recordEntry: (runId, entry, carried) => {
            written.push(`${entry.kind}@${entry.position}+${(carried ?? []).map((e) => `${e.kind}@${e.position}`).join(',')}`);
            return inner.recordEntry(runId, entry, carried);
          },
        }),
      );
      const task = h.durable.durableTask({
        name: 'naps',
        fn: async (_: {}, ctx) => {
          const first = await ctx.sleepFor('1m');
          await ctx.step('a', () => 'a');
          await ctx.sleepFor('1m');
          await ctx.sleepFor('2m');
          return first;
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      expect((await h.backend.store.getRun(ref.runId))?.parkedEntries?.map((e) => [e.kind, e.position, e.dueAt! - h!.clock.now()])).toEqual([['sleep', 0, 60_000]]);
      await h.advance(60_000);
      await h.advance(60_000);
      await h.advance(120_000);
      expect(await ref.result()).toEqual({ durationMs: 60_000 });
      // One entry item (the step, carrying the first sleep); the last two sleeps stay on the finished run item.
      expect(written).toEqual(['step@1+sleep@0']);
      const details = await h.durable.runs.get(ref.runId);
      expect(details.operations.map((o) => `${o.kind}:${o.name}:${o.status}`)).toEqual(['sleep::done', 'step:a:done', 'sleep::done', 'sleep::done']);
      expect((await h.backend.store.loadRun(ref.runId))?.entries.map((e) => e.position)).toEqual([0, 1, 2, 3]);
    });

    test('a sleep is decided once: an early replay (a wake) reads its due time back instead of deciding it again', async () => {
      h = await make();
      const task = h.durable.durableTask({
        name: 'nap-and-poke',
        fn: async (_: {}, ctx) => {
          const [slept, poke] = await Promise.all([ctx.sleepFor('1h'), ctx.waitForEvent('poke')]);
          return { slept, poke };
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      await h.advance(10 * 60_000);
      await h.durable.events.push('poke', 1);
      await h.settle();
      expect((await h.durable.runs.get(ref.runId)).status).toBe('WAITING');
      // Due an hour after the start, not an hour after the poke.
      await h.advance(50 * 60_000);
      await h.settle();
      expect((await h.durable.runs.get(ref.runId)).status).toBe('SUCCEEDED');
      expect(await ref.result()).toEqual({ slept: { durationMs: 3_600_000 }, poke: 1 });
    });

    test('a sleep decided again after its park failed wakes the run at the new time, not at the lost decision', async () => {
      // The first park write fails (throttled through the SDK's retries, say): the sleep was never recorded, so the
      // redelivered message's replay, a second later, decides it again. Its timer must fire at that later time; the
      // lost decision's timer fires first, finds the run not due and does nothing.
      let failures = 1;
      h = await make((inner) =>
        delegatingStore(inner, {
          suspend: async (runId, intent) => {
            if (failures-- <= 0) return inner.suspend(runId, intent);
            h!.clock.fireDue(h!.clock.now() + 1_000); // the message comes back a second later
            throw new Error('park write failed');
          },
        }),
      );
      const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined); // the failed processing's log line
      const task = h.durable.durableTask({ name: 'nap-after-failed-park', fn: async (_: {}, ctx) => (await ctx.sleepFor('1h'), 'woke') });
      const ref = await task.runNoWait({});
      const startedAt = h.clock.now();
      await h.settle();
      // SQS redelivers by itself; the in-process queue does not (on SQS this one is a duplicate, skipped).
      await h.backend.dispatcher.dispatch({ runId: ref.runId });
      await vi.waitFor(async () => {
        await h!.settle();
        expect((await h!.backend.store.getRun(ref.runId))?.status).toBe('WAITING');
      });
      const parked = (await h.backend.store.getRun(ref.runId))!;
      expect(failures).toBe(-1);
      expect(parked.wakeAt).toBe(startedAt + 1_000 + 3_600_000);
      await h.advance(parked.wakeAt! - h.clock.now());
      await h.settle();
      expect((await h.durable.runs.get(ref.runId)).status).toBe('SUCCEEDED');
      expect(await ref.result()).toBe('woke');
      quiet.mockRestore();
    });

    test('a loop of sleeps keeps at most MAX_PARKED_ENTRIES on the run item; the rest go to entry items', async () => {
      let most = 0;
      h = await make((inner) =>
        delegatingStore(inner, {
          suspend: async (runId, intent) => {
            most = Math.max(most, intent.parked.length);
            return inner.suspend(runId, intent);
          },
          replayAgain: async (runId, intent) => {
            most = Math.max(most, intent.parked?.length ?? 0);
            return inner.replayAgain(runId, intent);
          },
          finish: async (runId, intent) => {
            most = Math.max(most, intent.parked.length);
            return inner.finish(runId, intent);
          },
        }),
      );
      const task = h.durable.durableTask({
        name: 'ticks',
        fn: async (_: {}, ctx) => {
          for (let i = 0; i < 20; i++) await ctx.sleepFor('1s');
          return 'done';
        },
      });
      const ref = await task.runNoWait({});
      for (let i = 0; i < 20; i++) await h.advance(1_000);
      expect(await ref.result()).toBe('done');
      expect(most).toBe(MAX_PARKED_ENTRIES);
      const loaded = await h.backend.store.loadRun(ref.runId);
      expect(loaded?.entries.map((e) => `${e.kind}@${e.position}`)).toEqual(Array.from({ length: 20 }, (_, i) => `sleep@${i}`));
      expect(loaded?.entries.every((e, i) => e.dueAt === loaded.entries[0]!.dueAt! + i * 1_000)).toBe(true);
    });

    test('a retried task sleeps again in its new attempt: parked entries of the failed attempt are not reused', async () => {
      h = await make();
      const attempts: number[] = [];
      const task = h.durable.durableTask({
        name: 'nap-then-fail-once',
        retries: 1,
        fn: async (_: {}, ctx) => {
          const slept = await ctx.sleepFor('1m');
          const attempt = await ctx.step('which', () => attempts.push(attempts.length) - 1);
          if (attempt === 0) throw new Error('first attempt fails');
          return slept;
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      await h.advance(60_000); // attempt 0 wakes, fails; attempt 1 starts and parks on its own sleep
      expect((await h.durable.runs.get(ref.runId)).status).toBe('WAITING');
      expect((await h.backend.store.getRun(ref.runId))?.parkedEntries?.map((e) => [e.attempt, e.position])).toEqual([[1, 0]]);
      await h.advance(60_000);
      expect(await ref.result()).toEqual({ durationMs: 60_000 });
      expect(attempts).toEqual([0, 1]);
    });

    test('duplicate dispatches execute the run once', async () => {
      h = await make();
      let executions = 0;
      const task = h.durable.durableTask({ name: 'dup', fn: async (_: {}, ctx) => ctx.step('once', () => ++executions) });
      const ref = await task.runNoWait({});
      await Promise.all([1, 2, 3].map(() => h!.backend.dispatcher.dispatch({ runId: ref.runId })));
      expect(await ref.result()).toBe(1);
      await h.settle();
      expect(executions).toBe(1);
    });

    test('a resolution during a replay is not lost (wake counter)', async () => {
      const gate = deferred();
      const reached = deferred();
      let hold = false;
      h = await make((inner) =>
        delegatingStore(inner, {
          suspend: async (runId, intent) => {
            if (hold) {
              hold = false;
              reached.resolve();
              await gate.promise;
            }
            return inner.suspend(runId, intent);
          },
        }),
      );
      const task = h.durable.durableTask({ name: 'pair', fn: async (_: {}, ctx) => Promise.all([ctx.waitForEvent('a'), ctx.waitForEvent('b')]) });
      const ref = await task.runNoWait({});
      await h.settle();
      hold = true;
      const pushA = h.durable.events.push('a', 'A');
      await pushA;
      await reached.promise; // the replay is parking right now
      await h.durable.events.push('b', 'B');
      gate.resolve();
      expect(await ref.result()).toEqual(['A', 'B']);
    });

    test('children: runChild waits for the child, no duplicate on replay', async () => {
      h = await make();
      const child = h.durable.durableTask({ name: 'child', fn: async (i: { v: number }, ctx) => (await ctx.sleepFor('1m'), i.v * 2) });
      const parent = h.durable.durableTask({
        name: 'parent',
        fn: async (_: {}, ctx) => {
          const out = await ctx.runChild(child, { v: 4 });
          await ctx.sleepFor('1m');
          return out;
        },
      });
      const ref = await parent.runNoWait({});
      await h.advance(60_000);
      await h.advance(60_000);
      expect(await ref.result()).toBe(8);
      expect(await h.durable.runs.list({ name: 'child' })).toHaveLength(1);
    });

    test('cancel a parked run; a later event changes nothing', async () => {
      h = await make();
      const task = h.durable.durableTask({ name: 'cancel-me', fn: async (_: {}, ctx) => ctx.waitForEvent('go') });
      const ref = await task.runNoWait({});
      await h.settle();
      await h.durable.runs.cancel(ref.runId);
      await expect(ref.result()).rejects.toBeInstanceOf(RunCancelledError);
      await h.durable.events.push('go', {});
      await h.settle();
      expect((await h.durable.runs.get(ref.runId)).status).toBe('CANCELLED');
      expect(await h.backend.store.findWaiters('go')).toEqual([]);
    });

    test('task retries with backoff, step retries, and a non-retryable failure', async () => {
      h = await make();
      const calls: number[] = [];
      const task = h.durable.durableTask({
        name: 'retrying',
        retries: 2,
        backoff: { factor: 2, maxSeconds: 10 },
        fn: async (_: {}, ctx) => {
          calls.push(ctx.attempt);
          const v = await ctx.step('flaky', (n) => {
            if (n === 0) throw new Error('once');
            return n;
          }, { retries: 1 });
          if (ctx.attempt === 0) throw new Error('task once');
          return v;
        },
      });
      const ref = await task.runNoWait({});
      await h.advance(2_000);
      expect(await ref.result()).toBe(1);
      expect(calls).toEqual([0, 1]); // the step retried in-process (no backoff), then the task retried after 2 s
    });

    test('scope isolation and lookback', async () => {
      h = await make();
      const task = h.durable.durableTask({ name: 'scoped', fn: async (i: { s: string }, ctx) => ctx.waitForEvent('e', '', { scope: i.s }) });
      const a = await task.runNoWait({ s: 'A' });
      const b = await task.runNoWait({ s: 'B' });
      await h.settle();
      await h.durable.events.push('e', 'for B', { scope: 'B' });
      expect(await b.result()).toBe('for B');
      await h.settle();
      expect((await h.durable.runs.get(a.runId)).status).toBe('WAITING');
      await h.durable.events.push('past', { v: 1 });
      await h.advance(60_000);
      const late = h.durable.durableTask({ name: 'late', fn: async (_: {}, ctx) => ctx.waitForEvent('past', '', { lookback: '5m' }) });
      expect(await late.run({})).toEqual({ v: 1 });
    });

    test('non-determinism fails the run naming the position and both operations', async () => {
      h = await make();
      let v = 1;
      const task = h.durable.durableTask({
        name: 'nd',
        fn: async (_: {}, ctx) => {
          await ctx.step(v === 1 ? 'a' : 'b', () => 0);
          await ctx.waitForEvent('go');
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      v = 2;
      await h.durable.events.push('go', {});
      const error = await ref.result().catch((e) => e);
      expect(error).toBeInstanceOf(NonDeterminismError);
      expect(error).toMatchObject({ position: 0, expected: "step('a')", actual: "step('b')" });
      expect((await h.durable.runs.get(ref.runId)).error?.name).toBe('NonDeterminismError');
    });

    test('a long journal replays correctly (pagination)', async () => {
      h = await make();
      const task = h.durable.durableTask({
        name: 'long',
        fn: async (_: {}, ctx) => {
          let total = 0;
          for (let i = 0; i < 300; i++) total += await ctx.step(`s${i}`, () => ({ i, pad: 'x'.repeat(2000) })).then((r) => r.i);
          await ctx.waitForEvent('finish');
          return total;
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      // Only an event pushed after the wait began counts (API.md); under load the aws harness's settle() can return
      // while the 300-step replay is still running, so wait for the run to park first.
      while ((await h.durable.runs.get(ref.runId)).status !== 'WAITING') await new Promise((r) => setTimeout(r, 20));
      await h.durable.events.push('finish', {});
      expect(await ref.result()).toBe((299 * 300) / 2);
    }, 120_000); // 300 steps on dynalite: seconds alone, over 30 s on a loaded 2-core machine
  });
}
