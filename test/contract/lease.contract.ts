/**
 * Leases and wake-ups, written once and run on memory and on aws over dynalite + fauxqs: a timer that fires while
 * its run is being replayed is not lost; an abandoned processing gives its lease back; a replay whose lease is
 * taken over (or whose run is cancelled elsewhere) stops (`ctx.signal`) and records nothing more; a task retry
 * leaves none of the failed attempt's waiters and timers behind.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { delegatingStore, deferred, forgeRun } from '../support/env.ts';
import type { ClockTimers } from '../../sdk/adapters/memory/index.ts';
import type { RunRecord } from '../../sdk/ports.ts';
import type { Harness, HarnessFactory } from './harness.ts';

/** Polls `check` (real time) until it holds; fails the test after `ms`. */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 8_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function leaseContract(name: string, make: HarnessFactory) {
  describe(`leases and wake-ups: ${name}`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    test('a sleep that falls due while a sibling step runs finishes right after the step, with no sweep', async () => {
      let refusedLeases = 0;
      h = await make((store) =>
        delegatingStore(store, {
          lease: async (runId, intent) => {
            const updated = await store.lease(runId, intent);
            if (!updated) refusedLeases++;
            return updated;
          },
        }),
      );
      const inStep = deferred();
      const release = deferred();
      const task = h.durable.durableTask({
        name: 'sleep-beside-step',
        fn: async (_: object, ctx) => {
          const [slept, step] = await Promise.all([
            ctx.sleepFor('1s'),
            ctx.step('slow', async () => {
              inStep.resolve();
              await release.promise;
              return 'stepped';
            }),
          ]);
          return { slept: slept.durationMs, step };
        },
      });
      const ref = await task.runNoWait({});
      await inStep.promise;
      await until(() => h!.clock.nextDue() !== undefined, 'the sleep scheduled its timer');
      await new Promise((r) => setTimeout(r, 20)); // and parked (its due time was still ahead)
      // The sleep's timer fires while the step runs: its message finds the run leased and is dropped.
      h.clock.fireDue(h.clock.now() + 3_000);
      await until(() => refusedLeases > 0, 'the timer message was refused the lease');
      release.resolve();
      await h.settle();
      // No sweep and no further timer: the replay that parked must have noticed the due sleep itself.
      const run = await h.durable.runs.get(ref.runId);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.output).toEqual({ slept: 1_000, step: 'stepped' });
    });

    test('an abandoned processing (a backing service failed) releases its lease at once', async () => {
      let failed = false;
      h = await make((store) =>
        delegatingStore(store, {
          recordEntry: async (runId, entry, carried) => {
            if (!failed && entry.name === 'charge') {
              failed = true;
              throw Object.assign(new Error('ProvisionedThroughputExceededException (injected)'), { name: 'ProvisionedThroughputExceededException' });
            }
            return store.recordEntry(runId, entry, carried);
          },
        }),
      );
      let charged = 0;
      const task = h.durable.durableTask({ name: 'throttled', fn: async (_: object, ctx) => ctx.step('charge', () => ++charged) });
      const ref = await task.runNoWait({});
      await until(() => failed, 'the write failed');
      await h.settle();
      // Virtual time has not moved, so a lease kept until it ran out would refuse every worker from here on.
      const after = (await h.backend.store.getRun(ref.runId)) as RunRecord;
      if (after.status === 'RUNNING') {
        expect(after.leaseOwner).toBeUndefined();
        expect(after.leaseUntil!).toBeLessThan(h.clock.now());
        expect(await h.durable.engine.process(ref.runId)).toBe('completed');
        await h.settle();
      }
      const run = await h.durable.runs.get(ref.runId);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.output).toBe(2);
    });

    test('a replay whose lease is taken over aborts ctx.signal and records nothing more', async () => {
      h = await make(undefined, { leaseMs: 3_000 });
      const inStep = deferred();
      let reason: unknown;
      const task = h.durable.durableTask({
        name: 'lease-stolen',
        fn: async (_: object, ctx) =>
          ctx.step('slow', async () => {
            inStep.resolve();
            await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
            reason = ctx.signal.reason;
            return 'from the stale replay';
          }),
      });
      const ref = await task.runNoWait({});
      await inStep.promise;
      // Another worker takes the run over (its lease ran out under a long GC pause, say).
      const stolen = await forgeRun(h.backend.store, ref.runId, { set: { leaseOwner: 'thief/1', leaseUntil: h.clock.now() + 3_600_000 } }, { status: ['RUNNING'] });
      expect(stolen).toBeDefined();
      await until(() => reason !== undefined, 'ctx.signal aborted');
      expect((reason as Error).name).toBe('LeaseLostError');
      await new Promise((r) => setTimeout(r, 50));
      await h.settle();
      const loaded = await h.backend.store.loadRun(ref.runId);
      expect(loaded!.entries).toEqual([]);
      expect(loaded!.run.leaseOwner).toBe('thief/1');
    });

    test('a cancel made in another process aborts ctx.signal of a running step', async () => {
      h = await make(undefined, { leaseMs: 3_000 });
      const inStep = deferred();
      let reason: unknown;
      const task = h.durable.durableTask({
        name: 'cancelled-elsewhere',
        fn: async (_: object, ctx) => {
          await ctx.step('slow', async () => {
            inStep.resolve();
            await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
            reason = ctx.signal.reason;
            return 'stopped';
          });
          return 'not reached';
        },
      });
      const ref = await task.runNoWait({});
      await inStep.promise;
      // What `runs.cancel` in another process writes (this process never heard of it).
      await forgeRun(h.backend.store, ref.runId, { set: { cancelRequested: true } }, { status: ['RUNNING'] });
      await until(() => reason !== undefined, 'ctx.signal aborted');
      expect((reason as Error).name).toBe('RunCancelledError');
      await h.settle();
      await until(async () => (await h!.durable.runs.get(ref.runId)).status === 'CANCELLED', 'the run is CANCELLED');
    });

    test('a task retry removes the failed attempt\'s waiters and timers, so nothing wakes it before its backoff', async () => {
      h = await make();
      const task = h.durable.durableTask({
        name: 'retry-leftovers',
        retries: 1,
        backoff: { factor: 10, maxSeconds: 60 },
        fn: async (_: object, ctx) => {
          if (ctx.attempt > 0) return 'second attempt';
          await Promise.all([
            ctx.waitForEvent('leftover:key', '', { timeout: '1h' }),
            ctx.sleepFor('2h'),
            ctx.step('boom', () => {
              throw new Error('boom');
            }),
          ]);
          return 'not reached';
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      const parked = (await h.backend.store.loadRun(ref.runId))!;
      expect(parked.run.status).toBe('WAITING');
      expect(parked.run.attempt).toBe(1);
      expect(parked.waiters).toEqual([]);
      // Only the backoff's own timer is left: not the wait's timeout nor the 2 h sleep of attempt 0.
      expect((h.backend.timers as ClockTimers).size).toBe(1);
      // An event for the failed attempt's wait must not wake the run before its backoff (10 s) is due.
      await h.durable.events.push('leftover:key', { late: true });
      await h.settle();
      expect((await h.durable.runs.get(ref.runId)).status).toBe('WAITING');
      await h.advance(10_000);
      const run = await h.durable.runs.get(ref.runId);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.output).toBe('second attempt');
    });
  });
}
