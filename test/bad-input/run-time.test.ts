/**
 * Bad input that reaches a run while it executes: each fails the run (or the call) with a typed error whose
 * message says what was wrong, recorded where `runs.get` shows it; nothing else is lost or changed.
 * (Definition-time checks of durations, CEL and payload encoding are in test/unit/validation.test.ts.)
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DurableError, InvalidDefinitionError, InvalidDurationError, InvalidExpressionError, PayloadTooLargeError } from 'durable-tasks';
import { PAYLOAD_LIMIT_BYTES } from '../../sdk/core/json.ts';
import { createTestEnvironment, type TestEnvironment } from '../support/env.ts';
import { rejection } from './support.ts';

let env: TestEnvironment;
beforeEach(async () => {
  env = await createTestEnvironment();
});
afterEach(async () => {
  await env.close();
});

const big = () => ({ blob: 'x'.repeat(PAYLOAD_LIMIT_BYTES) });

/** Runs a durable task once and returns its error and its run as `runs.get` shows it. */
async function failedRun(fn: (input: unknown, ctx: any) => unknown, options: { retries?: number } = {}) {
  const name = `t-${Math.random().toString(36).slice(2, 8)}`;
  const task = env.durable.durableTask({ name, fn, ...options });
  const ref = await task.runNoWait({});
  await env.settle();
  const error = await rejection(ref.result());
  const run = await env.durable.runs.get(ref.runId);
  expect(run.status).toBe('FAILED');
  expect(run.error).toEqual({ name: error.name, message: error.message });
  return { error, run, runId: ref.runId };
}

describe('CEL at run time', () => {
  test('a syntax error in waitForEvent fails the run with InvalidExpressionError naming the expression and position; no retry can fix it', async () => {
    const { error, run } = await failedRun(async (_, ctx) => ctx.waitForEvent('order:paid', 'input.amount >'), { retries: 3 });
    expect(error).toBeInstanceOf(InvalidExpressionError);
    expect(error.message).toContain("'input.amount >'");
    expect((error as InvalidExpressionError).position).toBeTypeOf('number');
    expect(run.attempt).toBe(0);
    expect(await env.backend.store.findWaiters('order:paid')).toEqual([]);
  });

  test('an unknown variable fails the run with InvalidExpressionError', async () => {
    const { error } = await failedRun(async (_, ctx) => ctx.waitForEvent('k', 'order.amount > 1'));
    expect(error).toBeInstanceOf(InvalidExpressionError);
    expect(error.message).toMatch(/order\.amount > 1/);
  });

  test.each([
    ['a wrong type (string > int)', { amount: 'lots' }],
    ['a missing key', { currency: 'EUR' }],
    ['a payload that is not an object', 'just text'],
  ])('%s at evaluation in the router: that waiter is skipped, the run keeps waiting, the other waiters of the key resolve', async (_label, bad) => {
    const strict = env.durable.durableTask({ name: 'strict', fn: async (_: {}, ctx) => ctx.waitForEvent('pay', 'input.amount > 100') });
    const lenient = env.durable.durableTask({ name: 'lenient', fn: async (_: {}, ctx) => ctx.waitForEvent('pay') });
    const a = await strict.runNoWait({});
    const b = await lenient.runNoWait({});
    await env.settle();
    await env.durable.events.push('pay', bad);
    await env.settle();
    expect(await b.result()).toEqual(bad);
    expect((await env.durable.runs.get(a.runId)).status).toBe('WAITING');
    expect(await env.backend.store.findWaiters('pay')).toHaveLength(1);
    await env.durable.events.push('pay', { amount: 500 });
    expect(await a.result()).toEqual({ amount: 500 });
  });

  test('an expression that yields a number, not a bool, is an evaluation error in the router, not a run failure', async () => {
    const task = env.durable.durableTask({ name: 'numeric', fn: async (_: {}, ctx) => ctx.waitForEvent('n', 'input.count') });
    const ref = await task.runNoWait({});
    await env.settle();
    const routed = await env.durable.engine.route({ eventId: 'e1', key: 'n', payload: { count: 3 }, time: env.now().getTime() });
    expect(routed.resolved).toBe(0);
    expect(routed.errors).toEqual([{ runId: ref.runId, message: expect.stringMatching(/a condition must yield bool/) }]);
    expect((await env.durable.runs.get(ref.runId)).status).toBe('WAITING');
  });

  test('an event recorded before the wait whose payload the filter cannot evaluate does not fail the run (lookback)', async () => {
    await env.durable.events.push('pay', { amount: 'lots' });
    const task = env.durable.durableTask({ name: 'looks-back', fn: async (_: {}, ctx) => ctx.waitForEvent('pay', 'input.amount > 100', { lookback: '1h' }) });
    const ref = await task.runNoWait({});
    await env.settle();
    expect((await env.durable.runs.get(ref.runId)).status).toBe('WAITING');
    await env.durable.events.push('pay', { amount: 101 });
    expect(await ref.result()).toEqual({ amount: 101 });
  });
});

