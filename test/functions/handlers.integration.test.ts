/**
 * The Lambda handlers with the event shapes AWS delivers (SQS batch, EventBridge rule target, scheduled
 * sweeper), over the aws adapters on dynalite + fauxqs.
 */
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { eventBridgeEvent, sqsRecord } from '../support/aws-events.ts';
import { awsHarnessFactory, type Harness } from '../contract/harness.ts';
import { delegatingStore } from '../support/env.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('worker.lambdaHandler (SQS event source, partial batch failures)', () => {
  test('processes good records and reports exactly the malformed and the failing ones', async () => {
    let failFor: string | undefined;
    h = await aws.factory(
      (inner) =>
        delegatingStore(inner, {
          loadRun: async (runId) => {
            if (runId === failFor) throw new Error('ProvisionedThroughputExceededException');
            return inner.loadRun(runId);
          },
        }),
      { embeddedWorker: false },
    );
    const task = h.durable.durableTask({ name: 'greet', fn: async (i: { n: string }, ctx) => ctx.step('hi', () => `hi ${i.n}`) });
    const handler = h.durable.worker('w', { workflows: [task] }).lambdaHandler();
    const good = await task.runNoWait({ n: 'ada' });
    const failing = await task.runNoWait({ n: 'bob' });
    failFor = failing.runId;
    const records = [
      sqsRecord(JSON.stringify({ runId: good.runId })),
      sqsRecord('not json'),
      sqsRecord(JSON.stringify({ run: 'wrong field' })),
      sqsRecord(JSON.stringify({ runId: failing.runId })),
      sqsRecord(JSON.stringify({ runId: 'does-not-exist' })),
    ];
    const response = await handler({ Records: records });
    expect(new Set(response.batchItemFailures.map((f) => f.itemIdentifier))).toEqual(new Set([records[1]!.messageId, records[2]!.messageId, records[3]!.messageId]));
    expect(await h.durable.runs.get(good.runId)).toMatchObject({ status: 'SUCCEEDED', output: 'hi ada' });
    failFor = undefined;
    // The failed record is redelivered by SQS after its lease expires; here we deliver it again.
    h.clock.fireDue(h.clock.now() + 60_000);
    const retry = await handler({ Records: [sqsRecord(JSON.stringify({ runId: failing.runId }))] });
    expect(retry.batchItemFailures).toEqual([]);
    expect(await h.durable.runs.get(failing.runId)).toMatchObject({ status: 'SUCCEEDED', output: 'hi bob' });
  });

  test('an empty or shapeless event is not a crash', async () => {
    h = await aws.factory(undefined, { embeddedWorker: false });
    const handler = h.durable.worker('w', { workflows: [] }).lambdaHandler();
    expect(await handler({ Records: [] })).toEqual({ batchItemFailures: [] });
    expect(await handler({} as never)).toEqual({ batchItemFailures: [] });
  });
});

