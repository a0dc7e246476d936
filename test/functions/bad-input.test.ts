/**
 * Bad input at the Lambda edges, a batch at a time: an SQS batch where some records are malformed or name runs
 * that cannot succeed, and EventBridge events that are not durable-tasks events. The batch continues: exactly
 * the malformed records are reported (SQS retries them, then the DLQ keeps them); every run that fails does
 * so with its error recorded where `runs.get` shows it; every good record is processed.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { DurableError, PayloadTooLargeError } from 'durable-tasks';
import { PAYLOAD_LIMIT_BYTES } from '../../sdk/core/json.ts';
import type { RunRecord } from '../../sdk/ports.ts';
import { rejection } from '../bad-input/support.ts';
import { eventBridgeEvent, manualClient, sqsRecord, type ManualClient } from './support.ts';

let c: ManualClient;
beforeEach(() => {
  c = manualClient();
});
afterEach(async () => {
  await c.close();
});

/** Runs `fn` with console.error captured: the JSON lines the handlers log. */
async function capturingErrors<T>(fn: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const result = await fn();
    return { result, lines: logged.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>) };
  } finally {
    logged.mockRestore();
  }
}

function runItem(runId: string, name: string, now: number): RunRecord {
  return { runId, name, status: 'QUEUED', input: '{}', createdAt: now, updatedAt: now, attempt: 0, wake: 0, seen: 0, runningMs: 0 };
}

