import { afterEach, describe, expect, test } from 'vitest';
import { NonDeterminismError, RunCancelledError } from 'durable-tasks';
import { replay, type ReplayServices } from '../../sdk/core/replay.ts';
import { processRun, type ExecutorDeps } from '../../sdk/core/executor.ts';
import type { TaskSpec } from '../../sdk/core/definitions.ts';
import { createMemoryBackend, VirtualClock } from '../../sdk/adapters/memory/index.ts';
import type { RunRecord, RunStore } from '../../sdk/ports.ts';
import { clientWithStore, createTestEnvironment, deferred, delegatingStore, type TestEnvironment } from '../support/env.ts';

let env: TestEnvironment | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

function newRun(runId: string, name: string, now: number): RunRecord {
  return { runId, name, status: 'QUEUED', input: '{}', createdAt: now, updatedAt: now, attempt: 0, wake: 0, seen: 0, runningMs: 0 };
}

function services(backend: ReturnType<typeof createMemoryBackend>): ReplayServices {
  return {
    backend,
    createChildRun: async () => undefined,
    runRef: (runId) => ({ runId, result: async () => undefined }),
    isCancelled: () => false,
    cancelPollMs: 0,
    logger: () => ({ debug() {}, info() {}, warn() {}, error() {} }),
  };
}

describe('exactly one recorded outcome per journal position', () => {
  test('two replays racing on the same run: both run the step, one outcome is recorded, both continue with it', async () => {
    const backend = createMemoryBackend(new VirtualClock());
    await backend.store.createRun(newRun('r1', 'race', backend.clock.now()));
    const gate = deferred();
    let effects = 0;
    const spec: TaskSpec = {
      name: 'race',
      durable: true,
      retries: 0,
      parents: [],
      fn: async (_: unknown, ctx: any) => {
        const mine = ++effects;
        const value = await ctx.step('pick', async () => {
          await gate.promise;
          return `replay-${mine}`;
        });
        const second = await ctx.step('second', () => `after-${value}`);
        return { value, second };
      },
    };
    const loaded = (await backend.store.loadRun('r1'))!;
    const a = replay(spec, loaded, services(backend));
    const b = replay(spec, loaded, services(backend));
    gate.resolve();
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toEqual(rb);
    expect(ra.type).toBe('completed');
    const entries = (await backend.store.loadRun('r1'))!.entries;
    expect(entries.map((e) => [e.position, e.name])).toEqual([
      [0, 'pick'],
      [1, 'second'],
    ]);
    expect(JSON.parse(ra.type === 'completed' ? ra.output! : '')).toEqual({ value: 'replay-1', second: 'after-replay-1' });
  });

  test('duplicate dispatch of the same run: the lease lets one worker in, the run completes once', async () => {
    env = await createTestEnvironment();
    let executions = 0;
    const task = env.durable.durableTask({ name: 'dup', fn: async (_: {}, ctx) => ctx.step('once', () => ++executions) });
    const ref = await task.runNoWait({});
    for (let i = 0; i < 5; i++) await env.backend.dispatcher.dispatch({ runId: ref.runId });
    expect(await ref.result()).toBe(1);
    await env.settle();
    expect(executions).toBe(1);
    expect((await env.durable.runs.get(ref.runId)).operations).toHaveLength(1);
  });

  test('a worker whose lease expired and was taken over cannot record the outcome (fencing)', async () => {
    const clock = new VirtualClock();
    const backend = createMemoryBackend(clock);
    await backend.store.createRun(newRun('r2', 'slow', clock.now()));
    const gate = deferred();
    const spec: TaskSpec = { name: 'slow', durable: true, retries: 0, parents: [], fn: async () => { await gate.promise; return 'late'; } };
    const deps = (workerId: string, fn = spec): ExecutorDeps => ({
      backend,
      workerId,
      leaseMs: 1_000,
      resolveSpec: () => fn,
      services: async () => services(backend),
      onFinished: async () => undefined,
    });
    const first = processRun('r2', deps('w1'));
    await new Promise((r) => setImmediate(r));
    clock.fireDue(clock.now() + 5_000); // w1's lease expires (it is stuck)
    const second = await processRun('r2', deps('w2', { ...spec, fn: async () => 'fresh' }));
    expect(second).toBe('completed');
    gate.resolve();
    expect(await first).toBe('lost-lease');
    const run = await backend.store.getRun('r2');
    expect(run?.status).toBe('SUCCEEDED');
    expect(run?.output).toBe('"fresh"');
  });

  test('the same fencing holds between two replays in one process (same worker id): each lease has its own token', async () => {
    const clock = new VirtualClock();
    const backend = createMemoryBackend(clock);
    await backend.store.createRun(newRun('r3', 'slow', clock.now()));
    const gate = deferred();
    const deps = (fn: TaskSpec['fn']): ExecutorDeps => ({
      backend,
      workerId: 'one-process',
      leaseMs: 1_000,
      resolveSpec: () => ({ name: 'slow', durable: true, retries: 0, parents: [], fn }),
      services: async () => services(backend),
      onFinished: async () => undefined,
    });
    const first = processRun('r3', deps(async () => (await gate.promise, 'late')));
    await new Promise((r) => setImmediate(r));
    const stuck = (await backend.store.getRun('r3'))!.leaseOwner!;
    expect(stuck).toMatch(/^one-process\/[0-9a-f]{8}$/);
    clock.fireDue(clock.now() + 5_000);
    expect(await processRun('r3', deps(async () => 'fresh'))).toBe('completed');
    gate.resolve();
    expect(await first).toBe('lost-lease');
    expect((await backend.store.getRun('r3'))?.output).toBe('"fresh"');
  });
});

