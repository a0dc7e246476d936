/**
 * Oversized items are the run's data, not an outage: an error is stored capped (and marked so), and an item
 * the store rejects for its size (DynamoDB's 400 KB) fails the run with PayloadTooLargeError instead of being
 * retried by SQS, the DLQ and the sweeper for ever. On memory and on DynamoDB (dynalite).
 */
import { afterAll, describe, expect, test } from 'vitest';
import { PayloadTooLargeError } from 'durable-tasks';
import { awsHarnessFactory, memoryHarness, type Harness, type HarnessFactory } from '../contract/harness.ts';
import { MAX_ERROR_MESSAGE_CHARS, MAX_ERROR_STACK_CHARS, serializeError } from '../../sdk/core/errors.ts';
import { MAX_ITEM_BYTES } from '../../sdk/adapters/aws/dynamo-item-size.ts';
import { clientWithStore, delegatingStore } from '../support/env.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

const backends: [string, HarnessFactory][] = [
  ['memory', memoryHarness],
  ['aws (dynalite + fauxqs)', (...args) => aws.factory(...args)],
];

describe('serializeError caps what is stored of an error', () => {
  test('a long message and stack are cut, marked, and the rest is kept as is', () => {
    const error = new Error('m'.repeat(100_000));
    error.stack = `Error: ${'s'.repeat(200_000)}`;
    const stored = serializeError(error);
    expect(stored.truncated).toBe(true);
    expect(stored.message.startsWith('m'.repeat(MAX_ERROR_MESSAGE_CHARS))).toBe(true);
    expect(stored.message).toMatch(/\[truncated: 8192 of 100000 characters kept\]$/);
    expect(stored.message.length).toBeLessThan(MAX_ERROR_MESSAGE_CHARS + 100);
    expect(stored.stack!.length).toBeLessThan(MAX_ERROR_STACK_CHARS + 100);
    expect(stored.stack).toMatch(/\[truncated: \d+ of 200007 characters kept\]$/);
  });

  test('a short error is stored whole, unmarked', () => {
    const stored = serializeError(new Error('short'));
    expect(stored.message).toBe('short');
    expect(stored.truncated).toBeUndefined();
  });
});

describe.each(backends)('oversized items on %s', (_name, factory) => {
  test('a step that throws a 1 MB message fails its run once, with the message capped and marked', { timeout: 60_000 }, async () => {
    const h: Harness = await factory();
    try {
      let calls = 0;
      const task = h.durable.durableTask({
        name: 'huge-error',
        retries: 0,
        fn: async (_: {}, ctx) => {
          await ctx.step('explode', async () => {
            calls++;
            throw new Error(`boom ${'x'.repeat(1_000_000)}`);
          });
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      const run = await h.durable.runs.get(ref.runId);
      expect(run.status).toBe('FAILED');
      expect(run.error?.message.startsWith('boom xxx')).toBe(true);
      expect(run.error?.message).toMatch(/\[truncated: \d+ of 1000005 characters kept\]$/);
      expect(run.error!.message.length).toBeLessThan(MAX_ERROR_MESSAGE_CHARS + 100);
      await expect(ref.result()).rejects.toThrow(/truncated/);
      expect(calls).toBe(1);
    } finally {
      await h.close();
    }
  });

  test('a wait whose waiter item is over 400 KB fails the run with PayloadTooLargeError, without retries', { timeout: 60_000 }, async () => {
    const h: Harness = await factory();
    try {
      let calls = 0;
      // The waiter holds the expression twice (its own field and the condition tree): ~500 KB.
      const expression = `input.code == "${'c'.repeat(250_000)}"`;
      const task = h.durable.durableTask({
        name: 'huge-waiter',
        retries: 3,
        fn: async (_: {}, ctx) => {
          calls++;
          return ctx.waitForEvent('never', expression);
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      const run = await h.durable.runs.get(ref.runId);
      expect(run.status).toBe('FAILED');
      expect(run.error?.name).toBe('PayloadTooLargeError');
      expect(run.error?.message).toMatch(new RegExp(`over the ${MAX_ITEM_BYTES}-byte limit`));
      await expect(ref.result()).rejects.toBeInstanceOf(PayloadTooLargeError);
      expect(calls).toBe(1);
      // Nothing is left to retry: the sweeper finds no candidate.
      expect(await h.backend.store.sweepCandidates(h.clock.now() + 3_600_000, 10)).toEqual([]);
    } finally {
      await h.close();
    }
  });
});

describe('the DynamoDB store maps a too-large item to PayloadTooLargeError', () => {
  test('dynalite rejects a 500 KB journal entry: PayloadTooLargeError names the limit, the size and the item', { timeout: 60_000 }, async () => {
    const h = await aws.factory();
    try {
      const store = h.rawStore!; // the DynamoDB store itself (the engine's store offloads a large result to S3)
      await store.createRun({ runId: 'big', name: 't', status: 'QUEUED', input: '{}', createdAt: 0, updatedAt: 0, attempt: 0, wake: 0, seen: 0, runningMs: 0 });
      const entry = { attempt: 0, position: 0, kind: 'step' as const, name: 's', status: 'done' as const, result: JSON.stringify('r'.repeat(500_000)), createdAt: 0 };
      const error = await store.recordEntry('big', entry).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PayloadTooLargeError);
      expect((error as PayloadTooLargeError).limit).toBe(MAX_ITEM_BYTES);
      expect((error as PayloadTooLargeError).size).toBeGreaterThan(500_000);
      expect((error as Error).message).toContain('RUN#big');
    } finally {
      await h.close();
    }
  });
});

describe('a run item the store rejects for its size when the run ends', () => {
  test('fails the run with PayloadTooLargeError once, instead of the message being retried for ever', { timeout: 30_000 }, async () => {
    let rejected = 0;
    const c = clientWithStore((inner) =>
      delegatingStore(inner, {
        finish: async (runId, intent) => {
          if (intent.outcome.status === 'SUCCEEDED') {
            rejected++;
            throw new PayloadTooLargeError(`the run item of '${runId}'`, 500_000, MAX_ITEM_BYTES);
          }
          return inner.finish(runId, intent);
        },
      }),
    );
    try {
      let calls = 0;
      const task = c.durable.durableTask({
        name: 'too-large-at-the-end',
        retries: 2,
        fn: async () => {
          calls++;
          return { ok: true };
        },
      });
      const ref = await task.runNoWait({});
      await c.settle();
      await expect(ref.result()).rejects.toBeInstanceOf(PayloadTooLargeError);
      const run = await c.durable.runs.get(ref.runId);
      expect(run.status).toBe('FAILED');
      expect(calls).toBe(1);
      expect(rejected).toBe(1);
    } finally {
      await c.durable.close();
    }
  });
});
