import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ExecutionTimeoutError, NonRetryableError } from 'durable-tasks';
import { createTestEnvironment, type TestEnvironment } from '../support/env.ts';

let env: TestEnvironment;
beforeEach(async () => {
  env = await createTestEnvironment();
});
afterEach(async () => {
  await env.close();
});

describe('task retries', () => {
  test('a failed attempt is retried after its backoff, from a fresh journal, with ctx.attempt counting', async () => {
    const attempts: number[] = [];
    const stepRuns: number[] = [];
    const task = env.durable.durableTask({
      name: 'retry-me',
      retries: 3,
      backoff: { factor: 2, maxSeconds: 60 },
      fn: async (_: {}, ctx) => {
        attempts.push(ctx.attempt);
        await ctx.step('work', () => stepRuns.push(ctx.attempt));
        if (ctx.attempt < 2) throw new Error(`attempt ${ctx.attempt} failed`);
        return { attempt: ctx.attempt };
      },
    });
    const ref = await task.runNoWait({});
    await env.settle();
    expect(attempts).toEqual([0]);
    expect((await env.durable.runs.get(ref.runId)).status).toBe('WAITING');
    await env.advanceTime('2s');
    expect(attempts).toEqual([0, 1]);
    await env.advanceTime('3s');
    expect(attempts).toEqual([0, 1]);
    await env.advanceTime('1s');
    expect(await ref.result()).toEqual({ attempt: 2 });
    expect(stepRuns).toEqual([0, 1, 2]);
    const run = await env.durable.runs.get(ref.runId);
    expect(run.error).toBeUndefined();
    expect(run.operations.map((o) => o.attempt)).toEqual([0, 1, 2]);
  });

  test('retries are bounded: after the last one the run fails with the last error', async () => {
    let calls = 0;
    const task = env.durable.task({ name: 'always-fails', retries: 2, fn: async () => { calls++; throw new Error(`boom ${calls}`); } });
    await expect(task.run({})).rejects.toThrow('boom 3');
    expect(calls).toBe(3);
    expect((await env.durable.runs.list({ name: 'always-fails' }))[0]).toMatchObject({ status: 'FAILED', error: { name: 'Error', message: 'boom 3' } });
  });

  test('NonRetryableError stops retries at once', async () => {
    let calls = 0;
    const task = env.durable.task({ name: 'fatal', retries: 5, fn: async () => { calls++; throw new NonRetryableError('card declined'); } });
    const error = await task.run({}).catch((e) => e);
    expect(error).toBeInstanceOf(NonRetryableError);
    expect(error.message).toBe('card declined');
    expect(calls).toBe(1);
  });

  test('NonRetryableError in a step skips the step retries', async () => {
    let calls = 0;
    const task = env.durable.durableTask({
      name: 'step-fatal',
      fn: async (_: {}, ctx) => ctx.step('s', () => { calls++; throw new NonRetryableError('no'); }, { retries: 5 }),
    });
    await expect(task.run({})).rejects.toBeInstanceOf(NonRetryableError);
    expect(calls).toBe(1);
  });

  test('a thrown non-Error fails the run with an Error whose message is String(value)', async () => {
    const task = env.durable.task({ name: 'throws-string', fn: async () => { throw 'plain string'; } });
    const error = await task.run({}).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('plain string');
    const obj = env.durable.task({ name: 'throws-object', fn: async () => { throw { code: 42 }; } });
    expect((await obj.run({}).catch((e) => e)).message).toBe('[object Object]');
  });
});

describe('executionTimeout', () => {
  test('time parked in a wait does not count', async () => {
    const task = env.durable.durableTask({
      name: 'long-park',
      executionTimeout: '1s',
      fn: async (_: {}, ctx) => {
        await ctx.sleepFor('2h');
        await ctx.waitForEvent('later');
        return 'ok';
      },
    });
    const ref = await task.runNoWait({});
    await env.advanceTime('2h');
    await env.advanceTime('3d');
    await env.durable.events.push('later', {});
    expect(await ref.result()).toBe('ok');
  });

  test('running time over the limit fails the attempt with ExecutionTimeoutError', async () => {
    const task = env.durable.durableTask({
      name: 'too-slow',
      executionTimeout: 50,
      fn: async (_: {}, ctx) => {
        await ctx.step('slow', () => new Promise((r) => setTimeout(r, 200)));
        return 'never';
      },
    });
    const error = await task.run({}).catch((e) => e);
    expect(error).toBeInstanceOf(ExecutionTimeoutError);
    expect(error.message).toContain('50 ms');
  });

  test('running time accumulates across replays of one attempt', async () => {
    const task = env.durable.durableTask({
      name: 'accumulates',
      executionTimeout: 120,
      fn: async (_: {}, ctx) => {
        await ctx.step('a', () => new Promise((r) => setTimeout(r, 70)));
        await ctx.sleepFor('1h');
        await ctx.step('b', () => new Promise((r) => setTimeout(r, 70)));
        return 'never';
      },
    });
    const ref = await task.runNoWait({});
    await env.settle();
    const parked = await env.backend.store.getRun(ref.runId);
    expect(parked?.runningMs).toBeGreaterThanOrEqual(60);
    await env.advanceTime('1h');
    await expect(ref.result()).rejects.toBeInstanceOf(ExecutionTimeoutError);
  });
});

describe('deterministic errors are not retried', () => {
  test.each([
    ['a bad duration', (ctx: any) => ctx.sleepFor('soon'), 'InvalidDurationError'],
    ['a bad CEL expression', (ctx: any) => ctx.waitForEvent('k', 'input.x >'), 'InvalidExpressionError'],
    ['a definition misuse', (ctx: any) => ctx.step('', () => 1), 'InvalidDefinitionError'],
    ['an output over the limit (maxPayloadBytes, 32 MiB)', async () => 'x'.repeat(32 * 1024 * 1024), 'PayloadTooLargeError'],
  ])('%s fails the run at once, whatever its retries', async (_what, body, name) => {
    let attempts = 0;
    const task = env.durable.durableTask({ name: `det-${name}`, retries: 3, fn: async (_: {}, ctx) => { attempts++; return body(ctx); } });
    const error = await task.run({}).catch((e) => e);
    expect(error.name).toBe(name);
    expect(attempts).toBe(1);
  });
});