describe('SQS batches (worker.lambdaHandler)', () => {
  test('every malformed body is reported, exactly; the good records of the same batch are processed', async () => {
    const task = c.durable.durableTask({ name: 'hello', fn: async (i: { n: number }, ctx) => ctx.step('greet', () => `hello ${i.n}`) });
    const worker = c.durable.worker('w', { workflows: [task] });
    const one = await task.runNoWait({ n: 1 });
    const two = await task.runNoWait({ n: 2 });
    await c.discardQueue();
    const bad = ['', 'not json', 'null', '[]', '42', '"runId"', '{}', '{"runId":""}', '{"runId":42}', '{"runId":null}', '{"run_id":"x"}', '{"runId":'];
    const records = [sqsRecord(JSON.stringify({ runId: one.runId })), ...bad.map(sqsRecord), sqsRecord(JSON.stringify({ runId: two.runId }))];
    const noBody = { ...sqsRecord('x'), body: undefined as unknown as string };
    const { result: response, lines } = await capturingErrors(() => worker.lambdaHandler()({ Records: [...records, noBody] }));
    // Each malformed record is logged with its message id, so it can be found in the DLQ.
    expect(lines.map((line) => line.messageId).sort()).toEqual([...records.slice(1, -1).map((r) => r.messageId), noBody.messageId].sort());
    const reported = response.batchItemFailures.map((f) => f.itemIdentifier).sort();
    expect(reported).toEqual([...records.slice(1, -1).map((r) => r.messageId), noBody.messageId].sort());
    expect(await one.result()).toBe('hello 1');
    expect(await two.result()).toBe('hello 2');
  });

  test('a dispatch naming a task no client defines (a retired task) fails that run with TaskNotFoundError; the batch goes on', async () => {
    const task = c.durable.task({ name: 'current', fn: async () => 'ok' });
    const worker = c.durable.worker('w', { workflows: [task] });
    const now = c.clock.now();
    await c.backend.store.createRun(runItem('old-1', 'retired-task', now));
    const good = await task.runNoWait({});
    await c.discardQueue();
    const response = await worker.lambdaHandler()({ Records: [sqsRecord('{"runId":"old-1"}'), sqsRecord(JSON.stringify({ runId: good.runId }))] });
    expect(response.batchItemFailures).toEqual([]);
    const old = await c.durable.runs.get('old-1');
    expect(old.status).toBe('FAILED');
    expect(old.error?.name).toBe('TaskNotFoundError');
    expect(old.error?.message).toContain("'retired-task'");
    expect(await good.result()).toBe('ok');
  });

  test('a worker that lacks the task a message names fails that run with TaskNotFoundError; its own tasks in the batch succeed', async () => {
    const mine = c.durable.task({ name: 'mine', fn: async () => 'mine' });
    const theirs = c.durable.task({ name: 'theirs', fn: async () => 'theirs' });
    const worker = c.durable.worker('narrow', { workflows: [mine] });
    const a = await mine.runNoWait({});
    const b = await theirs.runNoWait({});
    await c.drain(worker);
    expect(await a.result()).toBe('mine');
    const run = await c.durable.runs.get(b.runId);
    expect(run.status).toBe('FAILED');
    expect(run.error).toEqual({ name: 'TaskNotFoundError', message: expect.stringContaining("task 'theirs' not found") });
  });

  test('a dispatch for a run id that does not exist is acknowledged and creates nothing', async () => {
    const worker = c.durable.worker('w', { workflows: [] });
    const response = await worker.lambdaHandler()({ Records: [sqsRecord('{"runId":"no-such-run"}')] });
    expect(response.batchItemFailures).toEqual([]);
    expect(await c.backend.store.getRun('no-such-run')).toBeUndefined();
  });

  test('one batch, many ways to fail: each run fails with its own error, the good one succeeds, no record is reported', async () => {
    const tasks = [
      c.durable.durableTask({ name: 'bad-cel', fn: async (_: {}, ctx) => ctx.waitForEvent('k', 'input.x ==') }),
      c.durable.task({ name: 'bigint-output', fn: async () => ({ n: 1n }) }),
      c.durable.task({ name: 'throws-string', fn: async () => Promise.reject('went wrong') }),
      c.durable.durableTask({ name: 'huge-step', fn: async (_: {}, ctx) => ctx.step('s', () => 'x'.repeat(PAYLOAD_LIMIT_BYTES)) }),
      c.durable.durableTask({ name: 'bad-sleep', fn: async (_: {}, ctx) => ctx.sleepFor('-1s') }),
      c.durable.task({ name: 'good', fn: async () => 'fine' }),
    ];
    // maxPayloadBytes 256 KiB: above it a step result fails (up to 32 MiB by default it would go to the payload store).
    const worker = c.durable.worker('w', { workflows: tasks, maxPayloadBytes: PAYLOAD_LIMIT_BYTES });
    const refs = await Promise.all(tasks.map((t) => t.runNoWait({})));
    const messages = await c.backend.dispatcher.receive(10, 0);
    expect(messages).toHaveLength(tasks.length);
    const response = await worker.lambdaHandler()({ Records: messages.map((m) => sqsRecord(m.body)) });
    expect(response.batchItemFailures).toEqual([]);
    const runs = await Promise.all(refs.map((r) => c.durable.runs.get(r.runId)));
    expect(runs.map((r) => [r.name, r.status, r.error?.name])).toEqual([
      ['bad-cel', 'FAILED', 'InvalidExpressionError'],
      ['bigint-output', 'FAILED', 'DurableError'],
      ['throws-string', 'FAILED', 'Error'],
      ['huge-step', 'FAILED', 'PayloadTooLargeError'],
      ['bad-sleep', 'FAILED', 'InvalidDurationError'],
      ['good', 'SUCCEEDED', undefined],
    ]);
    expect(runs[1]!.error?.message).toMatch(/a BigInt \(1n\) at \$\.n/);
    expect(runs[2]!.error?.message).toBe('went wrong');
    expect(runs[5]!.output).toBe('fine');
  });
});

