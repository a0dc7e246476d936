/**
 * The seed's DAG (start → wait_for_event, start → skip_on_event) in our API, with every branch taken, and
 * the seed's TypeScript example (first-task → second-task waiting on Or(event, sleep)).
 */
import { describe, expect, test } from 'vitest';
import { Or, SleepCondition, UserEventCondition } from 'durable-tasks';
import { durable, env, taskOf, taskStatuses, useDagEnvironment } from './fixture.ts';

useDagEnvironment();

function defineSeedDag() {
  const runs: string[] = [];
  const wf = durable.workflow({ name: 'TaskConditionWorkflow' });
  const start = wf.task({
    name: 'start',
    fn: async () => {
      runs.push('start');
      return { randomNumber: 42 };
    },
  });
  wf.task({
    name: 'wait_for_event',
    parents: [start],
    waitFor: [Or(new SleepCondition('1m'), new UserEventCondition('wait_for_event:start'))],
    fn: async (_input, ctx) => {
      runs.push('wait_for_event');
      return { randomNumber: 7, triggers: ctx.triggers() };
    },
  });
  wf.task({
    name: 'skip_on_event',
    parents: [start],
    waitFor: [new SleepCondition('30s')],
    skipIf: [new UserEventCondition('skip_on_event:skip')],
    fn: async () => {
      runs.push('skip_on_event');
      return { randomNumber: 9 };
    },
  });
  return { wf, runs };
}

describe('the seed DAG', () => {
  test('parks with both conditional tasks waiting and no compute held', async () => {
    const { wf, runs } = defineSeedDag();
    const ref = await wf.runNoWait({});
    await env.settle();
    const details = await durable.runs.get(ref.runId);
    expect(details.status).toBe('WAITING');
    expect(await taskStatuses(ref.runId)).toEqual({ start: 'SUCCEEDED', wait_for_event: 'WAITING', skip_on_event: 'WAITING' });
    expect(runs).toEqual(['start']);
    const pending = details.operations.filter((o) => o.status === 'waiting').map((o) => o.name);
    expect(pending).toEqual(['wait_for_event.waitFor', 'skip_on_event.skipIf', 'skip_on_event.waitFor']);
  });

  test('the event wins the Or before the minute; no skip event: skip_on_event runs after 30 s', async () => {
    const { wf, runs } = defineSeedDag();
    const ref = await wf.runNoWait({});
    await env.settle();
    await durable.events.push('wait_for_event:start', { by: 'user' });
    await env.settle();
    expect(await taskStatuses(ref.runId)).toMatchObject({ wait_for_event: 'SUCCEEDED', skip_on_event: 'WAITING' });
    await env.advanceTime('29s');
    expect(runs).toEqual(['start', 'wait_for_event']);
    await env.advanceTime('1s');
    const out = await ref.result();
    expect(out).toEqual({
      start: { randomNumber: 42 },
      wait_for_event: { randomNumber: 7, triggers: { 'wait_for_event:start': { by: 'user' } } },
      skip_on_event: { randomNumber: 9 },
    });
    expect(runs).toEqual(['start', 'wait_for_event', 'skip_on_event']);
  });

  test('the sleep wins the Or when no event comes within the minute', async () => {
    const { wf } = defineSeedDag();
    const ref = await wf.runNoWait({});
    await env.advanceTime('1m');
    const out = (await ref.result()) as Record<string, any>;
    expect(Object.keys(out.wait_for_event.triggers)).toEqual(['sleep-1m']);
    expect(out.wait_for_event.triggers['sleep-1m']).toEqual({ durationMs: 60_000 });
    expect(out.skip_on_event).toEqual({ randomNumber: 9 });
  });

  test('a skip event before the 30 s skips skip_on_event: SKIPPED, absent from the output', async () => {
    const { wf, runs } = defineSeedDag();
    const ref = await wf.runNoWait({});
    await env.advanceTime('10s');
    await durable.events.push('skip_on_event:skip', {});
    await env.settle();
    expect(await taskStatuses(ref.runId)).toMatchObject({ skip_on_event: 'SKIPPED', wait_for_event: 'WAITING' });
    await env.advanceTime('50s');
    const out = await ref.result();
    expect(Object.keys(out).sort()).toEqual(['start', 'wait_for_event']);
    expect(runs).not.toContain('skip_on_event');
    const skipped = await taskOf(ref.runId, 'skip_on_event');
    expect(skipped.triggers).toEqual({ 'skip_on_event:skip': {} });
  });

  test('a skip event after the 30 s changes nothing: the task already ran', async () => {
    const { wf } = defineSeedDag();
    const ref = await wf.runNoWait({});
    await env.advanceTime('31s');
    await durable.events.push('skip_on_event:skip', {});
    await durable.events.push('wait_for_event:start', {});
    const out = await ref.result();
    expect(out.skip_on_event).toEqual({ randomNumber: 9 });
  });
});

describe("the seed's TypeScript example", () => {
  function defineExample() {
    const wf = durable.workflow({ name: 'simple' });
    const firstTask = wf.task({ name: 'first-task', fn: async () => ({ Completed: true }) });
    wf.task({
      name: 'second-task',
      parents: [firstTask],
      waitFor: Or({ eventKey: 'user:event' }, { sleepFor: '10s' }),
      fn: async (_input, ctx) => ({ Completed: true, triggers: ctx.triggers(), parent: await ctx.parentOutput(firstTask) }),
    });
    return wf;
  }

  test('triggered by the event', async () => {
    const wf = defineExample();
    const ref = await wf.runNoWait({});
    await env.settle();
    await durable.events.push('user:event', { id: 1 });
    expect(await ref.result()).toEqual({
      'first-task': { Completed: true },
      'second-task': { Completed: true, triggers: { 'user:event': { id: 1 } }, parent: { Completed: true } },
    });
  });

  test('triggered by the sleep', async () => {
    const wf = defineExample();
    const ref = await wf.runNoWait({});
    await env.advanceTime('10s');
    const out = (await ref.result()) as Record<string, any>;
    expect(out['second-task'].triggers).toEqual({ 'sleep-10s': { durationMs: 10_000 } });
  });

  test('wf.run(input) waits for the output', async () => {
    const wf = defineExample();
    const done = wf.run({});
    await env.settle();
    await durable.events.push('user:event', {});
    await expect(done).resolves.toMatchObject({ 'second-task': { Completed: true } });
  });
});