describe('no lost wake-up', () => {
  test('a resolution landing while the run replays makes it replay again instead of parking', async () => {
    const gate = deferred();
    const reached = deferred();
    let hold = false;
    const c = clientWithStore((inner) =>
      delegatingStore(inner, {
        suspend: async (runId, intent) => {
          if (hold) {
            hold = false;
            reached.resolve();
            await gate.promise; // the replay is about to park: deliver the second event right now
          }
          return inner.suspend(runId, intent);
        },
      }),
    );
    const task = c.durable.durableTask({
      name: 'two-events',
      fn: async (_: {}, ctx) => Promise.all([ctx.waitForEvent('a'), ctx.waitForEvent('b')]),
    });
    const ref = await task.runNoWait({});
    await c.settle();
    hold = true;
    await c.durable.events.push('a', 'A'); // wakes the run; its replay parks on 'b'... and is held
    await reached.promise;
    await c.durable.events.push('b', 'B'); // resolves 'b' while the replay is in flight
    gate.resolve();
    expect(await ref.result()).toEqual(['A', 'B']);
    await c.durable.close();
  });

  test('an event pushed while the wait registers is caught by the post-registration check', async () => {
    const gate = deferred();
    const registered = deferred();
    let pushed = false;
    const c = clientWithStore((inner) =>
      delegatingStore(inner, {
        registerWaiters: async (waiters) => {
          await inner.registerWaiters(waiters);
          registered.resolve();
          if (!pushed) await gate.promise;
        },
        findWaiters: async (key) => {
          // The router looks before the waiter is visible (eventually consistent index).
          return pushed ? [] : inner.findWaiters(key);
        },
      }),
    );
    const task = c.durable.durableTask({ name: 'reg-race', fn: async (_: {}, ctx) => ctx.waitForEvent('k') });
    const ref = await task.runNoWait({});
    await registered.promise;
    pushed = true;
    await c.durable.events.push('k', 'caught');
    gate.resolve();
    expect(await ref.result()).toBe('caught');
    await c.durable.close();
  });
});

