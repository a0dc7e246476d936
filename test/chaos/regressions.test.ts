/**
 * The failures the chaos suite found, each pinned down as a deterministic scenario (the seed that found it is
 * named; `CHAOS_SEED=<n> CHAOS_PROFILE=<p>` replays the original schedule).
 */
import { describe, expect, test, vi } from 'vitest';
import { Durable } from 'durable-tasks';
import { createMemoryBackend, VirtualClock } from '../../sdk/adapters/memory/index.ts';
import type { Backend, RunStore, Timers } from '../../sdk/ports.ts';
import { delegatingStore, forgeRun } from '../support/env.ts';

/** A client on memory adapters whose store and timers a test may wrap, with an embedded worker. */
function client(wrap: { store?: (s: RunStore) => RunStore; timers?: (t: Timers) => Timers } = {}) {
  const clock = new VirtualClock();
  const base = createMemoryBackend(clock);
  const backend: Backend = { ...base, store: wrap.store ? wrap.store(base.store) : base.store, timers: wrap.timers ? wrap.timers(base.timers) : base.timers };
  const durable = new Durable({ backend, embeddedWorker: 'listen', cancelPollMs: 0, leaseMs: 30_000, log: () => undefined });
  const settle = () => durable.idle();
  return {
    durable,
    base,
    clock,
    settle,
    /** Moves virtual time, firing timers, and runs the sweeper as production's one-minute schedule would. */
    async sweepAfter(ms: number) {
      clock.fireDue(clock.now() + ms);
      await settle();
      await durable.engine.sweep();
      await settle();
    },
  };
}

describe('lost wake-ups', () => {
  test('an event router that dies between resolving a wait and waking the run: the redelivered event wakes it (seeds 3, 4, 8 / all)', async () => {
    let dieOnWake = true;
    const c = client({
      store: (inner) =>
        delegatingStore(inner, {
          wake: async (runId) => {
            if (dieOnWake) {
              dieOnWake = false;
              throw new Error('router killed');
            }
            return inner.wake(runId);
          },
        }),
    });
    const task = c.durable.durableTask({ name: 'waits', fn: async (_: {}, ctx) => ctx.waitForEvent('paid') });
    const ref = await task.runNoWait({});
    await c.settle();
    await expect(c.durable.events.push('paid', { n: 1 })).rejects.toThrow('router killed');
    // The wait is resolved in the journal, the run was never told, and the sweeper cannot see it (wake = seen).
    expect((await c.durable.runs.get(ref.runId)).status).toBe('WAITING');
    await c.durable.events.push('paid', { n: 1 }); // EventBridge retries the router invocation
    await c.settle();
    expect(await c.durable.runs.get(ref.runId)).toMatchObject({ status: 'SUCCEEDED', output: { n: 1 } });
    await c.durable.close();
  });

  test('a DAG pass that dies between queuing a task and creating its task run, then a second pass parks the workflow run: it parks with a wakeAt and the sweeper repairs it (seed 1410 / all)', async () => {
    let failCreate = true;
    const c = client({
      store: (inner) =>
        delegatingStore(inner, {
          createRun: async (run) => {
            if (failCreate && run.workflowRunId && run.name.endsWith('/second')) {
              failCreate = false;
              throw new Error('worker killed');
            }
            return inner.createRun(run);
          },
        }),
    });
    const wf = c.durable.workflow({ name: 'wf' });
    const first = wf.task({ name: 'first', fn: async () => 1 });
    wf.task({ name: 'second', parents: [first], fn: async () => 2 });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const ref = await wf.runNoWait({});
    await c.settle();
    logged.mockRestore();
    expect((await c.durable.runs.get(ref.runId)).tasks?.find((t) => t.name === 'second')?.status).toBe('QUEUED');
    // Another pass runs before the repair delay (a duplicate delivery once the dead worker's lease is gone) and parks.
    await forgeRun(c.base.store, ref.runId, { set: { leaseUntil: c.clock.now() - 1 } });
    expect(await c.durable.engine.process(ref.runId)).toBe('suspended');
    expect((await c.base.store.getRun(ref.runId))!.wakeAt).toBeDefined();
    await c.sweepAfter(60_000);
    expect(await c.durable.runs.get(ref.runId)).toMatchObject({ status: 'SUCCEEDED', output: { first: 1, second: 2 } });
    await c.durable.close();
  });
});

describe('waiters left behind', () => {
  test('a cancel whose timer cancellation fails still removes the waiters (seed 26 / no-throw-after)', async () => {
    const c = client({
      timers: (inner) => ({
        schedule: (id, at, message) => inner.schedule(id, at, message),
        cancel: async () => {
          throw new Error('scheduler throttled');
        },
      }),
    });
    const task = c.durable.durableTask({ name: 'parked', fn: async (_: {}, ctx) => ctx.waitFor([{ eventKey: 'never' }, { sleepFor: '1h' }]) });
    const ref = await task.runNoWait({});
    await c.settle();
    await c.durable.runs.cancel(ref.runId);
    expect((await c.durable.runs.get(ref.runId)).status).toBe('CANCELLED');
    expect((await c.base.store.loadRun(ref.runId))!.waiters).toEqual([]);
    await c.durable.close();
  });
});
