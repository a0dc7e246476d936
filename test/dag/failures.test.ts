/** A failed task fails its workflow run after its retries; its descendants never run; independent branches finish. */
import { describe, expect, test } from 'vitest';
import { NonRetryableError, RunCancelledError } from 'durable-tasks';
import { durable, env, taskOf, taskStatuses, useDagEnvironment } from './fixture.ts';

useDagEnvironment();

describe('failure', () => {
  function defineShop(failCharge: () => boolean, retries = 0) {
    const executions: Record<string, number> = {};
    const count = (name: string) => (executions[name] = (executions[name] ?? 0) + 1);
    const wf = durable.workflow({ name: 'shop' });
    const order = wf.task({ name: 'order', fn: async () => (count('order'), { id: 'o-1' }) });
    const charge = wf.task({
      name: 'charge',
      parents: [order],
      retries,
      fn: async () => {
        count('charge');
        if (failCharge()) throw new Error('card declined');
        return { charged: true };
      },
    });
    const ship = wf.task({ name: 'ship', parents: [charge], fn: async () => (count('ship'), 'shipped') });
    wf.task({ name: 'notify', parents: [ship], fn: async () => (count('notify'), 'notified') });
    wf.durableTask({ name: 'analytics', parents: [order], fn: async (_i, ctx) => (await ctx.sleepFor('1m'), count('analytics'), 'logged') });
    return { wf, executions };
  }

  test('fails the workflow with the task\'s error; descendants never run; the independent branch finishes', async () => {
    const { wf, executions } = defineShop(() => true);
    const ref = await wf.runNoWait({});
    await env.settle();
    expect((await durable.runs.get(ref.runId)).status).toBe('WAITING'); // analytics is still sleeping
    await env.advanceTime('1m');
    await expect(ref.result()).rejects.toThrow("task 'charge' failed: card declined");
    expect(executions).toEqual({ order: 1, charge: 1, analytics: 1 });
    const details = await durable.runs.get(ref.runId);
    expect(details.status).toBe('FAILED');
    expect(details.error).toEqual({ name: 'Error', message: "task 'charge' failed: card declined" });
    expect(Object.fromEntries(details.tasks!.map((t) => [t.name, t.status]))).toEqual({
      order: 'SUCCEEDED',
      charge: 'FAILED',
      ship: 'CANCELLED',
      notify: 'CANCELLED',
      analytics: 'SUCCEEDED',
    });
  });

  test('a DAG task is retried on its own, from its task run; the workflow succeeds when a retry does', async () => {
    let attempts = 0;
    const { wf, executions } = defineShop(() => ++attempts < 3, 2);
    const ref = await wf.runNoWait({});
    await env.advanceTime('1m');
    expect(await ref.result()).toEqual({ order: { id: 'o-1' }, charge: { charged: true }, ship: 'shipped', notify: 'notified', analytics: 'logged' });
    expect(executions).toEqual({ order: 1, charge: 3, ship: 1, notify: 1, analytics: 1 });
    const chargeRun = (await taskOf(ref.runId, 'charge')).runId!;
    expect((await durable.runs.get(chargeRun)).attempt).toBe(2);
  });

  test('retries with backoff park the task run; the workflow fails once they are spent', async () => {
    const wf = durable.workflow({ name: 'flaky' });
    let calls = 0;
    wf.task({
      name: 'flaky',
      retries: 2,
      backoff: { factor: 2, maxSeconds: 60 },
      fn: async () => {
        calls++;
        throw new Error(`attempt ${calls}`);
      },
    });
    const ref = await wf.runNoWait({});
    await env.settle();
    expect(calls).toBe(1);
    await env.advanceTime('2s');
    expect(calls).toBe(2);
    await env.advanceTime('4s');
    await expect(ref.result()).rejects.toThrow("task 'flaky' failed: attempt 3");
  });

  test('NonRetryableError skips the remaining retries and keeps its class', async () => {
    const wf = durable.workflow({ name: 'fatal' });
    let calls = 0;
    wf.task({ name: 'fatal', retries: 5, fn: async () => (calls++, Promise.reject(new NonRetryableError('no point'))) });
    await expect(wf.run({})).rejects.toBeInstanceOf(NonRetryableError);
    expect(calls).toBe(1);
  });

  test('cancelling one task run cancels its descendants; the workflow ends CANCELLED', async () => {
    const wf = durable.workflow({ name: 'cancel-a-task' });
    const slow = wf.durableTask({ name: 'slow', fn: async (_i, ctx) => (await ctx.sleepFor('1h'), 1) });
    wf.task({ name: 'after', parents: [slow], fn: async () => 2 });
    const ref = await wf.runNoWait({});
    await env.settle();
    const slowRun = (await taskOf(ref.runId, 'slow')).runId!;
    await durable.runs.cancel(slowRun);
    await expect(ref.result()).rejects.toBeInstanceOf(RunCancelledError);
    expect(await taskStatuses(ref.runId)).toEqual({ slow: 'CANCELLED', after: 'CANCELLED' });
  });
});
