/** Starting workflow runs (events, schedules, children), durable tasks inside them, inspecting and cancelling them. */
import { describe, expect, test } from 'vitest';
import { RunCancelledError, SleepCondition, UserEventCondition } from 'durable-tasks';
import { durable, env, taskOf, useDagEnvironment } from './fixture.ts';

useDagEnvironment();

describe('starting workflow runs', () => {
  test('onEvents: a pushed event starts one run with the payload as input, once per event', async () => {
    const wf = durable.workflow({ name: 'on-order', onEvents: ['order:created'] });
    const seen: unknown[] = [];
    const a = wf.task({ name: 'record', fn: async (input: { id: string }) => (seen.push(input), { id: input.id }) });
    wf.task({ name: 'confirm', parents: [a], fn: async (_i, ctx) => ({ confirmed: (await ctx.parentOutput(a))!.id, input: ctx.workflowInput() }) });
    const { eventId } = await durable.events.push('order:created', { id: 'o-7' });
    await durable.events.push('order:other', { id: 'nope' });
    await env.settle();
    const runs = await durable.runs.list({ name: 'on-order' });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ runId: `on-order:${eventId}`, status: 'SUCCEEDED', output: { record: { id: 'o-7' }, confirm: { confirmed: 'o-7', input: { id: 'o-7' } } } });
    const details = await durable.runs.get(runs[0]!.runId);
    expect(details.metadata).toEqual({ eventId, eventKey: 'order:created' });
    // The bus redelivers the same event: nothing new starts.
    await durable.engine.route({ eventId, key: 'order:created', payload: { id: 'o-7' }, time: env.now().getTime() });
    await env.settle();
    expect(await durable.runs.list({ name: 'on-order' })).toHaveLength(1);
    expect(seen).toHaveLength(1);
    // A second push is a second event: a second run.
    await durable.events.push('order:created', { id: 'o-8' });
    await env.settle();
    expect(await durable.runs.list({ name: 'on-order' })).toHaveLength(2);
  });

  test('wf.schedule starts the run at the given time, through the timer service', async () => {
    const wf = durable.workflow({ name: 'nightly' });
    let ranAt: number | undefined;
    wf.task({ name: 'job', fn: async (input: { n: number }) => ((ranAt = env.now().getTime()), input.n * 2) });
    const at = new Date(env.now().getTime() + 3_600_000);
    const ref = await wf.schedule(at, { n: 21 });
    await env.advanceTime('59m');
    expect((await durable.runs.get(ref.runId)).status).toBe('WAITING');
    expect(ranAt).toBeUndefined();
    await env.advanceTime('1m');
    expect(await ref.result()).toEqual({ job: 42 });
    expect(ranAt).toBe(at.getTime());
  });

  test('a workflow as the child of a durable task: runChild returns its output', async () => {
    const wf = durable.workflow({ name: 'child-dag' });
    const a = wf.task({ name: 'a', fn: async (input: { n: number }) => input.n + 1 });
    wf.task({ name: 'b', parents: [a], waitFor: new SleepCondition('5m'), fn: async (_i, ctx) => (await ctx.parentOutput(a))! * 2 });
    const parent = durable.durableTask({ name: 'parent', fn: async (input: { n: number }, ctx) => ctx.runChild(wf, input) });
    const ref = await parent.runNoWait({ n: 1 });
    await env.advanceTime('5m');
    expect(await ref.result()).toEqual({ a: 2, b: 4 });
  });
});

describe('durable tasks in a workflow', () => {
  test('ctx.sleepFor, waitForEvent and step work in a workflow task, with parentOutput and triggers', async () => {
    let effects = 0;
    const wf = durable.workflow({ name: 'durable-dag' });
    const first = wf.task({ name: 'first', fn: async () => ({ randomNumber: 7 }) });
    wf.durableTask({
      name: 'durable',
      parents: [first],
      waitFor: new UserEventCondition('go', '', 'go'),
      fn: async (_i, ctx) => {
        const stamped = await ctx.step('effect', () => ++effects);
        const slept = await ctx.sleepFor('10m');
        const approved = await ctx.waitForEvent('approve', 'input.ok == true');
        return { stamped, slept, approved, parent: await ctx.parentOutput(first), triggers: ctx.triggers() };
      },
    });
    const ref = await wf.runNoWait({});
    await env.settle();
    await durable.events.push('go', { x: 1 });
    await env.advanceTime('10m');
    const taskRun = await taskOf(ref.runId, 'durable');
    expect(taskRun.status).toBe('RUNNING');
    expect((await durable.runs.get(taskRun.runId!)).status).toBe('WAITING');
    await durable.events.push('approve', { ok: true });
    expect(await ref.result()).toEqual({
      first: { randomNumber: 7 },
      durable: { stamped: 1, slept: { durationMs: 600_000 }, approved: { ok: true }, parent: { randomNumber: 7 }, triggers: { go: { x: 1 } } },
    });
    expect(effects).toBe(1);
  });
});