test('a DAG gate that registers after an event its filter cannot evaluate keeps waiting, then runs on a good event', async () => {
  const wf = env.durable.workflow({ name: 'gated' });
  const first = wf.task({ name: 'first', fn: async () => 1 });
  wf.task({ name: 'second', parents: [first], waitFor: { eventKey: 'go', expression: 'input.tag == "go"' }, fn: async () => 2 });
  await env.durable.events.push('go', { n: 1 }); // no 'tag': the gate's filter cannot evaluate it
  const ref = await wf.runNoWait({});
  await env.settle();
  const run = await env.durable.runs.get(ref.runId);
  expect(run.status).toBe('WAITING');
  expect(run.tasks?.map((t) => [t.name, t.status])).toEqual([
    ['first', 'SUCCEEDED'],
    ['second', 'WAITING'],
  ]);
  await env.durable.events.push('go', { tag: 'go' });
  expect(await ref.result()).toEqual({ first: 1, second: 2 });
});

describe('durations at run time', () => {
  test.each([
    ['a negative number', -1, /negative/],
    ['NaN', Number.NaN, /not a finite number/],
    ['an unknown unit', '2 fortnights', /number followed by a unit/],
    ['an absurd length', '4000d', /longer than 10 years/],
    ['Infinity', Number.POSITIVE_INFINITY, /not a finite number/],
  ])('sleepFor(%s) fails the run with InvalidDurationError', async (_label, value, detail) => {
    const { error } = await failedRun(async (_, ctx) => ctx.sleepFor(value));
    expect(error).toBeInstanceOf(InvalidDurationError);
    expect(error.message).toMatch(detail);
    expect(env.backend.timers.size).toBe(0);
  });

  test('a bad timeout or lookback in waitForEvent fails the run before anything is registered', async () => {
    const timeout = await failedRun(async (_, ctx) => ctx.waitForEvent('k', '', { timeout: 'soon' }));
    expect(timeout.error).toBeInstanceOf(InvalidDurationError);
    const lookback = await failedRun(async (_, ctx) => ctx.waitForEvent('k', '', { lookback: -5 }));
    expect(lookback.error).toBeInstanceOf(InvalidDurationError);
    expect(await env.backend.store.findWaiters('k')).toEqual([]);
  });

  test('a bad sleep inside a condition object fails the run with InvalidDurationError', async () => {
    const { error } = await failedRun(async (_, ctx) => ctx.waitFor([{ eventKey: 'k' }, { sleepFor: '-10s' }]));
    expect(error).toBeInstanceOf(InvalidDurationError);
  });

  test('sleepUntil an invalid date is a DurableError; a date in the past returns at once with durationMs 0', async () => {
    const { error } = await failedRun(async (_, ctx) => ctx.sleepUntil(new Date('not a date')));
    expect(error).toBeInstanceOf(DurableError);
    expect(error.message).toMatch(/sleepUntil needs a valid Date/);
    const past = env.durable.durableTask({ name: 'past', fn: async (_: {}, ctx) => ctx.sleepUntil(new Date(0)) });
    expect(await past.run({})).toEqual({ durationMs: 0 });
  });
});

