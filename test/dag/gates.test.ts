/** skipIf, cancelIf and waitFor race once the parents are done: the first satisfied decides; ties go skip > cancel > run. */
import { describe, expect, test } from 'vitest';
import { And, Or, ParentCondition, RunCancelledError, SleepCondition, UserEventCondition } from 'durable-tasks';
import { durable, env, taskOf, taskStatuses, useDagEnvironment } from './fixture.ts';

useDagEnvironment();

describe('cancelIf', () => {
  function defineApproval() {
    const ran: string[] = [];
    const wf = durable.workflow({ name: 'approval' });
    const submit = wf.task({ name: 'submit', fn: async () => (ran.push('submit'), { id: 'r-1' }) });
    const approve = wf.task({
      name: 'approve',
      parents: [submit],
      waitFor: new UserEventCondition('request:approved', '', 'approved'),
      cancelIf: new UserEventCondition('request:withdrawn', '', 'withdrawn'),
      fn: async () => (ran.push('approve'), 'approved'),
    });
    const slow = wf.durableTask({ name: 'audit', parents: [submit], fn: async (_i, ctx) => (await ctx.sleepFor('1h'), ran.push('audit'), 'audited') });
    wf.task({ name: 'ship', parents: [approve, slow], fn: async () => (ran.push('ship'), 'shipped') });
    return { wf, ran };
  }

  test('fires: the task, the workflow run and its remaining tasks are cancelled', async () => {
    const { wf, ran } = defineApproval();
    const ref = await wf.runNoWait({});
    await env.settle();
    await durable.events.push('request:withdrawn', { reason: 'changed my mind' });
    await expect(ref.result()).rejects.toBeInstanceOf(RunCancelledError);
    const details = await durable.runs.get(ref.runId);
    expect(details.status).toBe('CANCELLED');
    expect(await taskStatuses(ref.runId)).toEqual({ submit: 'SUCCEEDED', approve: 'CANCELLED', audit: 'CANCELLED', ship: 'CANCELLED' });
    expect(details.tasks!.find((t) => t.name === 'approve')!.triggers).toEqual({ withdrawn: { reason: 'changed my mind' } });
    const audit = details.tasks!.find((t) => t.name === 'audit')!;
    expect((await durable.runs.get(audit.runId!)).status).toBe('CANCELLED');
    await env.advanceTime('2h');
    expect(ran).toEqual(['submit']);
  });

  test('does not fire: waitFor wins and the workflow completes', async () => {
    const { wf, ran } = defineApproval();
    const ref = await wf.runNoWait({});
    await env.settle();
    await durable.events.push('request:approved', {});
    await durable.events.push('request:withdrawn', {});
    await env.advanceTime('1h');
    expect(await ref.result()).toEqual({ submit: { id: 'r-1' }, approve: 'approved', audit: 'audited', ship: 'shipped' });
    expect(ran.sort()).toEqual(['approve', 'audit', 'ship', 'submit']);
  });

  test('a ParentCondition in cancelIf decides at once', async () => {
    const wf = durable.workflow({ name: 'guard' });
    const check = wf.task({ name: 'check', fn: async (input: { fraud: boolean }) => input });
    wf.task({ name: 'charge', parents: [check], cancelIf: new ParentCondition(check, 'output.fraud'), fn: async () => 'charged' });
    await expect(wf.run({ fraud: true })).rejects.toThrow(RunCancelledError);
    expect(await wf.run({ fraud: false })).toEqual({ check: { fraud: false }, charge: 'charged' });
  });
});

