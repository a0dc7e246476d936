/**
 * The example worker (what the example stack deploys) declares a cron: after a deploy the worker schedules it on
 * EventBridge Scheduler when the sweeper asks (here the schedules port is recorded), and on the virtual
 * clock it runs once a day at 03:00 UTC.
 */
import { expect, test } from 'vitest';
import { createTestEnvironment } from 'durable-tasks/testing';
import { defineExamples } from '../../examples/definitions.ts';
import type { CronRecord } from '../../sdk/ports.ts';
import { RECONCILE_CRONS_RUN_ID } from '../../sdk/core/cron/tick-message.ts';
import { sqsRecord } from '../support/aws-events.ts';

test('the example stack deploys a declared cron: nightly-report at 03:00 UTC', async () => {
  const env = await createTestEnvironment({ startTime: new Date('2030-01-01T00:00:00Z') });
  const examples = defineExamples(env.durable);
  expect((await env.durable.crons.list()).map((c) => [c.name, c.task, c.next.toISOString()])).toEqual([
    ['nightly-report:0 3 * * *', 'nightly-report', '2030-01-01T03:00:00.000Z'],
  ]);
  await env.advanceTime('1d');
  const runs = (await env.durable.runs.list({ name: 'nightly-report' })).map((r) => [r.runId, r.status]);
  expect(runs).toEqual([['cron:nightly-report:0 3 * * *:2030-01-01T03:00:00.000Z', 'SUCCEEDED']]);

  // On AWS: after a deploy the worker (a handler of the same module) schedules it when the sweeper asks.
  const scheduled: CronRecord[] = [];
  env.backend.cronSchedules = { put: async (c) => void scheduled.push(c), delete: async () => undefined };
  const worker = env.durable.worker('durable-worker', { workflows: Object.values(examples) });
  await worker.lambdaHandler()({ Records: [sqsRecord(JSON.stringify({ runId: RECONCILE_CRONS_RUN_ID }))] });
  expect(scheduled.map((c) => [c.name, c.expression, c.task])).toEqual([['nightly-report:0 3 * * *', '0 3 * * *', 'nightly-report']]);
  await env.close();
});