describe('worker.eventRouterHandler (EventBridge rule target)', () => {
  test('an event as the SDK puts it resumes the matching waiting run', async () => {
    h = await aws.factory();
    const task = h.durable.durableTask({ name: 'wait', fn: async (_: {}, ctx) => ctx.waitForEvent('order:paid', 'input.amount > 100') });
    const router = h.durable.worker('w', { workflows: [task] }).eventRouterHandler();
    const ref = await task.runNoWait({});
    await h.settle();
    const now = h.clock.now();
    expect(await router(eventBridgeEvent({ eventId: 'e1', key: 'order:paid', payload: { amount: 5 }, time: now }))).toMatchObject({ resolved: 0 });
    expect(await router(eventBridgeEvent({ eventId: 'e2', key: 'order:paid', payload: { amount: 500 }, time: now }))).toMatchObject({ resolved: 1 });
    expect(await ref.result()).toEqual({ amount: 500 });
  });

  test('the router resumes the run it wakes itself (no dispatch); the next ones go through the queue', async () => {
    const dispatched: string[] = [];
    h = await aws.factory(undefined, { embeddedWorker: false });
    const dispatch = h.backend.dispatcher.dispatch.bind(h.backend.dispatcher);
    h.backend.dispatcher.dispatch = async (message, options) => {
      dispatched.push(message.runId);
      return dispatch(message, options);
    };
    const task = h.durable.durableTask({
      name: 'inline',
      fn: async (i: { n: number }, ctx) => {
        const paid = await ctx.waitForEvent<{ amount: number }>('order:paid');
        return ctx.step('after', () => paid.amount + i.n);
      },
    });
    const worker = h.durable.worker('w', { workflows: [task] });
    const refs = [await task.runNoWait({ n: 1 }), await task.runNoWait({ n: 2 })];
    for (const ref of refs) await worker.lambdaHandler()({ Records: [sqsRecord(JSON.stringify({ runId: ref.runId }))] });
    dispatched.length = 0;
    const routed = await worker.eventRouterHandler()(eventBridgeEvent({ eventId: 'e1', key: 'order:paid', payload: { amount: 10 }, time: h.clock.now() }));
    expect(routed.resolved).toBe(2);
    expect(routed.resumed).toHaveLength(1);
    const [inline] = routed.resumed;
    // Finished inside the router invocation, never dispatched; the other woken run was dispatched.
    expect((await h.durable.runs.get(inline!)).status).toBe('SUCCEEDED');
    expect(dispatched).toEqual(refs.map((r) => r.runId).filter((id) => id !== inline));
  });

  test('a run the router cannot resume (a definition this worker lacks, or a failure) is dispatched instead', async () => {
    const dispatched: string[] = [];
    let failLoad = false;
    h = await aws.factory(
      (inner) =>
        delegatingStore(inner, {
          loadRun: async (runId) => {
            if (failLoad) throw new Error('ProvisionedThroughputExceededException');
            return inner.loadRun(runId);
          },
        }),
      { embeddedWorker: false },
    );
    const dispatch = h.backend.dispatcher.dispatch.bind(h.backend.dispatcher);
    h.backend.dispatcher.dispatch = async (message, options) => {
      dispatched.push(message.runId);
      return dispatch(message, options);
    };
    const task = h.durable.durableTask({ name: 'waits', fn: async (_: {}, ctx) => ctx.waitForEvent('go') });
    const full = h.durable.worker('full', { workflows: [task] });
    const ref = await task.runNoWait({});
    await full.lambdaHandler()({ Records: [sqsRecord(JSON.stringify({ runId: ref.runId }))] });
    // A router built without the task's definition leaves the run to the queue (it must not fail it).
    dispatched.length = 0;
    const bare = await h.durable.worker('bare', { workflows: [] }).eventRouterHandler()(eventBridgeEvent({ eventId: 'g1', key: 'go', payload: 1, time: h.clock.now() }));
    expect(bare.resumed).toEqual([]);
    expect(dispatched).toEqual([ref.runId]);
    expect((await h.durable.runs.get(ref.runId)).status).toBe('WAITING');
    // A failure while resuming inline: the run is dispatched after all, and finishes from the queue.
    h.clock.fireDue(h.clock.now() + 5_000); // g1 was pushed before the next wait began: that wait must not take it
    const second = await task.runNoWait({});
    await full.lambdaHandler()({ Records: [sqsRecord(JSON.stringify({ runId: second.runId }))] });
    await full.lambdaHandler()({ Records: [sqsRecord(JSON.stringify({ runId: ref.runId }))] });
    dispatched.length = 0;
    failLoad = true;
    const failed = await full.eventRouterHandler()(eventBridgeEvent({ eventId: 'g2', key: 'go', payload: 2, time: h.clock.now() }));
    failLoad = false;
    expect(failed.resumed).toHaveLength(1);
    expect(dispatched).toContain(failed.resumed[0]);
    h.clock.fireDue(h.clock.now() + 120_000); // the failed attempt's lease expires
    for (const runId of new Set(dispatched)) await full.lambdaHandler()({ Records: [sqsRecord(JSON.stringify({ runId }))] });
    expect((await h.durable.runs.get(second.runId)).status).toBe('SUCCEEDED');
  });

  test('an event put by another service (no eventId, no time in detail) uses the envelope id and time', async () => {
    h = await aws.factory();
    const task = h.durable.durableTask({ name: 'wait2', fn: async (_: {}, ctx) => ctx.waitForEvent('invoice:sent') });
    const router = h.durable.worker('w', { workflows: [task] }).eventRouterHandler();
    const ref = await task.runNoWait({});
    await h.settle();
    const envelope = eventBridgeEvent({ key: 'invoice:sent', payload: { id: 'inv-1' } }, { source: 'billing.service', time: new Date(h.clock.now()).toISOString() });
    expect(await router(envelope)).toMatchObject({ resolved: 1 });
    expect(await ref.result()).toEqual({ id: 'inv-1' });
  });

  test.each([
    [{ key: '', payload: 1 }, 'detail.key'],
    [{ payload: 1 }, 'detail.key'],
    [{ key: 'k' }, 'detail.payload'],
    [{ key: 'k', payload: 1, scope: 7 }, 'detail.scope'],
  ])('a malformed event %o is a typed error naming %s', async (detail, field) => {
    h = await aws.factory(undefined, { embeddedWorker: false });
    const router = h.durable.worker('w', { workflows: [] }).eventRouterHandler();
    const error = await router(eventBridgeEvent(detail)).catch((e) => e);
    expect(error.name).toBe('InvalidEventError');
    expect(error.message).toContain(field);
  });

  test('an event starts the workflows whose onEvents name its key, once per event', async () => {
    h = await aws.factory(undefined, { embeddedWorker: false });
    const wf = h.durable.workflow({ name: 'on-signup', onEvents: ['user:signed-up'] });
    wf.task({ name: 'welcome', fn: async () => 'sent' });
    const router = h.durable.worker('w', { workflows: [wf] }).eventRouterHandler();
    const event = eventBridgeEvent({ eventId: 'signup-1', key: 'user:signed-up', payload: { user: 'u1' }, time: h.clock.now() });
    const first = await router(event);
    const again = await router(event);
    expect(first.started).toHaveLength(1);
    expect(again.started).toEqual(first.started);
    expect(await h.durable.runs.list({ name: 'on-signup' })).toHaveLength(1);
  });
});

describe('worker.sweeperHandler (one-minute schedule)', () => {
  test('re-dispatches a run whose message was lost', async () => {
    h = await aws.factory(undefined, { embeddedWorker: false });
    const task = h.durable.task({ name: 'stranded', fn: async () => 'ok' });
    await h.backend.store.createRun({
      runId: 'stranded-1', name: 'stranded', status: 'QUEUED', input: '{}', createdAt: h.clock.now(), updatedAt: h.clock.now(), attempt: 0, wake: 0, seen: 0, runningMs: 0,
    });
    h.clock.fireDue(h.clock.now() + 61_000);
    const sweeper = h.durable.worker('w', { workflows: [task] }).sweeperHandler();
    expect(await sweeper()).toEqual({ redispatched: 1 });
    const [message] = await h.backend.dispatcher.receive(10, 1000);
    expect(message?.message).toEqual({ runId: 'stranded-1' });
  });
});
