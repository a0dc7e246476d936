/**
 * The AWS path of a tick, over the aws adapters on dynalite + fauxqs: Scheduler puts `{"cron","tick"}` on the
 * dispatch queue; the worker (Lambda handler or long-polling) turns it into the tick's one run, however often
 * it is delivered; the sweeper reconciles declared crons on its first invocation.
 */
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sqsRecord } from '../support/aws-events.ts';
import { awsHarnessFactory, type Harness } from '../contract/harness.ts';
import type { CronRecord } from '../../sdk/ports.ts';
import { RECONCILE_CRONS_RUN_ID } from '../../sdk/core/cron/tick-message.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const body = (cron: string, tick: string) => JSON.stringify({ cron, tick });

describe('worker.lambdaHandler with cron tick messages', () => {
  test('a tick delivered twice, in one batch and again later, starts exactly one run with metadata { cron, tick }', async () => {
    h = await aws.factory(undefined, { embeddedWorker: false });
    const task = h.durable.task({ name: 'report', on: { cron: '0 3 * * *' }, fn: async (input: unknown) => ({ got: input }) });
    const handler = h.durable.worker('w', { workflows: [task] }).lambdaHandler();
    await h.durable.crons.create(task, { name: 'hourly-eu', expression: '0 * * * *', input: { region: 'eu' } });
    // Scheduler's scheduled-time has no milliseconds; the run id is the same for every delivery.
    const tick = body('hourly-eu', '2030-01-01T05:00:00Z');
    const first = await handler({ Records: [sqsRecord(tick), sqsRecord(tick), sqsRecord(body('report:0 3 * * *', '2030-01-01T03:00:00Z'))] });
    expect(first.batchItemFailures).toEqual([]);
    expect((await handler({ Records: [sqsRecord(tick)] })).batchItemFailures).toEqual([]);
    const runs = (await h.durable.runs.list({ limit: 100 })).filter((r) => r.runId.startsWith('cron:'));
    expect(runs.map((r) => r.runId).sort()).toEqual(['cron:hourly-eu:2030-01-01T05:00:00.000Z', 'cron:report:0 3 * * *:2030-01-01T03:00:00.000Z']);
    // The handler only starts the run (dispatches it): process the dispatched messages as the worker would.
    for (const r of runs) await h.durable.worker('w2', { workflows: [task] }).process(r.runId);
    const run = await h.durable.runs.get('cron:hourly-eu:2030-01-01T05:00:00.000Z');
    expect(run).toMatchObject({ name: 'report', status: 'SUCCEEDED', input: { region: 'eu' }, output: { got: { region: 'eu' } }, metadata: { cron: 'hourly-eu', tick: '2030-01-01T05:00:00.000Z' } });
  });

  test('a tick costs 3 requests (read the cron, create the run, dispatch it); a duplicate 2 and starts nothing', async () => {
    h = await aws.factory(undefined, { embeddedWorker: false });
    const task = h.durable.task({ name: 'report', fn: async () => 1 });
    const handler = h.durable.worker('w', { workflows: [task] }).lambdaHandler();
    await h.durable.crons.create(task, { name: 'c', expression: '0 * * * *' });
    const counts = () => ({ ...h!.durable.metrics().requests });
    const delta = (before: Record<string, number>) => {
      const after = counts();
      return Object.fromEntries(Object.keys(after).filter((k) => after[k] !== (before[k] ?? 0)).map((k) => [k, after[k]! - (before[k] ?? 0)]));
    };
    let before = counts();
    await handler({ Records: [sqsRecord(body('c', '2030-01-01T01:00:00Z'))] });
    expect(delta(before)).toEqual({ 'DynamoDB.GetItem': 1, 'DynamoDB.PutItem': 1, 'SQS.SendMessage': 1 });
    before = counts();
    await handler({ Records: [sqsRecord(body('c', '2030-01-01T01:00:00Z'))] });
    expect(delta(before)).toEqual({ 'DynamoDB.GetItem': 1, 'DynamoDB.PutItem': 1 });
    before = counts();
    await h.durable.crons.list();
    expect(delta(before)).toEqual({ 'DynamoDB.Query': 1 });
  });

  test('a tick of a deleted cron is dropped, not retried', async () => {
    h = await aws.factory(undefined, { embeddedWorker: false });
    const task = h.durable.task({ name: 'report', fn: async () => 1 });
    const handler = h.durable.worker('w', { workflows: [task] }).lambdaHandler();
    expect(await handler({ Records: [sqsRecord(body('nope', '2030-01-01T05:00:00Z'))] })).toEqual({ batchItemFailures: [] });
    expect(await h.durable.runs.list({})).toEqual([]);
  });
});

