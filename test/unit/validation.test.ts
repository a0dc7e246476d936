import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  DurableError,
  InvalidDefinitionError,
  InvalidDurationError,
  InvalidExpressionError,
  PayloadTooLargeError,
  RunNotFoundError,
  SleepCondition,
  TaskNotFoundError,
  UserEventCondition,
  Or,
} from 'durable-tasks';
import { parseDuration } from '../../sdk/core/duration.ts';
import { compileExpression } from '../../sdk/core/cel.ts';
import { encodePayload, PAYLOAD_LIMIT_BYTES } from '../../sdk/core/json.ts';
import { deserializeError, serializeError, NonDeterminismError, WaitTimeoutError } from '../../sdk/core/errors.ts';
import { createTestEnvironment, type TestEnvironment } from '../support/env.ts';

let env: TestEnvironment;
beforeEach(async () => {
  env = await createTestEnvironment();
});
afterEach(async () => {
  await env.close();
});

describe('durations', () => {
  test.each([
    ['5s', 5_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    [1500, 1500],
    [0, 0],
  ])('%s is %d ms', (input, ms) => expect(parseDuration(input)).toBe(ms));

  test.each([['5'], ['abc'], ['-5s'], [''], ['5 parsecs'], [-1], [Number.NaN], [Number.POSITIVE_INFINITY], [null], [{}], ['1000000d']])(
    '%s is an InvalidDurationError naming the value',
    (input) => {
      const error = (() => {
        try {
          parseDuration(input);
        } catch (e) {
          return e;
        }
      })() as InvalidDurationError;
      expect(error).toBeInstanceOf(InvalidDurationError);
      expect(error.message).toMatch(/invalid duration/);
    },
  );

  test('a bad duration in a definition throws at definition time', () => {
    expect(() => env.durable.durableTask({ name: 't', executionTimeout: '10 minutes', fn: async () => 1 })).toThrow(InvalidDurationError);
    expect(() => new SleepCondition('-1s')).toThrow(InvalidDurationError);
    expect(() => Or({ sleepFor: 'soon' })).not.toThrow(); // Or only groups; normalised when used
  });

  test('a bad duration at run time fails the run', async () => {
    const t = env.durable.durableTask({ name: 'bad-sleep', fn: async (_: {}, ctx) => ctx.sleepFor('forever') });
    await expect(t.run({})).rejects.toBeInstanceOf(InvalidDurationError);
  });
});

describe('CEL', () => {
  test('compiles once and evaluates many, with input bound to the payload', () => {
    const expr = compileExpression('input.amount > 100 && "vip" in input.tags');
    expect(expr.matches({ amount: 120, tags: ['vip'] })).toBe(true);
    expect(expr.matches({ amount: 120, tags: [] })).toBe(false);
    expect(compileExpression('input.amount > 100')).toBe(compileExpression('input.amount > 100'));
  });

  test.each([
    ['input.amount >', 'syntax'],
    ['foo == 1', 'unknown variable'],
    ['1 + 2', 'not a bool'],
  ])('%s is an InvalidExpressionError (%s) naming the expression', (source) => {
    const error = (() => {
      try {
        compileExpression(source);
      } catch (e) {
        return e;
      }
    })() as InvalidExpressionError;
    expect(error).toBeInstanceOf(InvalidExpressionError);
    expect(error.expression).toBe(source);
    expect(error.message).toContain(source);
  });

  test('a syntax error carries its position', () => {
    try {
      compileExpression('input.a == ');
    } catch (e) {
      expect((e as InvalidExpressionError).position).toBe(11);
    }
    expect.assertions(1);
  });

  test('a type error at evaluation is an InvalidExpressionError', () => {
    expect(() => compileExpression('input.amount > 100').matches({ amount: 'lots' })).toThrow(InvalidExpressionError);
  });

  test('bad CEL in a condition throws at definition', () => {
    expect(() => new UserEventCondition('k', 'input.x ===')).toThrow(InvalidExpressionError);
    expect(() => env.durable.workflow({ name: 'w' }).task({ name: 'x', waitFor: { eventKey: 'k', expression: ')' }, fn: async () => 1 })).toThrow(InvalidExpressionError);
  });
});

describe('payloads', () => {
  test.each([
    [{ f: () => 1 }, 'a function', '$.f'],
    [{ n: 1n }, 'BigInt', '$.n'],
    [[1, Symbol('s')], 'a symbol', '$[1]'],
    [{ x: Number.NaN }, 'NaN', '$.x'],
    [{ m: new Map() }, 'Map', '$.m'],
  ])('%o is refused, naming the value and where it is', (value, what, where) => {
    expect(() => encodePayload(value, 'step result')).toThrow(DurableError);
    try {
      encodePayload(value, 'step result');
    } catch (e) {
      expect((e as Error).message).toContain(what);
      expect((e as Error).message).toContain(where);
    }
  });

  test('a cycle is refused with its path', () => {
    const a: Record<string, unknown> = { b: {} };
    (a.b as Record<string, unknown>).back = a;
    expect(() => encodePayload(a, 'output')).toThrow(/cycle.*\$\.b\.back/);
  });

  test('over 256 KiB is a PayloadTooLargeError naming the limit and the size; at the limit it passes', () => {
    const exact = 'x'.repeat(PAYLOAD_LIMIT_BYTES - 2);
    expect(encodePayload(exact, 'input')).toHaveLength(PAYLOAD_LIMIT_BYTES);
    const error = (() => {
      try {
        encodePayload('x'.repeat(PAYLOAD_LIMIT_BYTES), 'input');
      } catch (e) {
        return e;
      }
    })() as PayloadTooLargeError;
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error.size).toBe(PAYLOAD_LIMIT_BYTES + 2);
    expect(error.limit).toBe(PAYLOAD_LIMIT_BYTES);
    expect(error.message).toContain(String(PAYLOAD_LIMIT_BYTES));
  });

  test('multi-byte characters count as bytes', () => {
    expect(() => encodePayload('é'.repeat(PAYLOAD_LIMIT_BYTES / 2), 'input')).toThrow(PayloadTooLargeError);
  });

  test('an input, output and event over the limit are refused where they enter; nothing is stored', async () => {
    // Inputs and outputs go up to maxPayloadBytes (large ones through the payload store): here set to 256 KiB.
    await env.close();
    env = await createTestEnvironment({ maxPayloadBytes: PAYLOAD_LIMIT_BYTES });
    const big = { blob: 'x'.repeat(PAYLOAD_LIMIT_BYTES) };
    const t = env.durable.task({ name: 'echo', fn: async (i: unknown) => i });
    await expect(t.runNoWait(big)).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect(await env.durable.runs.list({ name: 'echo' })).toEqual([]);
    await expect(env.durable.events.push('k', big)).rejects.toBeInstanceOf(PayloadTooLargeError);
    const grows = env.durable.task({ name: 'grows', fn: async () => big });
    const ref = await grows.runNoWait({});
    await expect(ref.result()).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect((await env.durable.runs.get(ref.runId)).error?.name).toBe('PayloadTooLargeError');
  });
});

