/**
 * The grants, proven by what the code actually sends: each documented call is made by a process configured from
 * the synthesized environment of a function (a user function given `grantStart` or `grantPush`, the worker, the
 * router, the sweeper), over dynalite + fauxqs and fake Scheduler/EventBridge; every request is recorded as IAM
 * authorizes it (action, resource ARN, dynamodb:LeadingKeys of the keys actually written, iam:PassedToService,
 * events:source/detail-type) and checked against that function's synthesized policy with a small IAM evaluator
 * (iam-eval.ts). The action lists are never restated here, so a grant that lags the code fails this test.
 */
import { ReceiveMessageCommand, DeleteMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Durable } from '../../sdk/durable.ts';
import { createAwsBackend } from '../../sdk/adapters/aws/backend.ts';
import { ensureTable } from '../../sdk/adapters/aws/table-setup.ts';
import { VirtualClock } from '../../sdk/adapters/memory/virtual-clock.ts';
import { ENV } from '../../sdk/adapters/aws/env.ts';
import { eventBridgeEvent, sqsRecord } from '../support/aws-events.ts';
import { createQueue, dynamoClient, sqsClient, startDynalite, startFauxqs, type LocalServer } from '../support/servers.ts';
import { isAllowed, roleStatements, TemplateResolver, type TemplateJson } from './iam-eval.ts';
import { FakeScheduler, fakeEventBridge, RequestRecorder, type RecordedRequest } from './request-recorder.ts';
import { build, logicalId } from './support.ts';

type Principal = 'client' | 'pusher' | 'worker' | 'router' | 'sweeper';

/** The workflows every process registers (a client needs the definitions to start runs by name). */
function define(durable: Durable, gate: { promise: Promise<void> }) {
  const quick = durable.durableTask({ name: 'quick', fn: async (_: unknown, ctx) => ctx.step('a', () => 1) });
  const longSleep = durable.durableTask({ name: 'long-sleep', fn: async (_: unknown, ctx) => ctx.sleepFor('2h') });
  const waiter = durable.durableTask({
    name: 'waiter',
    fn: async (_: unknown, ctx) => ctx.waitForEvent('order:paid', '', { timeout: '1h' }),
  });
  const blocker = durable.durableTask({
    name: 'blocker',
    fn: async (_: unknown, ctx) => {
      await ctx.step('block', () => gate.promise);
      return ctx.step('after', () => 2);
    },
  });
  const parent = durable.durableTask({ name: 'parent', fn: async (_: unknown, ctx) => ctx.runChild(waiter, {}) });
  const pusher = durable.durableTask({
    name: 'pushes',
    fn: async (_: unknown, ctx) => ctx.step('push', () => durable.events.push('order:shipped', { id: 1 })),
  });
  const pipeline = durable.workflow({ name: 'pipeline' });
  const first = pipeline.task({ name: 'first', fn: async () => ({ n: 1 }) });
  pipeline.task({ name: 'second', parents: [first], waitFor: { eventKey: 'order:paid' }, fn: async () => ({ n: 2 }) });
  return { quick, longSleep, waiter, blocker, parent, pusher, pipeline };
}