describe('EventBridge events (worker.eventRouterHandler)', () => {
  async function waitingRun() {
    const task = c.durable.durableTask({ name: 'waits', fn: async (_: {}, ctx) => ctx.waitForEvent('order:paid', 'input.amount > 100') });
    const worker = c.durable.worker('w', { workflows: [task] });
    const ref = await task.runNoWait({});
    await c.drain(worker);
    expect((await c.durable.runs.get(ref.runId)).status).toBe('WAITING');
    return { worker, ref };
  }

  test.each([
    ['no detail-type', () => ({ ...eventBridgeEvent({ key: 'order:paid', payload: { amount: 500 } }), 'detail-type': undefined }), 'detail-type'],
    ['an S3 event routed here by mistake', () => eventBridgeEvent({ bucket: { name: 'b' } }, { 'detail-type': 'Object Created', source: 'aws.s3' }), 'detail-type'],
    ['detail that is not JSON', () => eventBridgeEvent('{"key": "order:paid", '), 'detail'],
    ['an empty key', () => eventBridgeEvent({ key: '', payload: { amount: 500 } }), 'detail.key'],
    ['a key over 256 characters', () => eventBridgeEvent({ key: 'k'.repeat(300), payload: { amount: 500 } }), 'detail.key'],
    ['no payload', () => eventBridgeEvent({ key: 'order:paid' }), 'detail.payload'],
    ['a numeric scope', () => eventBridgeEvent({ key: 'order:paid', payload: { amount: 500 }, scope: 1 }), 'detail.scope'],
    ['a time that is not epoch ms', () => eventBridgeEvent({ key: 'order:paid', payload: { amount: 500 }, time: '2030-01-01' }), 'detail.time'],
  ])('%s: InvalidEventError naming %s; nothing recorded, the waiting run untouched and still resumable', async (_label, make, field) => {
    const { worker, ref } = await waitingRun();
    const router = worker.eventRouterHandler();
    const error = await rejection(router(make()));
    expect(error).toBeInstanceOf(DurableError);
    expect(error.name).toBe('InvalidEventError');
    expect((error as DurableError & { field: string }).field).toBe(field);
    expect(error.message).toContain(`'${field}'`);
    expect(await c.backend.store.findEvents('order:paid', 0)).toEqual([]);
    expect((await c.durable.runs.get(ref.runId)).status).toBe('WAITING');
    expect(await router(eventBridgeEvent({ key: 'order:paid', payload: { amount: 500 }, time: c.clock.now() }))).toMatchObject({ resolved: 1 });
    await c.drain(worker);
    expect(await ref.result()).toEqual({ amount: 500 });
  });

  test('an event whose payload is over the limit is refused with PayloadTooLargeError; nothing recorded', async () => {
    const { worker, ref } = await waitingRun();
    const error = await rejection(worker.eventRouterHandler()(eventBridgeEvent({ key: 'order:paid', payload: { amount: 500, pad: 'x'.repeat(PAYLOAD_LIMIT_BYTES) } })));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error.message).toContain("event 'order:paid' payload");
    expect(await c.backend.store.findEvents('order:paid', 0)).toEqual([]);
    expect((await c.durable.runs.get(ref.runId)).status).toBe('WAITING');
  });

  test('a filter that fails to evaluate for one waiter does not fail the event: the others resolve, that run keeps waiting', async () => {
    const strict = c.durable.durableTask({ name: 'strict', fn: async (_: {}, ctx) => ctx.waitForEvent('pay', 'input.amount > 100') });
    const anyPay = c.durable.durableTask({ name: 'any', fn: async (_: {}, ctx) => ctx.waitForEvent('pay') });
    const worker = c.durable.worker('w', { workflows: [strict, anyPay] });
    const refs = await Promise.all([strict.runNoWait({}), anyPay.runNoWait({}), anyPay.runNoWait({})]);
    await c.drain(worker);
    const { result: routed, lines } = await capturingErrors(() => worker.eventRouterHandler()(eventBridgeEvent({ key: 'pay', payload: { amount: 'lots' }, time: c.clock.now() })));
    expect(routed.resolved).toBe(2);
    expect(lines).toEqual([expect.objectContaining({ message: 'event filter failed', runId: refs[0].runId })]);
    await c.drain(worker);
    expect(await refs[1].result()).toEqual({ amount: 'lots' });
    expect(await refs[2].result()).toEqual({ amount: 'lots' });
    expect((await c.durable.runs.get(refs[0].runId)).status).toBe('WAITING');
  });
});
