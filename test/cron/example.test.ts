/**
 * The example worker (what the example stack deploys) declares a cron: after a deploy the sweeper's first
 * invocation schedules it on EventBridge Scheduler (here the schedules port is recorded), and on the virtual
 * clock it runs once a day at 03:00 UTC.
 */
import { expect, test } from 'vitest';
import { createTestEnvironment } from 'durable-tasks/testing';
import { defineExamples } from '../../examples/definitions.ts';
import type { CronRecord } from '../../sdk/ports.ts';

test('the example stack deploys a declared cron: nightly-report at 03:00 UTC', async () => {
  const env = await createTestEnvironment({ startTime: new Date('2030-01-01T00:00:00Z') });
  const examples = defineExamples(env.durable);
  expect((await env.durable.crons.list()).map((c) => [c.name, c.task, c.next.toISOString()])).toEqual([
    ['nightly-report:0 3 * * *', 'nightly-report', '2030-01-01T03:00:00.000Z'],
  ]);
  await env.advanceTime('1d');
  const runs = (await env.durable.runs.list({ name: 'nightly-report' })).map((r) => [r.runId, r.status]);
  expect(runs).toEqual([['cron:nightly-report:0 3 * * *:2030-01-01T03:00:00.000Z', 'SUCCEEDED']]);

  // On AWS: the sweeper (a handler of the same worker module) schedules it on its first invocation.
  const scheduled: CronRecord[] = [];
  env.backend.cronSchedules = { put: async (c) => void scheduled.push(c), delete: async () => undefined };
  const worker = env.durable.worker('durable-worker', { workflows: Object.values(examples) });
  await worker.sweeperHandler()();
  expect(scheduled.map((c) => [c.name, c.expression, c.task])).toEqual([['nightly-report:0 3 * * *', '0 3 * * *', 'nightly-report']]);
  await env.close();
});