describe('crashes lose nothing', () => {
  test('a crash after a step was recorded but before the run item was updated: the redelivery resumes from the checkpoint', async () => {
    let crash = true;
    let effects = 0;
    const c = clientWithStore((inner) =>
      delegatingStore(inner, {
        finish: async (runId, intent) => {
          if (crash && intent.outcome.status === 'SUCCEEDED') {
            crash = false;
            throw new Error('process killed');
          }
          return inner.finish(runId, intent);
        },
      }),
    );
    const task = c.durable.durableTask({ name: 'crashy', fn: async (_: {}, ctx) => ctx.step('effect', () => ++effects) });
    const ref = await task.runNoWait({});
    await c.settle();
    expect((await c.backend.store.getRun(ref.runId))?.status).toBe('RUNNING');
    // The message is gone; the lease expires; the sweeper re-dispatches.
    await c.advance(120_000);
    expect(await c.durable.engine.sweep()).toBe(1);
    expect(await ref.result()).toBe(1);
    expect(effects).toBe(1);
    await c.durable.close();
  });

  test('a lost dispatch message (crash between writing the run and sending) is repaired by the sweeper', async () => {
    let drop = true;
    const clock = new VirtualClock();
    const backend = createMemoryBackend(clock);
    const { Durable } = await import('durable-tasks');
    const dispatcher = {
      dispatch: async (m: { runId: string }, o?: { delayMs?: number }) => {
        if (drop) {
          drop = false;
          throw new Error('network down');
        }
        return backend.dispatcher.dispatch(m, o);
      },
      receive: backend.dispatcher.receive.bind(backend.dispatcher),
      listen: backend.dispatcher.listen.bind(backend.dispatcher),
    };
    const durable = new Durable({ backend: { ...backend, dispatcher }, embeddedWorker: 'listen', log: () => undefined });
    const task = durable.durableTask({ name: 'lost', fn: async () => 'made it' });
    await expect(task.runNoWait({})).rejects.toThrow('network down');
    const [run] = await durable.runs.list({ name: 'lost' });
    expect(run?.status).toBe('QUEUED');
    clock.fireDue(clock.now() + 30_000);
    expect(await durable.engine.sweep()).toBe(0); // still possibly on its way
    clock.fireDue(clock.now() + 31_000);
    expect(await durable.engine.sweep()).toBe(1); // untouched for over a minute: its message is lost
    expect(await durable.engine.result(run!.runId)).toBe('made it');
    await durable.close();
  });
});

describe('non-determinism', () => {
  test('replaying step("a") as step("b") fails the run with NonDeterminismError naming the position and both operations', async () => {
    env = await createTestEnvironment();
    let version = 1;
    const task = env.durable.durableTask({
      name: 'changing',
      fn: async (_: {}, ctx) => {
        await ctx.step('first', () => 1);
        await ctx.sleepFor('1m');
        if (version === 1) await ctx.step('a', () => 'a');
        else {
          try {
            await ctx.step('b', () => 'b');
          } catch {
            return 'swallowed'; // user code cannot hide it: the run fails anyway
          }
        }
        await ctx.sleepFor('1m');
        return 'done';
      },
    });
    const ref = await task.runNoWait({});
    await env.advanceTime('1m');
    version = 2;
    await env.advanceTime('1m');
    const error = await ref.result().catch((e) => e);
    expect(error).toBeInstanceOf(NonDeterminismError);
    expect(error).toMatchObject({ position: 2, expected: "step('a')", actual: "step('b')" });
    const run = await env.durable.runs.get(ref.runId);
    expect(run.status).toBe('FAILED');
    expect(run.error).toEqual({ name: 'NonDeterminismError', message: error.message });
  });

  test('a different kind at a recorded position (sleep where a step was) is non-determinism too', async () => {
    env = await createTestEnvironment();
    let version = 1;
    const task = env.durable.durableTask({
      name: 'kinds',
      retries: 3,
      fn: async (_: {}, ctx) => {
        if (version === 1) await ctx.step('x', () => 1);
        else await ctx.sleepFor('1s');
        await ctx.waitForEvent('go');
        return 'ok';
      },
    });
    const ref = await task.runNoWait({});
    await env.settle();
    version = 2;
    await env.durable.events.push('go', {});
    await expect(ref.result()).rejects.toMatchObject({ name: 'NonDeterminismError', position: 0, expected: "step('x')", actual: 'sleep' });
    expect((await env.durable.runs.get(ref.runId)).attempt).toBe(0); // not retried
  });
});