describe('inspecting and cancelling', () => {
  test('runs.get shows a workflow run\'s tasks with their statuses, task runs and outputs', async () => {
    const wf = durable.workflow({ name: 'inspect' });
    const a = wf.task({ name: 'a', fn: async () => ({ v: 1 }) });
    wf.task({ name: 'b', parents: [a], waitFor: new UserEventCondition('b:go', '', 'go'), fn: async () => ({ v: 2 }) });
    const ref = await wf.runNoWait({ in: true });
    await env.settle();
    const waiting = await durable.runs.get(ref.runId);
    expect(waiting).toMatchObject({ name: 'inspect', status: 'WAITING', input: { in: true } });
    expect(waiting.tasks).toEqual([
      { name: 'a', status: 'SUCCEEDED', runId: `${ref.runId}.a`, output: { v: 1 } },
      { name: 'b', status: 'WAITING' },
    ]);
    const taskRun = await durable.runs.get(`${ref.runId}.a`);
    expect(taskRun).toMatchObject({ name: 'inspect/a', status: 'SUCCEEDED', workflowRunId: ref.runId, output: { v: 1 } });
    await durable.events.push('b:go', { who: 'me' });
    await ref.result();
    const done = await durable.runs.get(ref.runId);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toEqual({ a: { v: 1 }, b: { v: 2 } });
    expect(done.tasks!.find((t) => t.name === 'b')).toEqual({ name: 'b', status: 'SUCCEEDED', runId: `${ref.runId}.b`, output: { v: 2 }, triggers: { go: { who: 'me' } } });
    expect(done.operations.filter((o) => o.status === 'waiting')).toEqual([]);
  });

  test('runs.cancel of a waiting workflow run cancels it, its task runs and its pending tasks', async () => {
    const ran: string[] = [];
    const wf = durable.workflow({ name: 'to-cancel' });
    const a = wf.task({ name: 'a', fn: async () => (ran.push('a'), 1) });
    const slow = wf.durableTask({ name: 'slow', parents: [a], fn: async (_i, ctx) => (await ctx.sleepFor('1h'), ran.push('slow'), 2) });
    const gated = wf.task({ name: 'gated', parents: [a], waitFor: new SleepCondition('30m'), fn: async () => (ran.push('gated'), 3) });
    wf.task({ name: 'last', parents: [slow, gated], fn: async () => (ran.push('last'), 4) });
    const ref = await wf.runNoWait({});
    await env.settle();
    await durable.runs.cancel(ref.runId);
    await expect(ref.result()).rejects.toBeInstanceOf(RunCancelledError);
    const details = await durable.runs.get(ref.runId);
    expect(details.status).toBe('CANCELLED');
    expect(Object.fromEntries(details.tasks!.map((t) => [t.name, t.status]))).toEqual({ a: 'SUCCEEDED', slow: 'CANCELLED', gated: 'CANCELLED', last: 'CANCELLED' });
    expect((await durable.runs.get(`${ref.runId}.slow`)).status).toBe('CANCELLED');
    expect(details.operations.filter((o) => o.status === 'waiting')).toEqual([]);
    await env.advanceTime('2h');
    expect(ran).toEqual(['a']);
    expect((await durable.runs.get(ref.runId)).status).toBe('CANCELLED');
    await durable.runs.cancel(ref.runId); // idempotent
  });

  test('runs.cancel of a workflow run whose task is running: the task stops at its next durable call', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const after: string[] = [];
    const wf = durable.workflow({ name: 'cancel-running' });
    wf.durableTask({
      name: 'busy',
      fn: async (_i, ctx) => {
        await held;
        await ctx.step('after', () => after.push('step'));
        return 1;
      },
    });
    const ref = await wf.runNoWait({});
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect((await durable.runs.get(`${ref.runId}.busy`)).status).toBe('RUNNING');
    await durable.runs.cancel(ref.runId);
    release();
    await expect(ref.result()).rejects.toBeInstanceOf(RunCancelledError);
    await env.settle();
    expect(after).toEqual([]);
    expect((await durable.runs.get(`${ref.runId}.busy`)).status).toBe('CANCELLED');
    expect((await durable.runs.get(ref.runId)).tasks).toEqual([expect.objectContaining({ name: 'busy', status: 'CANCELLED' })]);
  });

  test('runs.list shows workflow runs and task runs by name', async () => {
    const wf = durable.workflow({ name: 'listed' });
    wf.task({ name: 'only', fn: async () => 'x' });
    await wf.run({});
    expect(await durable.runs.list({ name: 'listed' })).toEqual([expect.objectContaining({ status: 'SUCCEEDED', output: { only: 'x' } })]);
    expect(await durable.runs.list({ name: 'listed/only' })).toEqual([expect.objectContaining({ status: 'SUCCEEDED', output: 'x' })]);
  });
});
