import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  And,
  DurableError,
  InvalidDefinitionError,
  InvalidExpressionError,
  Or,
  SleepCondition,
  UserEventCondition,
  WaitTimeoutError,
} from 'durable-tasks';
import { createTestEnvironment, type TestEnvironment } from '../support/env.ts';

let env: TestEnvironment;
beforeEach(async () => {
  env = await createTestEnvironment();
});
afterEach(async () => {
  await env.close();
});

const status = async (runId: string) => (await env.durable.runs.get(runId)).status;

describe('ctx.sleepFor / sleepUntil', () => {
  test('given a 1h sleep, when 59 min pass, then the run is still parked; at 1h it resumes with durationMs', async () => {
    const task = env.durable.durableTask({ name: 'nap', fn: async (_: {}, ctx) => ctx.sleepFor('1h') });
    const ref = await task.runNoWait({});
    await env.advanceTime('59m');
    expect(await status(ref.runId)).toBe('WAITING');
    await env.advanceTime('1m');
    expect(await ref.result()).toEqual({ durationMs: 3_600_000 });
  });

  test('given sleepUntil a date, then it resumes at that date and reports the duration from when it began', async () => {
    const task = env.durable.durableTask({
      name: 'until',
      fn: async (_: {}, ctx) => {
        const r = await ctx.sleepUntil(new Date(ctx.now().getTime() + 90_000));
        return { ...r, at: ctx.now().toISOString() };
      },
    });
    const start = env.now().getTime();
    const ref = await task.runNoWait({});
    await env.advanceTime('89s');
    expect(await status(ref.runId)).toBe('WAITING');
    await env.advanceTime('1s');
    expect(await ref.result()).toEqual({ durationMs: 90_000, at: new Date(start + 90_000).toISOString() });
  });

  test('a parked run holds no worker: the sleep is a timer and no replay is in flight', async () => {
    const task = env.durable.durableTask({ name: 'parked', fn: async (_: {}, ctx) => ctx.sleepFor('1d') });
    const ref = await task.runNoWait({});
    await env.settle();
    const run = await env.backend.store.getRun(ref.runId);
    expect(run?.status).toBe('WAITING');
    expect(run?.leaseOwner).toBeUndefined();
    expect(env.backend.timers.size).toBe(1);
  });
});