describe('given the grants of a synthesized DurableTasks, and every documented call made for real', () => {
  let client!: lambda.Function;
  let webhook!: lambda.Function;
  const { stack, durable: construct, template } = build({}, (s, d) => {
    const fn = (id: string) =>
      new lambda.Function(s, id, { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('x') });
    client = fn('Api');
    webhook = fn('Webhook');
    d.grantStart(client);
    d.grantPush(webhook);
  });
  const json = template.toJSON() as TemplateJson;
  const resolver = new TemplateResolver(json);
  const functions: Record<Principal, string> = {
    client: logicalId(stack, client),
    pusher: logicalId(stack, webhook),
    worker: logicalId(stack, construct.workerFunction),
    router: logicalId(stack, construct.eventRouterFunction),
    sweeper: logicalId(stack, construct.sweeperFunction),
  };

  const recorder = new RequestRecorder();
  const scheduler = new FakeScheduler();
  const clock = new VirtualClock(Date.now());
  const gate: { promise: Promise<void>; open: () => void } = (() => {
    let open!: () => void;
    return { promise: new Promise<void>((r) => (open = r)), open: () => open() };
  })();
  const putEntries: { Source: string; DetailType: string; Detail: string }[] = [];
  const processes = {} as Record<Principal, { durable: Durable; defs: ReturnType<typeof define> }>;
  let servers: LocalServer[] = [];
  let plainSqs!: SQSClient;
  let queueUrl!: string;
  const calls: Record<string, { from: number; to: number }> = {};

  /** Records the requests `fn` makes under the label `call` (for the report). */
  async function call(name: string, fn: () => Promise<unknown>): Promise<void> {
    const from = recorder.requests.length;
    await fn();
    calls[name] = { from, to: recorder.requests.length };
  }

  /** Delivers every visible dispatch message to the worker handler, as the SQS event source would, until none is left. */
  async function drain(skip: Set<string> = new Set()): Promise<Promise<unknown>[]> {
    const handler = processes.worker.durable.worker('w', { workflows: Object.values(processes.worker.defs) }).lambdaHandler();
    const pending: Promise<unknown>[] = [];
    for (;;) {
      const { Messages = [] } = await plainSqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      if (Messages.length === 0) break;
      for (const m of Messages) {
        await plainSqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
        const work = handler({ Records: [sqsRecord(m.Body!)] });
        if (skip.has(JSON.parse(m.Body!).runId)) pending.push(work);
        else await work;
      }
    }
    return pending;
  }

  beforeAll(async () => {
    servers = await Promise.all([startDynalite(), startFauxqs()]);
    const [ddb, sqs] = servers as [LocalServer, LocalServer];
    plainSqs = sqsClient(sqs.endpoint);
    const env = resolver.functionEnvironment(functions.worker);
    await ensureTable(dynamoClient(ddb.endpoint), env[ENV.tableName]!);
    queueUrl = await createQueue(plainSqs, env[ENV.queueUrl]!.split('/').pop()!, { VisibilityTimeout: '30' });
    for (const principal of Object.keys(functions) as Principal[]) {
      const vars = resolver.functionEnvironment(functions[principal]);
      expect(vars[ENV.queueUrl]!.endsWith(queueUrl.split('/').pop()!)).toBe(true);
      const backend = createAwsBackend({
        dynamodb: recorder.record(dynamoClient(ddb.endpoint), principal),
        sqs: recorder.record(sqsClient(sqs.endpoint), principal),
        scheduler: scheduler.client(recorder, principal),
        eventBridge: fakeEventBridge(recorder, principal, (entry) => putEntries.push(entry)),
        tableName: vars[ENV.tableName]!,
        queueUrl,
        queueArn: vars[ENV.queueArn]!,
        eventBusName: vars[ENV.eventBusName]!,
        scheduleGroup: vars[ENV.scheduleGroup]!,
        schedulerRoleArn: vars[ENV.schedulerRoleArn]!,
        clock,
      });
      const durable = new Durable({ backend, embeddedWorker: 'none', cancelPollMs: 0, log: () => undefined });
      processes[principal] = { durable, defs: define(durable, gate) };
    }

    const { durable: api, defs } = processes.client;
    const ids: Record<string, string> = {};
    await call('start', async () => {
      for (const name of ['quick', 'longSleep', 'waiter', 'blocker', 'parent', 'pusher'] as const) ids[name] = (await defs[name].runNoWait({})).runId;
      ids.pipeline = (await defs.pipeline.runNoWait({})).runId;
      ids.routed = (await defs.waiter.runNoWait({})).runId;
    });
    const blocked = await drain(new Set([ids.blocker!]));
    await call('get', async () => {
      for (const id of Object.values(ids)) await api.runs.get(id);
    });
    await call('cancel a queued run', async () => {
      const queued = await defs.quick.runNoWait({});
      await api.runs.cancel(queued.runId);
    });
    await call('cancel a running run', () => api.runs.cancel(ids.blocker!));
    gate.open();
    await Promise.all(blocked);
    await call('cancel a run waiting for an event (with a timeout)', () => api.runs.cancel(ids.waiter!));
    await call('cancel a run in a long sleep', () => api.runs.cancel(ids.longSleep!));
    await call('cancel a parent waiting for its child', () => api.runs.cancel(ids.parent!));
    await call('cancel a workflow run waiting for an event', () => api.runs.cancel(ids.pipeline!));
    await call('schedule a run in 5 minutes (SQS delay)', () => defs.quick.schedule(new Date(clock.now() + 300_000), {}));
    await call('schedule a run in 2 hours (Scheduler)', () => defs.quick.schedule(new Date(clock.now() + 7_200_000), {}));
    await call('list (granted by grantStart, through grantList)', async () => {
      await api.runs.list({});
      await api.runs.list({ name: 'quick', status: 'SUCCEEDED', limit: 1 });
    });
    await drain();

    await call('push', () => processes.pusher.durable.events.push('order:paid', { ok: true }));
    const routerHandler = processes.router.durable.worker('r', { workflows: Object.values(processes.router.defs) }).eventRouterHandler();
    const entry = putEntries.at(-1)!;
    await call('route an event and resume the woken run', () => routerHandler(eventBridgeEvent(JSON.parse(entry.Detail))));
    await drain();

    // A run whose dispatch message was lost, found by the sweeper a while later.
    const lost = await defs.quick.runNoWait({});
    await plainSqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 })).then(async ({ Messages = [] }) => {
      for (const m of Messages) await plainSqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    });
    clock.fireDue(clock.now() + 61_000);
    const sweeper = processes.sweeper.durable.worker('s', { workflows: Object.values(processes.sweeper.defs) }).sweeperHandler();
    await call('sweep', async () => expect((await sweeper()).redispatched).toBeGreaterThan(0));
    await drain();
    expect((await api.runs.get(lost.runId)).status).toBe('SUCCEEDED');
  }, 60_000);

  afterAll(async () => {
    for (const p of Object.values(processes)) await p.durable.close();
    plainSqs?.destroy();
    for (const s of servers) await s.stop();
  });

  const denied = (principal: Principal, requests: RecordedRequest[]) => {
    const statements = roleStatements(json, resolver.functionRole(functions[principal]));
    return requests
      .filter((r) => !isAllowed(statements, r, resolver))
      .map((r) => `${r.command} ${r.action} on ${r.resource}${r.context ? ` ${JSON.stringify(r.context)}` : ''}`);
  };
  const during = (name: string) => recorder.requests.slice(calls[name]!.from, calls[name]!.to);

  test('then the calls recorded what they must (the test cannot pass by recording nothing)', () => {
    const actions = (principal: Principal) => new Set(recorder.of(principal).map((r) => r.action));
    expect([...actions('client')]).toEqual(
      expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem', 'sqs:SendMessage', 'scheduler:CreateSchedule', 'iam:PassRole', 'scheduler:DeleteSchedule']),
    );
    const waitKeys = during('cancel a run waiting for an event (with a timeout)').flatMap((r) => [r.context?.['dynamodb:LeadingKeys'] ?? []].flat());
    expect(waitKeys.some((k) => k.startsWith('WAITKEY#'))).toBe(true);
    expect([...actions('pusher')]).toEqual(['dynamodb:UpdateItem', 'events:PutEvents']); // the push's sequence number (EVTSEQ#), then the event
    expect([...actions('worker')]).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:UpdateItem', 'scheduler:CreateSchedule', 'iam:PassRole', 'events:PutEvents']));
    expect([...actions('router')]).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:UpdateItem']));
    expect([...actions('sweeper')]).toEqual(expect.arrayContaining(['dynamodb:Query', 'sqs:SendMessage']));
  });

  test('then a function given grantStart may make every request of start, get, cancel (queued, running, waiting) and schedule (short and long)', () => {
    const made = Object.keys(calls).filter((name) => !name.startsWith('list') && !['push', 'sweep'].includes(name) && !name.startsWith('route'));
    expect(made).toHaveLength(10);
    expect(made.flatMap((name) => denied('client', during(name).filter((r) => r.principal === 'client')).map((d) => `${name}: ${d}`))).toEqual([]);
  });

  test('then listing runs reads the listing indexes and the runs they name, no Scan, as grantStart (grantList) allows', () => {
    const listing = during('list (granted by grantStart, through grantList)');
    expect([...new Set(listing.map((r) => r.action))].sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:Query']);
    expect(denied('client', listing)).toEqual([]);
  });

  test('then a function given grantPush may push', () => {
    expect(during('push').length).toBeGreaterThan(0);
    expect(denied('pusher', recorder.of('pusher'))).toEqual([]);
  });

  test('then the worker, the router and the sweeper may make every request they made', () => {
    for (const principal of ['worker', 'router', 'sweeper'] as const) expect(denied(principal, recorder.of(principal)), principal).toEqual([]);
  });

  test('then grantStart and the sweeper grant no action their calls never used', () => {
    for (const principal of ['client', 'sweeper'] as const) {
      const used = new Set(recorder.of(principal).map((r) => r.action));
      const granted = roleStatements(json, resolver.functionRole(functions[principal]))
        .flatMap((s) => [s.Action ?? []].flat())
        .filter((a) => !a.startsWith('logs:'));
      expect(granted.filter((a) => !used.has(a)), principal).toEqual([]);
    }
  });

  test('then a cancelled run leaves no schedule behind (long sleep, wait timeout)', () => {
    expect([...scheduler.schedules.keys()].filter((k) => !k.includes('-start'))).toEqual([]);
  });
});
