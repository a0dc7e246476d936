/** Parents: a task runs once, after all its parents are done; independent tasks run concurrently. */
import { describe, expect, test } from 'vitest';
import { ParentCondition } from 'durable-tasks';
import { durable, env, taskStatuses, useDagEnvironment } from './fixture.ts';

useDagEnvironment();

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('dependencies', () => {
  test('diamond: D runs once, after B and C, and reads both outputs', async () => {
    const executions: Record<string, number> = {};
    const count = (name: string) => (executions[name] = (executions[name] ?? 0) + 1);
    const wf = durable.workflow({ name: 'diamond' });
    const a = wf.task({ name: 'A', fn: async (input: { n: number }) => (count('A'), { n: input.n }) });
    const b = wf.task({ name: 'B', parents: [a], fn: async (_i, ctx) => (count('B'), { b: (await ctx.parentOutput(a))!.n + 1 }) });
    const c = wf.task({ name: 'C', parents: [a], fn: async (_i, ctx) => (count('C'), { c: (await ctx.parentOutput(a))!.n * 10 }) });
    wf.task({
      name: 'D',
      parents: [b, c],
      fn: async (input: { n: number }, ctx) => {
        count('D');
        return { sum: (await ctx.parentOutput(b))!.b + (await ctx.parentOutput(c))!.c, input, root: await ctx.parentOutput(a) };
      },
    });
    const out = await wf.run({ n: 2 });
    expect(out).toEqual({ A: { n: 2 }, B: { b: 3 }, C: { c: 20 }, D: { sum: 23, input: { n: 2 }, root: { n: 2 } } });
    expect(executions).toEqual({ A: 1, B: 1, C: 1, D: 1 });
  });

  test('parallel siblings run concurrently: both start before either finishes', async () => {
    const release = gate();
    const started: string[] = [];
    const wf = durable.workflow({ name: 'fan-out' });
    const root = wf.task({ name: 'root', fn: async () => 'r' });
    const sibling = (name: string) =>
      wf.task({
        name,
        parents: [root],
        fn: async () => {
          started.push(name);
          await release.opened;
          return name;
        },
      });
    const left = sibling('left');
    const right = sibling('right');
    wf.task({ name: 'join', parents: [left, right], fn: async (_i, ctx) => [await ctx.parentOutput(left), await ctx.parentOutput(right)] });
    const ref = await wf.runNoWait({});
    for (let i = 0; i < 50 && started.length < 2; i++) await new Promise((r) => setImmediate(r));
    expect(started.sort()).toEqual(['left', 'right']);
    const tasks = (await durable.runs.get(ref.runId)).tasks!;
    expect(tasks.filter((t) => t.name === 'left' || t.name === 'right').map((t) => t.status)).toEqual(['RUNNING', 'RUNNING']);
    expect(tasks.find((t) => t.name === 'join')).toBeUndefined();
    release.open();
    expect(await ref.result()).toEqual({ root: 'r', left: 'left', right: 'right', join: ['left', 'right'] });
  });

  test('a task with several roots waits for the slowest', async () => {
    const wf = durable.workflow({ name: 'two-roots' });
    const fast = wf.task({ name: 'fast', fn: async () => 1 });
    const slow = wf.durableTask({ name: 'slow', fn: async (_i, ctx) => (await ctx.sleepFor('1h'), 2) });
    wf.task({ name: 'sum', parents: [fast, slow], fn: async (_i, ctx) => (await ctx.parentOutput(fast))! + (await ctx.parentOutput(slow))! });
    const ref = await wf.runNoWait({});
    await env.settle();
    expect((await durable.runs.get(ref.runId)).tasks!.map((t) => [t.name, t.status])).toEqual([
      ['fast', 'SUCCEEDED'],
      ['slow', 'RUNNING'],
    ]);
    await env.advanceTime('1h');
    expect(await ref.result()).toEqual({ fast: 1, slow: 2, sum: 3 });
  });

  test('ctx.parentOutput of a task that is not upstream fails the task, naming it', async () => {
    const wf = durable.workflow({ name: 'not-upstream' });
    const a = wf.task({ name: 'a', fn: async () => 1 });
    wf.task({ name: 'b', fn: async (_i, ctx) => ctx.parentOutput(a) });
    await expect(wf.run({})).rejects.toThrow(/'a' is not upstream/);
  });

  test('a workflow task cannot be run on its own', async () => {
    const wf = durable.workflow({ name: 'standalone-attempt' });
    const a = wf.task({ name: 'a', fn: async () => 1 });
    await expect(a.run({})).rejects.toThrow(/run the workflow instead/);
  });
});