describe('ctx.waitForEvent', () => {
  test('resumes with the payload of the first event whose CEL filter matches', async () => {
    const task = env.durable.durableTask({ name: 'paid', fn: async (_: {}, ctx) => ctx.waitForEvent('order:paid', 'input.amount > 100') });
    const ref = await task.runNoWait({});
    await env.settle();
    await env.durable.events.push('order:paid', { amount: 50 });
    await env.durable.events.push('other:key', { amount: 500 });
    await env.settle();
    expect(await status(ref.runId)).toBe('WAITING');
    await env.durable.events.push('order:paid', { amount: 120 });
    expect(await ref.result()).toEqual({ amount: 120 });
  });

  test("'' matches any payload", async () => {
    const task = env.durable.durableTask({ name: 'any', fn: async (_: {}, ctx) => ctx.waitForEvent('k') });
    const ref = await task.runNoWait({});
    await env.settle();
    await env.durable.events.push('k', 'plain string');
    expect(await ref.result()).toBe('plain string');
  });

  test('timeout rejects with WaitTimeoutError, which user code can catch', async () => {
    const task = env.durable.durableTask({
      name: 'timeout',
      fn: async (_: {}, ctx) => {
        try {
          await ctx.waitForEvent('never', '', { timeout: '5m' });
          return 'event';
        } catch (error) {
          return error instanceof WaitTimeoutError ? `timeout:${error.eventKey}` : 'other';
        }
      },
    });
    const ref = await task.runNoWait({});
    await env.advanceTime('4m');
    expect(await status(ref.runId)).toBe('WAITING');
    await env.advanceTime('1m');
    expect(await ref.result()).toBe('timeout:never');
  });

  test('an event before the timeout wins and the timeout later changes nothing', async () => {
    let after = 0;
    const task = env.durable.durableTask({
      name: 'beats-timeout',
      fn: async (_: {}, ctx) => {
        const payload = await ctx.waitForEvent('go', '', { timeout: '5m' });
        after++;
        return payload;
      },
    });
    const ref = await task.runNoWait({});
    await env.settle();
    await env.durable.events.push('go', { n: 1 });
    expect(await ref.result()).toEqual({ n: 1 });
    await env.advanceTime('10m');
    expect(after).toBe(1);
    expect(env.backend.timers.size).toBe(0);
  });

  test('scope: an event pushed in another scope never matches; one in the same scope does', async () => {
    const task = env.durable.durableTask({
      name: 'scoped',
      fn: async (input: { tenant: string }, ctx) => ctx.waitForEvent('invoice', '', { scope: input.tenant }),
    });
    const a = await task.runNoWait({ tenant: 'tenant-a' });
    const b = await task.runNoWait({ tenant: 'tenant-b' });
    await env.settle();
    await env.durable.events.push('invoice', { for: 'b' }, { scope: 'tenant-b' });
    await env.settle();
    expect(await status(a.runId)).toBe('WAITING');
    expect(await b.result()).toEqual({ for: 'b' });
    await env.durable.events.push('invoice', { for: 'none' });
    await env.settle();
    expect(await status(a.runId)).toBe('WAITING');
    await env.durable.events.push('invoice', { for: 'a' }, { scope: 'tenant-a' });
    expect(await a.result()).toEqual({ for: 'a' });
  });

  test('lookback matches an event pushed within the window before the wait began, not one older', async () => {
    await env.durable.events.push('early', { n: 'old' });
    await env.advanceTime('10m');
    await env.durable.events.push('early', { n: 'recent' });
    await env.advanceTime('1m');
    const withLookback = env.durable.durableTask({ name: 'lookback', fn: async (_: {}, ctx) => ctx.waitForEvent('early', '', { lookback: '5m' }) });
    const without = env.durable.durableTask({ name: 'no-lookback', fn: async (_: {}, ctx) => ctx.waitForEvent('early') });
    const narrow = env.durable.durableTask({ name: 'narrow', fn: async (_: {}, ctx) => ctx.waitForEvent('early', "input.n == 'old'", { lookback: '5m' }) });
    expect(await withLookback.run({})).toEqual({ n: 'recent' });
    const w = await without.runNoWait({});
    const n = await narrow.runNoWait({});
    await env.settle();
    expect(await status(w.runId)).toBe('WAITING');
    expect(await status(n.runId)).toBe('WAITING');
  });

  test('a bad CEL expression given at run time fails the run with InvalidExpressionError naming it', async () => {
    const task = env.durable.durableTask({ name: 'bad-cel', fn: async (_: {}, ctx) => ctx.waitForEvent('k', 'input.amount >') });
    const ref = await task.runNoWait({});
    await expect(ref.result()).rejects.toThrow(InvalidExpressionError);
    const run = await env.durable.runs.get(ref.runId);
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('InvalidExpressionError');
    expect(run.error?.message).toContain('input.amount >');
  });
});

