/**
 * The DAG contract, written once and run on the memory adapters and on the aws/ adapters over dynalite +
 * fauxqs (the contract harness of test/contract), so workflow orchestration behaves the same on both.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { Or, ParentCondition, RunCancelledError, SleepCondition, UserEventCondition } from 'durable-tasks';
import type { Harness, HarnessFactory } from '../contract/harness.ts';
import { taskStatuses } from './fixture.ts';

export function dagContract(name: string, make: HarnessFactory) {
  describe(`DAG contract: ${name}`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    function seedDag(harness: Harness) {
      const wf = harness.durable.workflow({ name: 'TaskConditionWorkflow' });
      const start = wf.task({ name: 'start', fn: async () => ({ randomNumber: 42 }) });
      wf.task({
        name: 'wait_for_event',
        parents: [start],
        waitFor: [Or(new SleepCondition('1m', 'sleep'), new UserEventCondition('wait_for_event:start', '', 'event'))],
        fn: async (_i, ctx) => ({ fired: Object.keys(ctx.triggers()) }),
      });
      wf.task({
        name: 'skip_on_event',
        parents: [start],
        waitFor: [new SleepCondition('30s')],
        skipIf: [new UserEventCondition('skip_on_event:skip')],
        fn: async () => ({ ran: true }),
      });
      return wf;
    }

    test('the seed DAG: the event wins the Or, the skip event skips', async () => {
      h = await make();
      const ref = await seedDag(h).runNoWait({});
      await h.settle();
      await h.durable.events.push('skip_on_event:skip', {});
      await h.settle();
      await h.durable.events.push('wait_for_event:start', {});
      await h.settle();
      expect(await ref.result()).toEqual({ start: { randomNumber: 42 }, wait_for_event: { fired: ['event'] } });
      const tasks = await taskStatuses(ref.runId, h.durable);
      expect(tasks).toEqual({ start: 'SUCCEEDED', wait_for_event: 'SUCCEEDED', skip_on_event: 'SKIPPED' });
    });

    test('the seed DAG: the sleeps win when no event comes', async () => {
      h = await make();
      const ref = await seedDag(h).runNoWait({});
      await h.advance(60_000);
      expect(await ref.result()).toEqual({ start: { randomNumber: 42 }, wait_for_event: { fired: ['sleep'] }, skip_on_event: { ran: true } });
    });

    test('diamond with a ParentCondition skip; the join sees undefined for the skipped parent', async () => {
      h = await make();
      const wf = h.durable.workflow({ name: 'diamond' });
      const a = wf.task({ name: 'a', fn: async (input: { n: number }) => ({ n: input.n }) });
      const b = wf.task({ name: 'b', parents: [a], skipIf: new ParentCondition(a, 'output.n > 50'), fn: async () => 'b' });
      const c = wf.task({ name: 'c', parents: [a], fn: async (_i, ctx) => (await ctx.parentOutput(a))!.n * 2 });
      wf.task({ name: 'd', parents: [b, c], fn: async (_i, ctx) => ({ b: (await ctx.parentOutput(b)) ?? 'skipped', c: await ctx.parentOutput(c) }) });
      expect(await wf.run({ n: 80 })).toEqual({ a: { n: 80 }, c: 160, d: { b: 'skipped', c: 160 } });
      expect(await wf.run({ n: 10 })).toEqual({ a: { n: 10 }, b: 'b', c: 20, d: { b: 'b', c: 20 } });
    });

    test('a failed task fails the run; its descendants never run', async () => {
      h = await make();
      const ran: string[] = [];
      const wf = h.durable.workflow({ name: 'failing' });
      const a = wf.task({ name: 'a', retries: 1, fn: async () => (ran.push('a'), Promise.reject(new Error('boom'))) });
      wf.task({ name: 'b', parents: [a], fn: async () => ran.push('b') });
      await expect(wf.run({})).rejects.toThrow("task 'a' failed: boom");
      expect(ran).toEqual(['a', 'a']);
    });

    test('cancelIf cancels the run; runs.cancel cancels a waiting run and its task runs', async () => {
      h = await make();
      const wf = h.durable.workflow({ name: 'cancels' });
      const a = wf.task({ name: 'a', fn: async () => 1 });
      wf.task({ name: 'b', parents: [a], waitFor: { eventKey: 'b:go' }, cancelIf: { eventKey: 'b:stop' }, fn: async () => 2 });
      wf.durableTask({ name: 'c', parents: [a], fn: async (_i, ctx) => (await ctx.sleepFor('1h'), 3) });
      const first = await wf.runNoWait({});
      await h.settle();
      await h.durable.events.push('b:stop', {});
      await expect(first.result()).rejects.toBeInstanceOf(RunCancelledError);
      await h.settle();
      expect((await h.durable.runs.get(`${first.runId}.c`)).status).toBe('CANCELLED');

      const second = await wf.runNoWait({});
      await h.settle();
      await h.durable.runs.cancel(second.runId);
      await expect(second.result()).rejects.toBeInstanceOf(RunCancelledError);
      await h.settle();
      const tasks = await taskStatuses(second.runId, h.durable);
      expect(tasks).toEqual({ a: 'SUCCEEDED', b: 'CANCELLED', c: 'CANCELLED' });
    });

    test('onEvents starts one run per event', async () => {
      h = await make();
      const wf = h.durable.workflow({ name: 'triggered', onEvents: ['thing:happened'] });
      wf.task({ name: 'handle', fn: async (input: { id: number }) => input.id });
      await h.durable.events.push('thing:happened', { id: 5 });
      await h.settle();
      const runs = await h.durable.runs.list({ name: 'triggered' });
      expect(runs).toEqual([expect.objectContaining({ status: 'SUCCEEDED', output: { handle: 5 } })]);
    });
  });
}
