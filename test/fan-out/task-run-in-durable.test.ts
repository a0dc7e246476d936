/**
 * `task.run` / `task.runNoWait` / `wf.run` called inside a durable task are checkpointed children (issue 18's
 * Hatchet trap): a replay never starts them again. Outside a durable task (and inside a step's body) they are
 * ordinary runs, as before.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { InvalidDefinitionError, type Durable } from 'durable-tasks';
import { createTestEnvironment, type TestEnvironment } from 'durable-tasks/testing';

let env: TestEnvironment;
let durable: Durable;
beforeEach(async () => {
  env = await createTestEnvironment();
  durable = env.durable;
});
afterEach(() => env.close());

describe('task.run inside a durable task', () => {
  test('a child started with task.run() before a sleep runs once across the replay after the sleep', async () => {
    let childRuns = 0;
    const child = durable.task({ name: 'child', fn: async (i: { v: number }) => (childRuns++, i.v * 2) });
    const parent = durable.durableTask({
      name: 'parent',
      fn: async (_: {}, ctx) => {
        const out = await child.run({ v: 21 });
        await ctx.sleepFor('1m');
        return out;
      },
    });
    const ref = await parent.runNoWait({});
    await env.settle();
    await env.advanceTime('1m');
    expect(await ref.result()).toBe(42);
    expect(childRuns).toBe(1);
    expect(await durable.runs.list({ name: 'child' })).toHaveLength(1);
    const details = await durable.runs.get(ref.runId);
    expect(details.operations.map((o) => `${o.kind}:${o.name}`)).toEqual(['child:child', 'sleep:']);
  });

  test('task.run([a, b, c]) runs one child per input and returns the outputs in order', async () => {
    const child = durable.durableTask({ name: 'double', fn: async (i: { v: number }, ctx) => (await ctx.sleepFor(`${4 - i.v}s`), i.v * 2) });
    const parent = durable.durableTask({
      name: 'bulk',
      fn: async (_: {}, ctx) => {
        const outs = await child.run([{ v: 1 }, { v: 2 }, { v: 3 }]);
        await ctx.sleepFor('1m');
        return outs;
      },
    });
    const ref = await parent.runNoWait({});
    await env.settle();
    await env.advanceTime('5s');
    await env.advanceTime('1m');
    expect(await ref.result()).toEqual([2, 4, 6]);
    expect(await durable.runs.list({ name: 'double' })).toHaveLength(3);
  });

  test('runNoWait is a checkpointed spawn, and wf.run a checkpointed child workflow', async () => {
    let spawned = 0;
    const side = durable.task({ name: 'side', fn: async () => (spawned++, 'ok') });
    const wf = durable.workflow<{ n: number }>({ name: 'wf-child' });
    wf.task({ name: 'only', fn: async (i: { n: number }) => i.n + 1 });
    const parent = durable.durableTask({
      name: 'spawner',
      fn: async (_: {}, ctx) => {
        const ref = await side.runNoWait({});
        const dag = await wf.run({ n: 1 });
        await ctx.sleepFor('1m');
        return { child: ref.runId, dag };
      },
    });
    const ref = await parent.runNoWait({});
    await env.settle();
    await env.advanceTime('1m');
    const out = await ref.result();
    expect(out.dag).toEqual({ only: 2 });
    expect(out.child).toBe(`${ref.runId}.0.0`);
    expect(spawned).toBe(1);
    expect(await durable.runs.list({ name: 'wf-child' })).toHaveLength(1);
    const details = await durable.runs.get(ref.runId);
    expect(details.operations.map((o) => `${o.kind}:${o.name}`)).toEqual(['spawn:side', 'child:wf-child', 'sleep:']);
  });

  test('runNoWait with metadata inside a durable task is refused, not silently dropped', async () => {
    const side = durable.task({ name: 'side2', fn: async () => 'ok' });
    const parent = durable.durableTask({ name: 'meta', fn: async () => side.runNoWait({}, { metadata: { a: 1 } }) });
    const ref = await parent.runNoWait({});
    await expect(ref.result()).rejects.toBeInstanceOf(InvalidDefinitionError);
  });

  test('inside a step body and in a plain task, task.run is an ordinary run (nothing journaled in the caller)', async () => {
    const child = durable.task({ name: 'leaf', fn: async (i: number) => i + 1 });
    const plain = durable.task({ name: 'plain', fn: async (i: number) => child.run(i) });
    const parent = durable.durableTask({
      name: 'stepper',
      fn: async (_: {}, ctx) => {
        const a = await ctx.step('call', () => child.run(1));
        const b = await ctx.step('call-plain', () => plain.run(10));
        return [a, b];
      },
    });
    const ref = await parent.runNoWait({});
    expect(await ref.result()).toEqual([2, 11]);
    const details = await durable.runs.get(ref.runId);
    expect(details.operations.map((o) => `${o.kind}:${o.name}`)).toEqual(['step:call', 'step:call-plain']);
    // Outside any durable task, run keeps its meaning: one run, the array is its input.
    const echo = durable.task({ name: 'echo', fn: async (i: unknown) => i });
    expect(await echo.run([1, 2] as unknown)).toEqual([1, 2]);
  });
});

describe('ctx.map on the test environment', () => {
  test('branch positions round-trip and stay in their own range', async () => {
    const { branchPosition, placeOf, BRANCH_BASE } = await import('../../sdk/core/operations/fan-out.ts');
    for (const [anchor, branch, n] of [
      [0, 0, 0],
      [5, 3, 2],
      [2 ** 18 - 1, 2 ** 17 - 1, 2 ** 17 - 1],
    ] as const) {
      const p = branchPosition(anchor, branch, n);
      expect(Number.isSafeInteger(p)).toBe(true);
      expect(p).toBeGreaterThanOrEqual(BRANCH_BASE);
      expect(String(p)).toHaveLength(16);
      expect(placeOf(p)).toEqual({ anchor, branch, n });
    }
    expect(placeOf(1_000_000)).toBeUndefined();
  });

  test('replayHistory accepts a run with a fan-out, and patched works inside a branch', async () => {
    const { replayHistory } = await import('durable-tasks/testing');
    const task = durable.durableTask({
      name: 'hist-map',
      fn: async (items: number[], ctx) => {
        const out = await ctx.map('m', items, async (i, b) => {
          const v2 = b.patched('v2');
          await b.sleepFor('1m');
          return b.step('s', () => (v2 ? i * 10 : i));
        });
        return out;
      },
    });
    const ref = await task.runNoWait([1, 2, 3]);
    await env.settle();
    await env.advanceTime('1m');
    expect(await ref.result()).toEqual([10, 20, 30]);
    const history = await durable.runs.export(ref.runId);
    await expect(replayHistory(task, history)).resolves.toBeUndefined();
  });
});

test('ctx.log after a fan-out is not taken for replayed ground (branch entries are not the run\'s own positions)', async () => {
  const lines: { message?: string }[] = [];
  const logged = await createTestEnvironment({ log: (line) => lines.push(line as { message?: string }) });
  try {
    const task = logged.durable.durableTask({
      name: 'log-after-map',
      fn: async (_: {}, ctx) => {
        await ctx.map('m', Array.from({ length: 20 }, (_, i) => i), (i, b) => b.step('s', () => i));
        await ctx.sleepFor('1m');
        ctx.log.info('after the map');
        return 'ok';
      },
    });
    const ref = await task.runNoWait({});
    await logged.settle();
    await logged.advanceTime('1m');
    expect(await ref.result()).toBe('ok');
    expect(lines.filter((l) => l.message === 'after the map')).toHaveLength(1);
  } finally {
    await logged.close();
  }
});