describe('ctx.waitFor', () => {
  test('Or: the first condition to fire wins, keyed by its readableDataKey; a late second changes nothing', async () => {
    const task = env.durable.durableTask({
      name: 'or',
      fn: async (_: {}, ctx) => ctx.waitFor(Or(new SleepCondition('2m', 'sleep'), new UserEventCondition('approve', '', 'event'))),
    });
    const byEvent = await task.runNoWait({});
    await env.settle();
    await env.durable.events.push('approve', { by: 'ada' });
    expect(await byEvent.result()).toEqual({ event: { by: 'ada' } });
    await env.advanceTime('3m');
    const details = await env.durable.runs.get(byEvent.runId);
    expect(details.operations).toHaveLength(1);
    expect(details.operations[0]).toMatchObject({ kind: 'wait', status: 'done', resolvedBy: 'event', result: { event: { by: 'ada' } } });

    const bySleep = await task.runNoWait({});
    await env.advanceTime('2m');
    expect(await bySleep.result()).toEqual({ sleep: { durationMs: 120_000 } });
    await env.durable.events.push('approve', { late: true });
    await env.settle();
    expect((await env.durable.runs.get(bySleep.runId)).output).toEqual({ sleep: { durationMs: 120_000 } });
  });

  test('object forms work like the classes', async () => {
    const task = env.durable.durableTask({
      name: 'objects',
      fn: async (_: {}, ctx) => ctx.waitFor(Or({ eventKey: 'user:event', expression: 'input.ok' }, { sleepFor: '10s', readableDataKey: 'timer' })),
    });
    const ref = await task.runNoWait({});
    await env.settle();
    await env.durable.events.push('user:event', { ok: false });
    await env.advanceTime('10s');
    expect(await ref.result()).toEqual({ timer: { durationMs: 10_000 } });
  });

  test('And: resolves only when every condition is satisfied, with all their keys', async () => {
    const task = env.durable.durableTask({
      name: 'and',
      fn: async (_: {}, ctx) => ctx.waitFor(And({ eventKey: 'a' }, { eventKey: 'b', expression: 'input.n > 1' }, { sleepFor: '1m', readableDataKey: 'min' })),
    });
    const ref = await task.runNoWait({});
    await env.settle();
    await env.durable.events.push('a', { n: 1 });
    await env.durable.events.push('b', { n: 1 });
    await env.settle();
    expect(await status(ref.runId)).toBe('WAITING');
    await env.durable.events.push('b', { n: 2 });
    await env.settle();
    expect(await status(ref.runId)).toBe('WAITING');
    await env.advanceTime('1m');
    expect(await ref.result()).toEqual({ a: { n: 1 }, b: { n: 2 }, min: { durationMs: 60_000 } });
  });

  test('an array of conditions means And; Or of Ands picks the first satisfied group', async () => {
    const task = env.durable.durableTask({
      name: 'nested',
      fn: async (_: {}, ctx) => ctx.waitFor(Or([{ eventKey: 'x' }, { eventKey: 'y' }], { eventKey: 'z' })),
    });
    const ref = await task.runNoWait({});
    await env.settle();
    await env.durable.events.push('x', 1);
    await env.settle();
    expect(await status(ref.runId)).toBe('WAITING');
    await env.durable.events.push('y', 2);
    expect(await ref.result()).toEqual({ x: 1, y: 2 });
  });

  test('no waiter is left behind once a wait resolves', async () => {
    const task = env.durable.durableTask({ name: 'clean', fn: async (_: {}, ctx) => ctx.waitFor(Or({ eventKey: 'p' }, { eventKey: 'q' }, { sleepFor: '1h' })) });
    const ref = await task.runNoWait({});
    await env.settle();
    await env.durable.events.push('q', {});
    await ref.result();
    const loaded = await env.backend.store.loadRun(ref.runId);
    expect(loaded?.waiters).toEqual([]);
    expect(await env.backend.store.findWaiters('p')).toEqual([]);
    expect(env.backend.timers.size).toBe(0);
  });

  test('ParentCondition is rejected in ctx.waitFor (it is for DAG tasks)', async () => {
    const parent = env.durable.task({ name: 'p', fn: async () => 1 });
    const task = env.durable.durableTask({ name: 'w', fn: async (_: {}, ctx) => ctx.waitFor({ parent, expression: 'output > 0' }) });
    await expect(task.run({})).rejects.toThrow(InvalidDefinitionError);
  });
});

