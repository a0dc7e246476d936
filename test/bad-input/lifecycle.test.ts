/**
 * Bad input about runs and names: ids that do not exist, events and cancels aimed at finished runs, names
 * used twice. Each is a typed error (or a documented no-op) and leaves every other run as it was.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DurableError, InvalidDefinitionError, RunCancelledError, RunNotFoundError } from 'durable-tasks';
import { createTestEnvironment, type TestEnvironment } from '../support/env.ts';
import { rejection, thrown } from './support.ts';

let env: TestEnvironment;
beforeEach(async () => {
  env = await createTestEnvironment();
});
afterEach(async () => {
  await env.close();
});

describe('run ids that do not exist', () => {
  test('waiting for the result of an unknown run rejects with RunNotFoundError naming it', async () => {
    const error = await rejection(env.durable.engine.runRef('ghost-run').result());
    expect(error).toBeInstanceOf(RunNotFoundError);
    expect(error.message).toBe("run 'ghost-run' not found");
    expect((error as RunNotFoundError).runId).toBe('ghost-run');
  });

  test('a spawned child reference to a run that was never created is a RunNotFoundError, not a hang', async () => {
    const task = env.durable.durableTask({ name: 'peek', fn: async () => 'x' });
    const ref = await task.runNoWait({});
    expect(await ref.result()).toBe('x');
    await expect(env.durable.engine.result(`${ref.runId}.0.7`)).rejects.toBeInstanceOf(RunNotFoundError);
  });
});

describe('a cancelled run receiving an event', () => {
  test('stays CANCELLED: no journal entry, no waiter, no wake; another run waiting on the same key still resolves', async () => {
    const task = env.durable.durableTask({ name: 'waits', fn: async (_: {}, ctx) => ctx.waitForEvent('approved', 'input.ok == true') });
    const cancelled = await task.runNoWait({});
    const alive = await task.runNoWait({});
    await env.settle();
    await env.durable.runs.cancel(cancelled.runId);
    const before = await env.durable.runs.get(cancelled.runId);
    expect(before.status).toBe('CANCELLED');
    expect((await env.backend.store.loadRun(cancelled.runId))!.waiters).toEqual([]);
    const wakeBefore = (await env.backend.store.getRun(cancelled.runId))!.wake;
    await env.durable.events.push('approved', { ok: true });
    expect(await alive.result()).toEqual({ ok: true });
    const after = await env.durable.runs.get(cancelled.runId);
    expect(after.status).toBe('CANCELLED');
    expect(after.operations).toEqual(before.operations);
    expect(after.error).toEqual({ name: 'RunCancelledError', message: `run '${cancelled.runId}' was cancelled` });
    expect((await env.backend.store.getRun(cancelled.runId))!.wake).toBe(wakeBefore);
    await expect(cancelled.result()).rejects.toBeInstanceOf(RunCancelledError);
  });

  test('cancelling a finished run is a no-op: its status and output stay', async () => {
    const task = env.durable.task({ name: 'quick', fn: async () => 'done' });
    const ref = await task.runNoWait({});
    expect(await ref.result()).toBe('done');
    await env.durable.runs.cancel(ref.runId);
    expect(await env.durable.runs.get(ref.runId)).toMatchObject({ status: 'SUCCEEDED', output: 'done' });
  });

  test('a run that finished with a wait still open leaves no waiter behind: a late event changes nothing', async () => {
    const task = env.durable.durableTask({
      name: 'races',
      fn: async (_: {}, ctx) => Promise.race([ctx.waitForEvent('slow'), ctx.sleepFor('1m').then(() => 'timer')]),
    });
    const ref = await task.runNoWait({});
    await env.advanceTime('1m');
    expect(await ref.result()).toBe('timer');
    const before = await env.durable.runs.get(ref.runId);
    expect(await env.backend.store.findWaiters('slow')).toEqual([]);
    await env.durable.events.push('slow', 'late');
    expect((await env.durable.runs.get(ref.runId)).operations).toEqual(before.operations);
  });

  test('a run that fails while a parallel branch waits leaves no waiter behind', async () => {
    const task = env.durable.durableTask({
      name: 'fails-waiting',
      fn: async (_: {}, ctx) =>
        Promise.all([
          ctx.waitForEvent('never'),
          ctx.step('boom', () => {
            throw new Error('boom');
          }),
        ]),
    });
    const ref = await task.runNoWait({});
    await env.settle();
    await expect(ref.result()).rejects.toThrow('boom');
    expect(await env.backend.store.findWaiters('never')).toEqual([]);
    expect((await env.backend.store.loadRun(ref.runId))!.waiters).toEqual([]);
  });
});

describe('names', () => {
  test.each([
    ['a task then a durable task', (d: TestEnvironment['durable']) => d.task({ name: 'n', fn: async () => 1 }), (d: TestEnvironment['durable']) => d.durableTask({ name: 'n', fn: async () => 1 })],
    ['a task then a workflow', (d: TestEnvironment['durable']) => d.task({ name: 'n', fn: async () => 1 }), (d: TestEnvironment['durable']) => d.workflow({ name: 'n' })],
    ['a workflow then a task', (d: TestEnvironment['durable']) => d.workflow({ name: 'n' }), (d: TestEnvironment['durable']) => d.task({ name: 'n', fn: async () => 1 })],
    ['two workflows', (d: TestEnvironment['durable']) => d.workflow({ name: 'n' }), (d: TestEnvironment['durable']) => d.workflow({ name: 'n' })],
  ])('a name used twice (%s) throws InvalidDefinitionError at the second definition; the first keeps working', async (_label, first, second) => {
    first(env.durable);
    const error = thrown(() => second(env.durable));
    expect(error).toBeInstanceOf(InvalidDefinitionError);
    expect(error.message).toBe("a task or workflow named 'n' is already defined on this client; names must be unique");
    expect(env.durable.engine.registry.all()).toHaveLength(1);
  });

  test('a step name must be a non-empty string: the run fails with InvalidDefinitionError', async () => {
    const task = env.durable.durableTask({ name: 'nameless-step', fn: async (_: {}, ctx) => ctx.step('', () => 1) });
    const error = await rejection(task.run({}));
    expect(error).toBeInstanceOf(InvalidDefinitionError);
    expect(error.message).toMatch(/the name of a step must be a non-empty string/);
  });

  test('a workflow whose onEvents holds an empty key is refused', () => {
    const error = thrown(() => env.durable.workflow({ name: 'on', onEvents: ['ok', ''] }));
    expect(error).toBeInstanceOf(DurableError);
    expect(error.message).toMatch(/onEvents must hold non-empty event keys/);
    expect(env.durable.engine.registry.get('on')).toBeUndefined();
  });
});
