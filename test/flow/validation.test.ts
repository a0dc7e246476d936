/**
 * Flow control's bad input at definition and at start (issue 15): typed errors naming the field.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { ConcurrencyLimitStrategy, InvalidDefinitionError, InvalidExpressionError, Priority, RateLimitDuration } from 'durable-tasks';
import { createTestEnvironment, type TestEnvironment } from 'durable-tasks/testing';

let env: TestEnvironment | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const fn = async () => 'ok';

describe('flow control: bad input', () => {
  test('the enums hold Hatchet’s values', () => {
    expect(ConcurrencyLimitStrategy).toEqual({ GROUP_ROUND_ROBIN: 'GROUP_ROUND_ROBIN', CANCEL_IN_PROGRESS: 'CANCEL_IN_PROGRESS', CANCEL_NEWEST: 'CANCEL_NEWEST' });
    expect(RateLimitDuration).toEqual({ SECOND: 'SECOND', MINUTE: 'MINUTE', HOUR: 'HOUR', DAY: 'DAY' });
    expect(Priority).toEqual({ LOW: 1, MEDIUM: 2, HIGH: 3 });
  });

  test('malformed CEL in concurrency.expression or dynamicKey: InvalidExpressionError at definition', async () => {
    env = await createTestEnvironment();
    const d = env.durable;
    expect(() => d.task({ name: 'a', fn, concurrency: { expression: 'input.(', maxRuns: 1 } })).toThrow(InvalidExpressionError);
    expect(() => d.task({ name: 'b', fn, rateLimits: [{ dynamicKey: 'input.user +', units: 1, limit: 1, duration: 'SECOND' }] })).toThrow(InvalidExpressionError);
    expect(() => d.durableTask({ name: 'c', fn, concurrency: { expression: 'nope.x', maxRuns: 1 } })).toThrow(InvalidExpressionError);
    expect(() => d.workflow({ name: 'w', concurrency: { expression: '', maxRuns: 1 } })).toThrow(InvalidExpressionError);
  });

  test.each([
    [{ concurrency: { expression: 'input.k', maxRuns: 0 } }, 'concurrency.maxRuns'],
    [{ concurrency: { expression: 'input.k', maxRuns: 1.5 } }, 'concurrency.maxRuns'],
    [{ concurrency: { expression: 'input.k', maxRuns: 1, limitStrategy: 'DROP_OLDEST' } }, 'concurrency.limitStrategy'],
    [{ rateLimits: [{ staticKey: 'k', units: 0 }] }, 'rateLimits[0].units'],
    [{ rateLimits: [{ dynamicKey: 'input.k', units: 1, limit: 5, duration: 'WEEK' }] }, 'rateLimits[0].duration'],
    [{ rateLimits: [{ dynamicKey: 'input.k', units: 1, limit: 0 }] }, 'rateLimits[0].limit'],
    [{ rateLimits: [{ staticKey: 'k', dynamicKey: 'input.k', units: 1 }] }, 'rateLimits[0]'],
    [{ defaultPriority: 4 }, 'defaultPriority'],
  ])('%j: InvalidDefinitionError naming %s', async (options, field) => {
    env = await createTestEnvironment();
    const define = () => env!.durable.task({ name: 't', fn, ...(options as object) });
    expect(define).toThrow(InvalidDefinitionError);
    expect(define).toThrow(field);
  });

  test('rateLimits.upsert and start options are checked', async () => {
    env = await createTestEnvironment();
    await expect(env.durable.rateLimits.upsert({ key: 'k', limit: 0, duration: 'SECOND' })).rejects.toThrow(/limit must be a whole number/);
    await expect(env.durable.rateLimits.upsert({ key: 'k', limit: 1, duration: 'FORTNIGHT' as never })).rejects.toThrow(InvalidDefinitionError);
    const task = env.durable.task({ name: 't', fn });
    await expect(task.runNoWait({}, { priority: 7 })).rejects.toThrow(/priority must be 1 \(LOW\), 2 \(MEDIUM\) or 3 \(HIGH\)/);
    await expect(task.runNoWait({}, { idempotencyKey: '' })).rejects.toThrow(/idempotencyKey/);
  });

  test('flow options on a workflow task are refused (they apply to whole workflow runs)', async () => {
    env = await createTestEnvironment();
    const wf = env.durable.workflow({ name: 'w' });
    expect(() => wf.task({ name: 'x', fn, concurrency: { expression: 'input.k', maxRuns: 1 } })).toThrow(/set them on durable.workflow/);
  });

  test('runs.get shows the priority, the idempotency key and, for a queued run, what it waits for', async () => {
    env = await createTestEnvironment();
    await env.durable.rateLimits.upsert({ key: 'one', limit: 1, duration: RateLimitDuration.HOUR });
    const task = env.durable.task({ name: 'limited', rateLimits: [{ staticKey: 'one' }], defaultPriority: Priority.MEDIUM, fn });
    await task.run({});
    const ref = await task.runNoWait({}, { idempotencyKey: 'k-1', priority: Priority.HIGH });
    await env.advanceTime('1s');
    const details = await env.durable.runs.get(ref.runId);
    expect(details).toMatchObject({ status: 'QUEUED', idempotencyKey: 'k-1', priority: 3 });
    expect(details.waitingFor).toMatch(/^rate limit 'one' \(1 units per window\) until 2030-01-01T01:00:00.000Z$/);
    await env.advanceTime('1h');
    expect(await ref.result()).toBe('ok');
    expect((await env.durable.runs.get(ref.runId)).waitingFor).toBeUndefined();
  });
});