describe('definitions', () => {
  test('duplicate names throw', () => {
    env.durable.task({ name: 'same', fn: async () => 1 });
    expect(() => env.durable.durableTask({ name: 'same', fn: async () => 1 })).toThrow(InvalidDefinitionError);
    expect(() => env.durable.workflow({ name: 'same' })).toThrow(/already defined/);
  });

  test.each([[''], ['   '], [undefined], [42]])('name %o is refused', (name) => {
    expect(() => env.durable.task({ name: name as string, fn: async () => 1 })).toThrow(InvalidDefinitionError);
  });

  test('event keys must be non-empty and at most 256 characters', async () => {
    await expect(env.durable.events.push('', {})).rejects.toThrow(/non-empty/);
    await expect(env.durable.events.push('k'.repeat(257), {})).rejects.toThrow(/256/);
    expect(() => new UserEventCondition('', '')).toThrow(InvalidDefinitionError);
  });

  test('unknown names and run ids are typed errors', async () => {
    await expect(env.durable.runs.get('nope')).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(env.durable.runs.cancel('nope')).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(env.durable.engine.start('ghost', {})).rejects.toBeInstanceOf(TaskNotFoundError);
  });

  test('a worker that lacks the task a message names fails the run with TaskNotFoundError', async () => {
    const known = env.durable.task({ name: 'known', fn: async () => 1 });
    const other = env.durable.task({ name: 'other', fn: async () => 2 });
    const worker = env.durable.worker('narrow', { workflows: [known] });
    const run = await env.backend.store.createRun({
      runId: 'r-other', name: 'other', status: 'QUEUED', input: '{}', createdAt: 0, updatedAt: 0, attempt: 0, wake: 0, seen: 0, runningMs: 0,
    });
    expect(run).toBe(true);
    expect(await worker.process('r-other')).toBe('failed');
    const details = await env.durable.runs.get('r-other');
    expect(details.error?.name).toBe('TaskNotFoundError');
    expect(details.error?.message).toContain("'other'");
    expect(other.name).toBe('other');
  });
});

describe('errors round-trip through the journal', () => {
  test.each([
    new NonDeterminismError(3, "step('a')", "step('b')"),
    new WaitTimeoutError('k', 1000),
    new PayloadTooLargeError('input', 300_000, 262_144),
    new RunNotFoundError('r'),
  ])('%s', (error) => {
    const back = deserializeError(JSON.parse(JSON.stringify(serializeError(error))));
    expect(back).toBeInstanceOf(error.constructor);
    expect(back.message).toBe(error.message);
    expect(back.name).toBe(error.name);
  });

  test('an unknown error class keeps its name', () => {
    const back = deserializeError(serializeError(new RangeError('r')));
    expect(back.name).toBe('RangeError');
    expect(back.message).toBe('r');
  });
});
