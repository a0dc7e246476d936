/**
 * The Lambda deadline: given the invocation's context, the worker's handler keeps a margin before
 * `getRemainingTimeInMillis()` runs out. Runs not started by then are reported as batch item failures (SQS
 * redelivers them); a run still in flight is abandoned: `ctx.signal` aborts, its lease is released (the next
 * invocation takes it at once), its record is reported failed. A fake Lambda context drives it.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { eventBridgeEvent, manualClient, sqsRecord, type ManualClient } from './support.ts';

/** A Lambda context whose invocation ends `ms` from now (real time, as on Lambda). */
function lambdaContext(ms: number) {
  const end = Date.now() + ms;
  return { getRemainingTimeInMillis: () => Math.max(0, end - Date.now()) };
}

const record = (runId: string, messageId = runId) => ({ ...sqsRecord(JSON.stringify({ runId })), messageId });

let c: ManualClient;
beforeEach(() => {
  c = manualClient();
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await c.close();
});

describe('worker.lambdaHandler and the Lambda deadline', () => {
  test('a run in flight past the margin is abandoned: ctx.signal aborts, its lease is released, its record reported', async () => {
    let executions = 0;
    let reason: unknown;
    const task = c.durable.durableTask({
      name: 'slow-step',
      fn: async (_: object, ctx) =>
        ctx.step('slow', async () => {
          if (++executions > 1) return 'done on redelivery';
          // Cooperative: stops when the invocation must.
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
          reason = ctx.signal.reason;
          return 'from the abandoned invocation';
        }),
    });
    const worker = c.durable.worker('w', { workflows: [task], deadlineMarginMs: 1_000 });
    const ref = await task.runNoWait({});
    await c.discardQueue();
    const started = Date.now();
    const response = await worker.lambdaHandler()({ Records: [record(ref.runId)] }, lambdaContext(1_300));
    const took = Date.now() - started;
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: ref.runId }]);
    expect(took).toBeLessThan(1_000); // returned at the margin, not at the deadline
    expect((reason as Error).name).toBe('ProcessingAbandonedError');
    const run = (await c.backend.store.getRun(ref.runId))!;
    expect(run.status).toBe('RUNNING');
    expect(run.leaseOwner).toBeUndefined();
    expect(run.leaseUntil!).toBeLessThan(c.clock.now());
    expect((await c.backend.store.loadRun(ref.runId))!.entries).toEqual([]); // the abandoned step recorded nothing
    // SQS redelivers it: the next invocation takes the released lease at once (virtual time has not moved).
    const again = await worker.lambdaHandler()({ Records: [record(ref.runId)] }, lambdaContext(60_000));
    expect(again.batchItemFailures).toEqual([]);
    expect(await ref.result()).toBe('done on redelivery');
  });

  test('records not started before the margin are reported failed and their runs stay untouched', async () => {
    const release: (() => void)[] = [];
    const task = c.durable.durableTask({
      name: 'one-at-a-time',
      fn: async (_: object, ctx) =>
        ctx.step('work', () => new Promise<string>((resolve) => {
          release.push(() => resolve('ok'));
          ctx.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
        })),
    });
    const worker = c.durable.worker('w', { workflows: [task], slots: 1, deadlineMarginMs: 1_000 });
    const a = await task.runNoWait({});
    const b = await task.runNoWait({});
    await c.discardQueue();
    const response = await worker.lambdaHandler()({ Records: [record(a.runId), record(b.runId)] }, lambdaContext(1_300));
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([a.runId, b.runId].sort());
    // b never started: still QUEUED, never leased.
    const untouched = (await c.backend.store.getRun(b.runId))!;
    expect(untouched.status).toBe('QUEUED');
    expect(untouched.leaseOwner).toBeUndefined();
  });

  test('an invocation that starts inside the margin starts nothing', async () => {
    const task = c.durable.durableTask({ name: 'never-started', fn: async () => 'ran' });
    const worker = c.durable.worker('w', { workflows: [task], deadlineMarginMs: 2_000 });
    const ref = await task.runNoWait({});
    await c.discardQueue();
    const response = await worker.lambdaHandler()({ Records: [record(ref.runId)] }, lambdaContext(1_500));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: ref.runId }]);
    expect((await c.backend.store.getRun(ref.runId))!.status).toBe('QUEUED');
  });

  test('without a Lambda context nothing changes: the batch is processed', async () => {
    const task = c.durable.durableTask({ name: 'no-context', fn: async () => 'ran' });
    const worker = c.durable.worker('w', { workflows: [task] });
    const ref = await task.runNoWait({});
    await c.discardQueue();
    expect((await worker.lambdaHandler()({ Records: [record(ref.runId)] })).batchItemFailures).toEqual([]);
    expect(await ref.result()).toBe('ran');
  });

  test('the event router abandons an inline resume at the margin and dispatches the run instead', async () => {
    let executions = 0;
    const task = c.durable.durableTask({
      name: 'woken-then-slow',
      fn: async (_: object, ctx) => {
        await ctx.waitForEvent('go');
        return ctx.step('slow', async () => {
          if (++executions > 1) return 'done by a worker';
          await new Promise((resolve) => {
            ctx.signal.addEventListener('abort', resolve, { once: true });
            setTimeout(resolve, 5_000); // never hang the test: an unaborted step returns the wrong output
          });
          return 'from the router';
        });
      },
    });
    const worker = c.durable.worker('w', { workflows: [task], deadlineMarginMs: 1_000 });
    const ref = await task.runNoWait({});
    await c.drain(worker);
    expect((await c.backend.store.getRun(ref.runId))!.status).toBe('WAITING');
    const router = worker.eventRouterHandler();
    await router(eventBridgeEvent({ key: 'warm-up', payload: {} })); // loads the EventBridge parser (a lazy import)
    const started = Date.now();
    const routed = await router(eventBridgeEvent({ key: 'go', payload: {} }), lambdaContext(1_300));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(routed.resumed).toEqual([ref.runId]);
    const run = (await c.backend.store.getRun(ref.runId))!;
    expect(run.leaseOwner).toBeUndefined();
    // Dispatched instead: a worker finishes it.
    await c.drain(worker);
    expect(await ref.result()).toBe('done by a worker');
  });
});