describe('the long-polling worker with cron tick messages', () => {
  test('takes a tick message off the queue and starts the run', async () => {
    h = await aws.factory();
    const done: unknown[] = [];
    h.durable.task({ name: 'polled', fn: async (input: unknown) => void done.push(input) });
    await h.durable.crons.create('polled', { name: 'p', expression: '0 0 * * *', input: { n: 1 } });
    const inner = (h.backend.dispatcher as unknown as { inner: { client: SQSClient; queueUrl: string } }).inner;
    await inner.client.send(new SendMessageCommand({ QueueUrl: inner.queueUrl, MessageBody: body('p', '2030-01-02T00:00:00Z') }));
    const deadline = Date.now() + 10_000;
    while (done.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await h.settle();
    expect(done).toEqual([{ n: 1 }]);
    expect(await h.durable.runs.get('cron:p:2030-01-02T00:00:00.000Z')).toMatchObject({ status: 'SUCCEEDED', metadata: { cron: 'p', tick: '2030-01-02T00:00:00.000Z' } });
  });
});

describe('worker.start() on a backend without EventBridge Scheduler (durable dev, a local worker process)', () => {
  test('fires the ticks of declared and created crons itself, and stops with the worker', async () => {
    h = await aws.factory(undefined, { embeddedWorker: false });
    const ran: string[] = [];
    const task = h.durable.task({ name: 'dev-cron', on: { cron: '*/30 * * * *' }, fn: async (input: { who?: string }) => void ran.push(input.who ?? 'declared') });
    const worker = h.durable.worker('dev', { workflows: [task] });
    await worker.start();
    await h.durable.crons.create(task, { name: 'made', expression: '0 * * * *', input: { who: 'made' } });
    await h.advance(60 * 60_000);
    const deadline = Date.now() + 10_000;
    while (ran.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(ran.sort()).toEqual(['declared', 'declared', 'made']);
    await worker.stop();
    await h.advance(60 * 60_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(ran).toHaveLength(3);
  });
});

describe('declared crons after a deploy: the sweeper asks, the worker reconciles', () => {
  test('the sweeper sends one reconcile request per container; the worker schedules and stores the declared crons', async () => {
    h = await aws.factory(undefined, { embeddedWorker: false });
    const put: string[] = [];
    let fail = true;
    h.backend.cronSchedules = {
      put: async (cron: CronRecord) => {
        if (fail) throw new Error('ThrottlingException');
        put.push(cron.name);
      },
      delete: async () => undefined,
    };
    const dispatched: string[] = [];
    const dispatch = h.backend.dispatcher.dispatch.bind(h.backend.dispatcher);
    h.backend.dispatcher.dispatch = async (message, options) => {
      dispatched.push(message.runId);
      return dispatch(message, options);
    };
    const task = h.durable.task({ name: 'nightly', on: { cron: '0 3 * * *' }, fn: async () => 1 });
    const worker = h.durable.worker('w', { workflows: [task] });
    const sweeper = worker.sweeperHandler();
    await sweeper();
    await sweeper();
    expect(dispatched.filter((id) => id === RECONCILE_CRONS_RUN_ID)).toHaveLength(1);
    const handler = worker.lambdaHandler();
    const request = sqsRecord(JSON.stringify({ runId: RECONCILE_CRONS_RUN_ID }));
    // A failed reconcile is reported, so SQS redelivers it.
    expect(await handler({ Records: [request] })).toEqual({ batchItemFailures: [{ itemIdentifier: request.messageId }] });
    fail = false;
    expect(await handler({ Records: [request] })).toEqual({ batchItemFailures: [] });
    expect(put).toEqual(['nightly:0 3 * * *']);
    expect((await h.backend.crons!.listCrons()).map((c) => [c.name, c.declared])).toEqual([['nightly:0 3 * * *', true]]);
    // Nothing changed: a second request schedules nothing.
    await handler({ Records: [request] });
    expect(put).toEqual(['nightly:0 3 * * *']);
  });
});