describe('ParentCondition', () => {
  function defineBranching() {
    const ran: string[] = [];
    const wf = durable.workflow({ name: 'branching' });
    const first = wf.task({ name: 'first', fn: async (input: { n: number }) => ({ randomNumber: input.n }) });
    const big = wf.task({
      name: 'big',
      parents: [first],
      skipIf: [new ParentCondition(first, 'output.randomNumber <= 50')],
      fn: async () => (ran.push('big'), { branch: 'big' }),
    });
    const small = wf.task({
      name: 'small',
      parents: [first],
      skipIf: { parent: first, expression: 'output.randomNumber > 50' },
      fn: async () => (ran.push('small'), { branch: 'small' }),
    });
    wf.task({
      name: 'report',
      parents: [big, small],
      fn: async (_i, ctx) => ({ big: (await ctx.parentOutput(big)) ?? null, small: (await ctx.parentOutput(small)) ?? null }),
    });
    return { wf, ran };
  }

  test('skips when output.randomNumber > 50 holds; the skipped task\'s children still run and see undefined', async () => {
    const { wf, ran } = defineBranching();
    const ref = await wf.runNoWait({ n: 80 });
    const out = await ref.result();
    expect(out).toEqual({ first: { randomNumber: 80 }, big: { branch: 'big' }, report: { big: { branch: 'big' }, small: null } });
    expect(ran).toEqual(['big']);
    const statuses = await taskStatuses(ref.runId);
    expect(statuses).toEqual({ first: 'SUCCEEDED', big: 'SUCCEEDED', small: 'SKIPPED', report: 'SUCCEEDED' });
  });

  test('does not skip when it does not hold (≤ 50)', async () => {
    const { wf, ran } = defineBranching();
    const out = await wf.run({ n: 50 });
    expect(out).toEqual({ first: { randomNumber: 50 }, small: { branch: 'small' }, report: { big: null, small: { branch: 'small' } } });
    expect(ran).toEqual(['small']);
  });

  test('in waitFor: runs when it holds; when it can never hold, the task is skipped rather than parked forever', async () => {
    const wf = durable.workflow({ name: 'parent-wait' });
    const first = wf.task({ name: 'first', fn: async (input: { ok: boolean }) => input });
    wf.task({ name: 'gated', parents: [first], waitFor: new ParentCondition(first, 'output.ok'), fn: async (_i, ctx) => ctx.triggers() });
    expect(await wf.run({ ok: true })).toEqual({ first: { ok: true }, gated: { 'parent-first': { ok: true } } });
    expect(await wf.run({ ok: false })).toEqual({ first: { ok: false } });
  });

  test('a ParentCondition over a skipped parent is false', async () => {
    const wf = durable.workflow({ name: 'skip-chain' });
    const first = wf.task({ name: 'first', fn: async () => ({ x: 1 }) });
    const second = wf.task({ name: 'second', parents: [first], skipIf: new ParentCondition(first, 'output.x == 1'), fn: async () => ({ y: 1 }) });
    wf.task({ name: 'third', parents: [second], skipIf: new ParentCondition(second, 'output.y == 1'), fn: async () => 'ran' });
    expect(await wf.run({})).toEqual({ first: { x: 1 }, third: 'ran' });
  });

  test('an expression that fails on the actual output fails the task and the workflow, naming the expression', async () => {
    const wf = durable.workflow({ name: 'bad-field' });
    const first = wf.task({ name: 'first', fn: async () => ({ x: 1 }) });
    wf.task({ name: 'second', parents: [first], skipIf: new ParentCondition(first, 'output.missing.deep > 1'), fn: async () => 1 });
    const ref = await wf.runNoWait({});
    await expect(ref.result()).rejects.toMatchObject({ name: 'InvalidExpressionError', message: expect.stringContaining("task 'second' failed") });
  });
});
