/**
 * Stream chunks as journal records: an exported history holds them and `replayHistory` checks them (a chunk where
 * the code now does something else names `putStream`); a run id used again after its run expired starts a clean
 * stream; a plain task cannot put chunks (typed error).
 */
import { afterAll, describe, expect, test } from 'vitest';
import { InvalidDefinitionError, NonDeterminismError } from 'durable-tasks';
import { createTestEnvironment, replayHistory } from 'durable-tasks/testing';
import { awsHarnessFactory, memoryHarness, type HarnessFactory } from '../contract/harness.ts';

describe('stream chunks in exported histories', () => {
  test('a run with chunks (top level and in a branch) replays against its history; changed code names putStream', async () => {
    const env = await createTestEnvironment();
    try {
      const fn = async (_: {}, ctx: import('durable-tasks').DurableContext) => {
        ctx.putStream('a');
        await ctx.sleepFor('1m');
        await ctx.map('m', [1, 2], async (n, b) => b.putStream({ n }));
        return ctx.step('s', () => 1);
      };
      const task = env.durable.durableTask({ name: 'streams-history', fn });
      const ref = await task.runNoWait({});
      await env.settle();
      await env.advanceTime('1m');
      expect(await ref.result()).toBe(1);
      const history = await env.durable.runs.export(ref.runId);
      expect(history.entries.filter((e) => e.kind === 'stream').map((e) => e.result)).toEqual(['a', { n: 1 }, { n: 2 }]);
      // The history round-trips through JSON and the format check.
      await replayHistory(task, JSON.parse(JSON.stringify(history)));
      const changed = env.durable.durableTask({
        name: 'streams-history-v2',
        fn: async (_: {}, ctx) => {
          await ctx.step('a', () => 'a');
          return 1;
        },
      });
      const error = await replayHistory(changed, { ...history, name: 'streams-history-v2' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NonDeterminismError);
      expect((error as Error).message).toContain('putStream');
    } finally {
      await env.close();
    }
  });

  test('a plain task cannot put chunks: InvalidDefinitionError naming durableTask', async () => {
    const env = await createTestEnvironment();
    try {
      const task = env.durable.task({ name: 'plain-stream', fn: async (_: {}, ctx) => (ctx as unknown as { putStream(c: unknown): Promise<void> }).putStream(1) });
      const error = await task.run({}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidDefinitionError);
      expect((error as Error).message).toMatch(/ctx\.putStream needs a durable task/);
    } finally {
      await env.close();
    }
  });
});

const aws = awsHarnessFactory();
afterAll(() => aws.stop());
const backends: [string, HarnessFactory][] = [
  ['memory', memoryHarness],
  ['aws (dynalite + fauxqs)', (...args) => aws.factory(...args)],
];

describe.each(backends)('a reused run id on %s', (_name, factory) => {
  test('the new run streams only its own chunks, from seq 1', { timeout: 60_000 }, async () => {
    const h = await factory(undefined, { retentionDays: 1 });
    try {
      const task = h.durable.durableTask({ name: 'reused', fn: async (tag: string, ctx) => (ctx.putStream(`${tag}-1`), ctx.putStream(`${tag}-2`), tag) });
      await h.durable.engine.start('reused', 'old', { runId: 'same-id' });
      await h.settle();
      const collect = async () => {
        const out: unknown[] = [];
        for await (const c of h.durable.runs.subscribeToStream('same-id')) out.push(c);
        return out;
      };
      expect(await collect()).toEqual(['old-1', 'old-2']);
      await h.advance(2 * 86_400_000); // the old run expires (its item TTL); its chunks stay until TTL deletes them
      await h.durable.engine.start('reused', 'new', { runId: 'same-id' });
      await h.settle();
      expect(await collect()).toEqual(['new-1', 'new-2']);
      const run = await h.backend.store.getRun('same-id');
      expect((await h.backend.store.readStream('same-id', run!.generation, 0, 10)).map((c) => c.seq)).toEqual([1, 2]);
      void task;
    } finally {
      await h.close();
    }
  });
});
