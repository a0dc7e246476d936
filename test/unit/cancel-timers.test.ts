/**
 * Cancelling a parked run deletes the timers it still has armed (on AWS a timer over 15 minutes is a Scheduler
 * schedule that would otherwise fire after the run ended): a long sleep, a step waiting for its retry, a task
 * retry's backoff, a scheduled start. The AWS side (a fake Scheduler whose schedules must be gone) is in
 * test/infra/recorded-grants.integration.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { Durable } from '../../sdk/durable.ts';
import { createMemoryBackend, VirtualClock } from '../../sdk/adapters/memory/index.ts';
import type { Backend } from '../../sdk/ports.ts';

function setUp() {
  const clock = new VirtualClock();
  const base = createMemoryBackend(clock);
  const armed = new Set<string>();
  const timers: Backend['timers'] = {
    async schedule(id, dueAt, message) {
      armed.add(id);
      await base.timers.schedule(id, dueAt, message);
    },
    async cancel(id) {
      armed.delete(id);
      await base.timers.cancel(id);
    },
  };
  const durable = new Durable({ backend: { ...base, timers }, embeddedWorker: 'listen', cancelPollMs: 0, log: () => undefined });
  return { durable, armed, settle: () => durable.idle(), clock };
}

describe('given a parked run with a pending timer', () => {
  test('when it is cancelled in a long sleep, then the sleep timer is deleted', async () => {
    const { durable, armed, settle } = setUp();
    const task = durable.durableTask({ name: 'nap', fn: async (_: unknown, ctx) => ctx.sleepFor('2h') });
    const ref = await task.runNoWait({});
    await settle();
    expect(armed.size).toBe(1);
    await durable.runs.cancel(ref.runId);
    expect((await durable.runs.get(ref.runId)).status).toBe('CANCELLED');
    expect([...armed]).toEqual([]);
    await durable.close();
  });

  test('when it is cancelled while a step waits for its retry, then the retry timer is deleted', async () => {
    const { durable, armed, settle } = setUp();
    const task = durable.durableTask({
      name: 'flaky',
      fn: async (_: unknown, ctx) =>
        ctx.step('call', () => {
          throw new Error('down');
        }, { retries: 3, backoff: { factor: 3600, maxSeconds: 3600 } }),
    });
    const ref = await task.runNoWait({});
    await settle();
    expect(armed.size).toBe(1);
    await durable.runs.cancel(ref.runId);
    expect([...armed]).toEqual([]);
    await durable.close();
  });

  test('when a task waiting for its retry backoff is cancelled, then the backoff timer is deleted', async () => {
    const { durable, armed, settle } = setUp();
    const task = durable.durableTask({
      name: 'fails',
      retries: 2,
      backoff: { factor: 1800, maxSeconds: 3600 },
      fn: async () => {
        throw new Error('down');
      },
    });
    const ref = await task.runNoWait({});
    await settle();
    expect((await durable.runs.get(ref.runId)).status).toBe('WAITING');
    expect(armed.size).toBe(1);
    await durable.runs.cancel(ref.runId);
    expect([...armed]).toEqual([]);
    await durable.close();
  });

  test('when a run scheduled for later is cancelled, then its start timer is deleted', async () => {
    const { durable, armed, clock } = setUp();
    const task = durable.durableTask({ name: 'later', fn: async () => 1 });
    const ref = await task.schedule(new Date(clock.now() + 7_200_000), {});
    expect([...armed]).toEqual([`${ref.runId}-start`]);
    await durable.runs.cancel(ref.runId);
    expect([...armed]).toEqual([]);
    await durable.close();
  });
});