describe('ctx.step', () => {
  test("runs a side effect once: replays return its checkpointed result", async () => {
    let effects = 0;
    const task = env.durable.durableTask({
      name: 'charge',
      fn: async (_: {}, ctx) => {
        const receipt = await ctx.step('charge', () => ({ id: `r-${++effects}` }));
        await ctx.sleepFor('1m');
        await ctx.sleepFor('1m');
        return receipt;
      },
    });
    const ref = await task.runNoWait({});
    await env.advanceTime('2m');
    expect(await ref.result()).toEqual({ id: 'r-1' });
    expect(effects).toBe(1);
  });

  test('a step result is JSON: what the first run returns is what replays return', async () => {
    const seen: unknown[] = [];
    const task = env.durable.durableTask({
      name: 'json-step',
      fn: async (_: {}, ctx) => {
        const v = await ctx.step('date', () => ({ at: new Date(0), u: undefined, n: null }));
        seen.push(v);
        await ctx.sleepFor('1s');
        return v;
      },
    });
    const ref = await task.runNoWait({});
    await env.advanceTime('1s');
    await ref.result();
    expect(seen[0]).toEqual({ at: '1970-01-01T00:00:00.000Z', n: null });
    expect(seen[1]).toEqual(seen[0]);
  });

  test('retries with backoff retry the step alone, parked between attempts', async () => {
    const attempts: number[] = [];
    let before = 0;
    const task = env.durable.durableTask({
      name: 'flaky',
      fn: async (_: {}, ctx) => {
        await ctx.step('before', () => ++before);
        return ctx.step(
          'flaky',
          (attempt) => {
            attempts.push(attempt);
            if (attempt < 2) throw new Error(`fail ${attempt}`);
            return 'ok';
          },
          { retries: 3, backoff: { factor: 2, maxSeconds: 60 } },
        );
      },
    });
    const ref = await task.runNoWait({});
    await env.settle();
    expect(attempts).toEqual([0]);
    const parked = await env.durable.runs.get(ref.runId);
    expect(parked.status).toBe('WAITING');
    expect(parked.operations[1]).toMatchObject({ kind: 'step', name: 'flaky', status: 'retrying' });
    await env.advanceTime('1999ms');
    expect(attempts).toEqual([0]);
    await env.advanceTime('1ms');
    expect(attempts).toEqual([0, 1]);
    await env.advanceTime('4s');
    expect(await ref.result()).toBe('ok');
    expect(attempts).toEqual([0, 1, 2]);
    expect(before).toBe(1);
  });

  test('a step that exhausts its retries throws its error into the task, where it can be caught', async () => {
    const task = env.durable.durableTask({
      name: 'exhaust',
      fn: async (_: {}, ctx) => {
        try {
          await ctx.step('boom', () => {
            throw new TypeError('bad thing');
          }, { retries: 2 });
        } catch (error) {
          return `${(error as Error).name}: ${(error as Error).message}`;
        }
        return 'no';
      },
    });
    expect(await task.run({})).toBe('TypeError: bad thing');
  });

  test('a non-JSON step result fails with a DurableError naming the step and the value', async () => {
    const task = env.durable.durableTask({ name: 'bigint', fn: async (_: {}, ctx) => ctx.step('calc', () => ({ total: 10n })) });
    const error = await task.run({}).catch((e) => e);
    expect(error).toBeInstanceOf(DurableError);
    expect(error.message).toContain("step 'calc' result");
    expect(error.message).toContain('BigInt');
    expect(error.message).toContain('$.total');
  });
});

describe('ctx.runChild / spawnChild', () => {
  test('runChild returns the child output and replays never start a second child', async () => {
    let childRuns = 0;
    const child = env.durable.durableTask({
      name: 'child',
      fn: async (input: { x: number }, ctx) => {
        await ctx.step('count', () => ++childRuns);
        await ctx.sleepFor('1m');
        return { doubled: input.x * 2 };
      },
    });
    const parent = env.durable.durableTask({
      name: 'parent',
      fn: async (_: {}, ctx) => {
        const out = await ctx.runChild(child, { x: 21 });
        await ctx.sleepFor('1m');
        return out;
      },
    });
    const ref = await parent.runNoWait({});
    await env.advanceTime('2m');
    expect(await ref.result()).toEqual({ doubled: 42 });
    expect(childRuns).toBe(1);
    const runs = await env.durable.runs.list({ name: 'child' });
    expect(runs).toHaveLength(1);
    expect((await env.durable.runs.get(runs[0]!.runId)).parentRunId).toBe(ref.runId);
  });

  test("a failed child's error is thrown by runChild", async () => {
    const child = env.durable.task({ name: 'bad-child', fn: async () => { throw new RangeError('child broke'); } });
    const parent = env.durable.durableTask({ name: 'catcher', fn: async (_: {}, ctx) => ctx.runChild(child, {}).catch((e: Error) => `${e.name}:${e.message}`) });
    expect(await parent.run({})).toBe('RangeError:child broke');
  });

  test('spawnChild returns a run reference at once and is checkpointed', async () => {
    const child = env.durable.durableTask({ name: 'bg', fn: async (_: {}, ctx) => { await ctx.sleepFor('1h'); return 'bg done'; } });
    const parent = env.durable.durableTask({
      name: 'spawner',
      fn: async (_: {}, ctx) => {
        const ref = await ctx.spawnChild(child, {});
        await ctx.sleepFor('1m');
        return ref.runId;
      },
    });
    const ref = await parent.runNoWait({});
    await env.advanceTime('1m');
    const childId = (await ref.result()) as string;
    expect(await env.durable.runs.list({ name: 'bg' })).toHaveLength(1);
    await env.advanceTime('1h');
    expect(await env.durable.runs.get(childId)).toMatchObject({ status: 'SUCCEEDED', output: 'bg done' });
  });
});