describe('payloads at run time', () => {
  // Inputs, outputs and step results go up to maxPayloadBytes (large ones through the payload store): here 256 KiB.
  beforeEach(async () => {
    await env.close();
    env = await createTestEnvironment({ maxPayloadBytes: PAYLOAD_LIMIT_BYTES });
  });
  test('a step result over the limit fails the run with PayloadTooLargeError naming the step; the step is not recorded', async () => {
    const { error, run } = await failedRun(async (_, ctx) => ctx.step('fetch', () => big()));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error.message).toContain("step 'fetch' result");
    expect((error as PayloadTooLargeError).limit).toBe(PAYLOAD_LIMIT_BYTES);
    expect((error as PayloadTooLargeError).size).toBeGreaterThan(PAYLOAD_LIMIT_BYTES);
    expect(run.operations).toEqual([]);
  });

  test('a child input over the limit fails the parent; no child run is created', async () => {
    const kid = env.durable.durableTask({ name: 'kid', fn: async (i: unknown) => i });
    const { error } = await failedRun(async (_, ctx) => ctx.runChild(kid, big()));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error.message).toContain("child 'kid' input");
    expect(await env.durable.runs.list({ name: 'kid' })).toEqual([]);
  });

  test.each([
    ['a function', () => ({ ok: true, f: () => 1 }), /a function at \$\.f/],
    ['a BigInt', () => ({ n: 10n }), /a BigInt \(10n\) at \$\.n/],
    ['a cycle', () => {
      const a: Record<string, unknown> = { name: 'a' };
      a.self = a;
      return a;
    }, /cycle.*\$\.self/],
    ['a symbol', () => [Symbol('s')], /a symbol at \$\[0\]/],
  ])('an output holding %s fails the run with a DurableError saying which value and where, without retries', async (_label, make, detail) => {
    const { error, run } = await failedRun(async () => make(), { retries: 2 });
    expect(error).toBeInstanceOf(DurableError);
    expect(error.message).toMatch(/task 't-\w+' output cannot be stored as JSON/);
    expect(error.message).toMatch(detail);
    expect(run.attempt).toBe(0);
  });

  test('a step result that JSON cannot represent fails the run naming the step and the path', async () => {
    const { error } = await failedRun(async (_, ctx) => ctx.step('count', () => ({ total: 2n ** 70n })));
    expect(error).toBeInstanceOf(DurableError);
    expect(error.message).toMatch(/step 'count' result cannot be stored as JSON: a BigInt .* at \$\.total/);
  });

  test('an event payload JSON cannot represent is refused at push; nothing is recorded and waiting runs are untouched', async () => {
    const task = env.durable.durableTask({ name: 'waits', fn: async (_: {}, ctx) => ctx.waitForEvent('k') });
    const ref = await task.runNoWait({});
    await env.settle();
    const error = await rejection(env.durable.events.push('k', { when: () => 'now' }));
    expect(error).toBeInstanceOf(DurableError);
    expect(error.message).toMatch(/event 'k' payload cannot be stored as JSON: a function at \$\.when/);
    expect(await env.backend.store.findEvents('k', 0)).toEqual([]);
    expect((await env.durable.runs.get(ref.runId)).status).toBe('WAITING');
  });

  test('a scheduled run with an input over the limit is refused; nothing is scheduled', async () => {
    const task = env.durable.task({ name: 'later', fn: async () => 1 });
    const error = await rejection(task.schedule(new Date(env.now().getTime() + 60_000), big()));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(env.backend.timers.size).toBe(0);
    expect(await env.durable.runs.list({ name: 'later' })).toEqual([]);
  });
});

describe('user code that throws something other than an Error', () => {
  test.each([
    ['a string', 'out of stock', 'out of stock'],
    ['a number', 42, '42'],
    ['an object', { code: 7 }, '[object Object]'],
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
  ])('%s fails the run with an Error whose message is String(value)', async (_label, value, message) => {
    const { error, run } = await failedRun(async () => {
      throw value;
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('Error');
    expect(error.message).toBe(message);
    expect(run.error).toEqual({ name: 'Error', message });
  });

  test('a step that throws a non-Error surfaces as an Error to the code that awaits it, and is recorded as such', async () => {
    const task = env.durable.durableTask({
      name: 'catches',
      fn: async (_: {}, ctx) => {
        try {
          await ctx.step('flaky', () => {
            throw 'nope';
          });
        } catch (error) {
          return { isError: error instanceof Error, message: (error as Error).message };
        }
      },
    });
    const ref = await task.runNoWait({});
    expect(await ref.result()).toEqual({ isError: true, message: 'nope' });
    const [op] = (await env.durable.runs.get(ref.runId)).operations;
    expect(op).toMatchObject({ kind: 'step', name: 'flaky', status: 'failed', error: { name: 'Error', message: 'nope' } });
  });
});

describe('event keys and scopes at run time', () => {
  test.each([
    ['empty', '', /non-empty string/],
    ['too long', 'k'.repeat(257), /257 characters, over the 256-character limit/],
  ])('waitForEvent with an %s key fails the run with InvalidDefinitionError', async (_label, key, detail) => {
    const { error } = await failedRun(async (_, ctx) => ctx.waitForEvent(key));
    expect(error).toBeInstanceOf(InvalidDefinitionError);
    expect(error.message).toMatch(detail);
  });

  test('an empty key in a condition object fails the run', async () => {
    const { error } = await failedRun(async (_, ctx) => ctx.waitFor({ eventKey: '' }));
    expect(error).toBeInstanceOf(InvalidDefinitionError);
  });

  test.each([[''], [42]])('push with scope %o is refused with a DurableError; nothing is routed', async (scope) => {
    const error = await rejection(env.durable.events.push('k', {}, { scope: scope as string }));
    expect(error).toBeInstanceOf(DurableError);
    expect(error.message).toMatch(/scope must be a non-empty string/);
    expect(await env.backend.store.findEvents('k', 0)).toEqual([]);
  });
});