describe('priority when several gates are satisfied together: skip > cancel > run', () => {
  function define(gates: { skip?: boolean; cancel?: boolean }) {
    const wf = durable.workflow({ name: `prio-${gates.skip ? 's' : ''}${gates.cancel ? 'c' : ''}` });
    const first = wf.task({ name: 'first', fn: async () => ({}) });
    wf.task({
      name: 'second',
      parents: [first],
      waitFor: new UserEventCondition('go', '', 'run'),
      ...(gates.skip ? { skipIf: new UserEventCondition('go', '', 'skip') } : {}),
      ...(gates.cancel ? { cancelIf: new UserEventCondition('go', '', 'cancel') } : {}),
      fn: async () => 'ran',
    });
    return wf;
  }

  test('one event satisfying skipIf, cancelIf and waitFor skips', async () => {
    const ref = await define({ skip: true, cancel: true }).runNoWait({});
    await env.settle();
    await durable.events.push('go', {});
    expect(await ref.result()).toEqual({ first: {} });
    expect(await taskOf(ref.runId, 'second')).toMatchObject({ status: 'SKIPPED', triggers: { skip: {} } });
  });

  test('one event satisfying cancelIf and waitFor cancels', async () => {
    const ref = await define({ cancel: true }).runNoWait({});
    await env.settle();
    await durable.events.push('go', {});
    await expect(ref.result()).rejects.toThrow(RunCancelledError);
  });

  test('ParentConditions decided at once: skip beats cancel beats run', async () => {
    const wf = durable.workflow({ name: 'prio-parent' });
    const first = wf.task({ name: 'first', fn: async () => ({ x: 1 }) });
    wf.task({
      name: 'second',
      parents: [first],
      skipIf: new ParentCondition(first, 'output.x == 1'),
      cancelIf: new ParentCondition(first, 'output.x == 1'),
      fn: async () => 'ran',
    });
    expect(await wf.run({})).toEqual({ first: { x: 1 } });
  });

  test('sleeps due at the same instant: cancel beats run', async () => {
    const wf = durable.workflow({ name: 'prio-sleep' });
    const first = wf.task({ name: 'first', fn: async () => 1 });
    wf.task({ name: 'second', parents: [first], waitFor: new SleepCondition('1m'), cancelIf: new SleepCondition('1m'), fn: async () => 'ran' });
    const ref = await wf.runNoWait({});
    await env.advanceTime('1m');
    await expect(ref.result()).rejects.toThrow(RunCancelledError);
  });

  test('otherwise the first satisfied decides: a skip event after the waitFor fired changes nothing', async () => {
    const wf = durable.workflow({ name: 'first-wins' });
    const first = wf.task({ name: 'first', fn: async () => 1 });
    wf.task({ name: 'second', parents: [first], waitFor: new SleepCondition('1m'), skipIf: new SleepCondition('2m'), fn: async () => 'ran' });
    const ref = await wf.runNoWait({});
    await env.advanceTime('3m');
    expect(await ref.result()).toEqual({ first: 1, second: 'ran' });
  });
});

describe('waitFor', () => {
  test('And(...) needs every condition; the triggers hold each key', async () => {
    const wf = durable.workflow({ name: 'and-gate' });
    const first = wf.task({ name: 'first', fn: async () => 1 });
    wf.task({
      name: 'second',
      parents: [first],
      waitFor: And(new UserEventCondition('a', 'input.ok == true', 'a'), { sleepFor: '5m', readableDataKey: 'cooldown' }),
      fn: async (_i, ctx) => ctx.triggers(),
    });
    const ref = await wf.runNoWait({});
    await env.settle();
    await durable.events.push('a', { ok: false });
    await durable.events.push('a', { ok: true });
    await env.advanceTime('4m');
    expect((await durable.runs.get(ref.runId)).status).toBe('WAITING');
    await env.advanceTime('1m');
    expect(await ref.result()).toEqual({ first: 1, second: { a: { ok: true }, cooldown: { durationMs: 300_000 } } });
  });

  test('an event pushed before the task was reached does not satisfy its wait (no lookback)', async () => {
    const wf = durable.workflow({ name: 'late-wait' });
    const first = wf.durableTask({ name: 'first', fn: async (_i, ctx) => (await ctx.sleepFor('1m'), 1) });
    wf.task({ name: 'second', parents: [first], waitFor: Or({ eventKey: 'early', readableDataKey: 'early' }, { sleepFor: '10m', readableDataKey: 'timeout' }), fn: async (_i, ctx) => Object.keys(ctx.triggers()) });
    const ref = await wf.runNoWait({});
    await env.settle();
    await durable.events.push('early', {});
    await env.advanceTime('1m');
    await env.advanceTime('10m');
    expect(await ref.result()).toEqual({ first: 1, second: ['timeout'] });
  });

  test('the workflow run holds a timer, not a worker: WAITING with wakeAt, no run in flight', async () => {
    const wf = durable.workflow({ name: 'parked' });
    const first = wf.task({ name: 'first', fn: async () => 1 });
    wf.task({ name: 'later', parents: [first], waitFor: new SleepCondition('1d'), fn: async () => 2 });
    const ref = await wf.runNoWait({});
    await env.settle();
    const run = await env.backend.store.getRun(ref.runId);
    expect(run).toMatchObject({ status: 'WAITING', wakeAt: env.now().getTime() + 86_400_000 });
    expect(run!.leaseOwner).toBeUndefined();
    await env.advanceTime('1d');
    expect(await ref.result()).toEqual({ first: 1, later: 2 });
  });
});