describe('ctx.now, runId, attempt, log', () => {
  test('now() is the same on every replay; runId and attempt identify the run', async () => {
    const seen: string[] = [];
    const lines: Record<string, unknown>[] = [];
    await env.close();
    env = await createTestEnvironment({ log: (line) => lines.push(line) });
    const task = env.durable.durableTask({
      name: 'clock',
      fn: async (_: {}, ctx) => {
        const t = ctx.now();
        seen.push(t.toISOString());
        ctx.log.info('before sleep', { t: t.toISOString() });
        await ctx.sleepFor('1h');
        ctx.log.info('after sleep');
        return { t: t.toISOString(), runId: ctx.runId, attempt: ctx.attempt };
      },
    });
    const start = env.now().toISOString();
    const ref = await task.runNoWait({});
    await env.advanceTime('1h');
    const out = await ref.result();
    expect(seen).toEqual([start, start]);
    expect(out).toEqual({ t: start, runId: ref.runId, attempt: 0 });
    // Logs are not repeated by replays.
    expect(lines.map((l) => l.message)).toEqual(['before sleep', 'after sleep']);
    expect(lines[0]).toMatchObject({ level: 'info', runId: ref.runId, task: 'clock' });
  });

  test('durable calls on a plain task fail clearly', async () => {
    const plain = env.durable.task({ name: 'plain', fn: async (_: {}, ctx) => (ctx as any).sleepFor('1s') });
    await expect(plain.run({})).rejects.toThrow(/durableTask/);
  });
});

describe('lookback inside an And', () => {
  test('an event found by lookback is remembered while the rest of the And is pending', async () => {
    await env.durable.events.push('first', { n: 1 });
    await env.advanceTime('1m');
    const task = env.durable.durableTask({
      name: 'and-lookback',
      fn: async (_: {}, ctx) => {
        const seen = await ctx.waitFor(And({ eventKey: 'first', lookback: '1s' }, { eventKey: 'second' }));
        return seen;
      },
    });
    // The event condition's lookback makes the event pushed 500 ms before the wait count (not the one a minute before).
    await env.durable.events.push('first', { n: 2 });
    await env.advanceTime('500ms');
    const ref = await task.runNoWait({});
    await env.settle();
    await env.advanceTime('10s'); // a replay in between (nothing due) must not forget it
    await env.durable.events.push('second', { n: 3 });
    expect(await ref.result()).toEqual({ first: { n: 2 }, second: { n: 3 } });
  });
});

describe('one event, one wait per run', () => {
  test('consecutive waits on the same key each need their own event', async () => {
    const task = env.durable.durableTask({
      name: 'three-waits',
      fn: async (_: {}, ctx) => {
        const got: unknown[] = [];
        for (let i = 0; i < 3; i++) got.push(await ctx.waitForEvent('tick'));
        return got;
      },
    });
    const ref = await task.runNoWait({});
    await env.settle();
    await env.durable.events.push('tick', 1);
    await env.settle();
    const after1 = await env.durable.runs.get(ref.runId);
    expect(after1.status).toBe('WAITING');
    expect(after1.operations.filter((o) => o.status === 'done')).toHaveLength(1);
    await env.durable.events.push('tick', 2);
    await env.settle(); // the third wait begins here: an event pushed before it began would not count (API.md)
    await env.durable.events.push('tick', 3);
    expect(await ref.result()).toEqual([1, 2, 3]);
  });

  test('an event found by lookback is not taken again by the next wait', async () => {
    await env.durable.events.push('early', 'e1');
    const task = env.durable.durableTask({
      name: 'lookback-twice',
      fn: async (_: {}, ctx) => [await ctx.waitForEvent('early', '', { lookback: '1h' }), await ctx.waitForEvent('early', '', { lookback: '1h' })],
    });
    const ref = await task.runNoWait({});
    await env.settle();
    expect((await env.durable.runs.get(ref.runId)).status).toBe('WAITING');
    await env.durable.events.push('early', 'e2');
    expect(await ref.result()).toEqual(['e1', 'e2']);
  });

  test('parallel waits on one key are all woken by one event', async () => {
    const task = env.durable.durableTask({ name: 'fan', fn: async (_: {}, ctx) => Promise.all([ctx.waitForEvent('go'), ctx.waitForEvent('go')]) });
    const ref = await task.runNoWait({});
    await env.settle();
    await env.durable.events.push('go', 'once');
    expect(await ref.result()).toEqual(['once', 'once']);
  });
});