describe('cancellation', () => {
  test('a parked run is cancelled at once, its waiters and timers removed; events after that change nothing', async () => {
    env = await createTestEnvironment();
    const task = env.durable.durableTask({ name: 'parked', fn: async (_: {}, ctx) => ctx.waitFor(Or2()) });
    const ref = await task.runNoWait({});
    await env.settle();
    await env.durable.runs.cancel(ref.runId);
    expect((await env.durable.runs.get(ref.runId)).status).toBe('CANCELLED');
    await expect(ref.result()).rejects.toBeInstanceOf(RunCancelledError);
    expect(await env.backend.store.findWaiters('never')).toEqual([]);
    expect(env.backend.timers.size).toBe(0);
    await env.durable.events.push('never', {});
    await env.advanceTime('2h');
    expect((await env.durable.runs.get(ref.runId)).status).toBe('CANCELLED');
  });

  test('a running run stops at its next durable call and stays CANCELLED', async () => {
    env = await createTestEnvironment();
    const gate = deferred();
    const atGate = deferred();
    const reached: string[] = [];
    const task = env.durable.durableTask({
      name: 'running',
      fn: async (_: {}, ctx) => {
        await ctx.step('one', () => reached.push('one'));
        atGate.resolve();
        await gate.promise;
        await ctx.step('two', () => reached.push('two'));
        return 'finished';
      },
    });
    const ref = await task.runNoWait({});
    await atGate.promise;
    await env.durable.runs.cancel(ref.runId);
    gate.resolve();
    await expect(ref.result()).rejects.toBeInstanceOf(RunCancelledError);
    expect(reached).toEqual(['one']);
    await env.settle();
    expect((await env.durable.runs.get(ref.runId)).status).toBe('CANCELLED');
  });

  test('cancelling a parent cancels the child it waits for', async () => {
    env = await createTestEnvironment();
    const child = env.durable.durableTask({ name: 'kid', fn: async (_: {}, ctx) => ctx.sleepFor('1d') });
    const parent = env.durable.durableTask({ name: 'mom', fn: async (_: {}, ctx) => ctx.runChild(child, {}) });
    const ref = await parent.runNoWait({});
    await env.settle();
    await env.durable.runs.cancel(ref.runId);
    const [kid] = await env.durable.runs.list({ name: 'kid' });
    expect(kid?.status).toBe('CANCELLED');
  });
});

function Or2() {
  return [{ eventKey: 'never' }, { sleepFor: '1h' }] as const;
}

test('a store that rejects writes surfaces the error to the worker without corrupting the run', async () => {
  const failing: Partial<RunStore> = {
    recordEntry: async () => {
      throw new Error('throttled');
    },
  };
  let fail = true;
  const c = clientWithStore((inner) => delegatingStore(inner, { recordEntry: (id, e) => (fail ? failing.recordEntry!(id, e) : inner.recordEntry(id, e)) }));
  let effects = 0;
  const task = c.durable.durableTask({ name: 'throttled', fn: async (_: {}, ctx) => ctx.step('s', () => ++effects) });
  const ref = await task.runNoWait({});
  await c.settle();
  expect((await c.durable.runs.get(ref.runId)).operations).toEqual([]);
  fail = false;
  await c.advance(120_000);
  await c.durable.engine.sweep();
  expect(await ref.result()).toBe(2); // at-least-once: the unrecorded attempt ran, the recorded outcome is one
  await c.durable.close();
});

test('a branch that parks waits for a slow sibling step, then the run parks with the step recorded', async () => {
  env = await createTestEnvironment();
  let effects = 0;
  const task = env.durable.durableTask({
    name: 'parallel',
    fn: async (_: {}, ctx) =>
      Promise.all([ctx.step('slow', () => new Promise((r) => setTimeout(() => r(++effects), 30))), ctx.waitForEvent('x')]),
  });
  const ref = await task.runNoWait({});
  await env.settle();
  const parked = await env.durable.runs.get(ref.runId);
  expect(parked.status).toBe('WAITING');
  expect(parked.operations.map((o) => `${o.kind}:${o.status}`)).toEqual(['step:done', 'event:waiting']);
  await env.durable.events.push('x', 'go');
  expect(await ref.result()).toEqual([1, 'go']);
  expect(effects).toBe(1);
});

test('ctx.now() right before a sleep parks the run even when the sleep is recorded before the clock checkpoint', async () => {
  let slowNow = true;
  const c = clientWithStore((inner) =>
    delegatingStore(inner, {
      recordEntry: async (runId, entry) => {
        if (slowNow && entry.kind === 'now') await new Promise((r) => setTimeout(r, 20)); // lands after the sleep's
        return inner.recordEntry(runId, entry);
      },
    }),
  );
  const task = c.durable.durableTask({
    name: 'now-then-sleep',
    fn: async (_: {}, ctx) => {
      const t = ctx.now();
      await ctx.sleepFor('1m');
      return t.toISOString();
    },
  });
  const ref = await task.runNoWait({});
  await c.settle();
  expect((await c.durable.runs.get(ref.runId)).status).toBe('WAITING');
  slowNow = false;
  await c.advance(60_000);
  expect(await ref.result()).toBe(new Date(c.clock.now() - 60_000).toISOString());
  await c.durable.close();
});
