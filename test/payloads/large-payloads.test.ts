/**
 * Large payloads (API.md "Limits"): inputs, outputs and step results above 256 KiB and up to `maxPayloadBytes`
 * are kept in the payload store (memory in the test environment, S3 on the aws adapters: fauxqs here) and
 * fetched transparently, lazily; above the maximum, PayloadTooLargeError naming both sizes.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { PayloadTooLargeError, RunNotFoundError } from 'durable-tasks';
import { awsHarnessFactory, memoryHarness, type Harness, type HarnessFactory } from '../contract/harness.ts';
import type { PayloadStore } from '../../sdk/ports.ts';
import { PAYLOAD_REF_PREFIX } from '../../sdk/core/json.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

const backends: [string, HarnessFactory][] = [
  ['memory', memoryHarness],
  ['aws (dynalite + fauxqs S3)', (...args) => aws.factory(...args)],
];

const KIB = 1024;
/** A string payload of `bytes` bytes serialised (two quote characters included). */
const sized = (bytes: number, fill = 'x') => fill.repeat(bytes - 2);

/** Counts the payload store's reads and writes (by key). */
function countPayloads(h: Harness): { puts: string[]; gets: string[] } {
  const seen = { puts: [] as string[], gets: [] as string[] };
  const inner = h.backend.payloads!;
  const counted: PayloadStore = {
    put: (key, body, options) => (seen.puts.push(key), inner.put(key, body, options)),
    get: (key) => (seen.gets.push(key), inner.get(key)),
  };
  h.backend.payloads = counted;
  return seen;
}

describe.each(backends)('large payloads on %s', (_name, factory) => {
  test('a 1 MiB input, 600 KiB step result and 2 MiB output round-trip; the items hold references, runs.get reads them', { timeout: 60_000 }, async () => {
    const h = await factory();
    try {
      const input = { blob: sized(1024 * KIB, 'i') };
      const task = h.durable.durableTask({
        name: 'big',
        fn: async (i: { blob: string }, ctx) => {
          const step = await ctx.step('load', async () => sized(600 * KIB, 's'));
          await ctx.sleepFor('1s'); // the resume replays the step from its recorded (offloaded) result
          return { echoed: i.blob.length, step: step.length, out: sized(2048 * KIB, 'o') };
        },
      });
      const ref = await task.runNoWait(input);
      await h.settle();
      await h.advance(1000);
      const output = (await ref.result()) as { echoed: number; step: number; out: string };
      expect(output.echoed).toBe(input.blob.length);
      expect(output.step).toBe(600 * KIB - 2);
      expect(output.out).toBe(sized(2048 * KIB, 'o'));
      const loaded = (await h.backend.store.loadRun(ref.runId))!;
      expect(loaded.run.input.startsWith(PAYLOAD_REF_PREFIX)).toBe(true);
      expect(loaded.run.output!.startsWith(PAYLOAD_REF_PREFIX)).toBe(true);
      expect(loaded.entries.find((e) => e.name === 'load')!.result!.startsWith(PAYLOAD_REF_PREFIX)).toBe(true);
      const run = await h.durable.runs.get(ref.runId);
      expect(run.input).toEqual(input);
      expect(run.output).toEqual(output);
      expect(run.operations.find((o) => o.name === 'load')!.result).toBe(sized(600 * KIB, 's'));
      const bare = await h.durable.runs.get(ref.runId, { payloads: false });
      expect(bare.input).toBeUndefined();
      expect(bare.inputBytes).toBe(JSON.stringify(input).length);
      expect(bare.operations.find((o) => o.name === 'load')!.resultBytes).toBe(600 * KIB);
      const history = await h.durable.runs.export(ref.runId);
      expect(history.input).toEqual(input);
    } finally {
      await h.close();
    }
  });

  test('a child run with a large input and output, and a DAG task reading a large parent output', { timeout: 60_000 }, async () => {
    const h = await factory();
    try {
      const child = h.durable.task({ name: 'child', fn: async (i: { blob: string }) => ({ back: i.blob.toUpperCase() }) });
      const parent = h.durable.durableTask({
        name: 'parent',
        fn: async (_: {}, ctx) => {
          const out = await ctx.runChild(child, { blob: sized(400 * KIB, 'c') });
          return out.back.length;
        },
      });
      expect(await parent.run({})).toBe(400 * KIB - 2);
      const wf = h.durable.workflow<{ n: number }>({ name: 'wf' });
      const first = wf.task({ name: 'first', fn: async () => ({ big: sized(300 * KIB, 'f') }) });
      wf.task({
        name: 'second',
        parents: [first],
        skipIf: [{ parent: first, expression: 'size(output.big) < 10' }],
        fn: async (_i, ctx) => ({ len: ((await ctx.parentOutput(first)) as { big: string }).big.length }),
      });
      const out = (await wf.run({ n: 1 })) as { first: { big: string }; second: { len: number } };
      expect(out.second.len).toBe(300 * KIB - 2);
      expect(out.first.big).toBe(sized(300 * KIB, 'f'));
    } finally {
      await h.close();
    }
  });

  test('ctx.map whose branch results add up to over 256 KiB: the recorded results go to the payload store and a replay answers from them', { timeout: 60_000 }, async () => {
    const h = await factory();
    try {
      let branches = 0;
      const task = h.durable.durableTask({
        name: 'fan',
        fn: async (_: {}, ctx) => {
          const parts = await ctx.map('parts', [0, 1, 2, 3], async (i) => (branches++, sized(100 * KIB, String(i))));
          await ctx.sleepFor('1s');
          return parts.map((p) => p.length);
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      await h.advance(1000);
      expect(await ref.result()).toEqual([0, 1, 2, 3].map(() => 100 * KIB - 2));
      expect(branches).toBe(4); // the resume answered the map from its recorded (offloaded) results
      const anchor = (await h.backend.store.loadRun(ref.runId))!.entries.find((e) => e.kind === 'map')!;
      expect(anchor.result!.startsWith(PAYLOAD_REF_PREFIX)).toBe(true);
    } finally {
      await h.close();
    }
  });

  test('above maxPayloadBytes: PayloadTooLargeError naming both sizes, for an input (nothing stored) and a step result (the run fails once)', { timeout: 60_000 }, async () => {
    const h = await factory(undefined, { maxPayloadBytes: 1024 * KIB });
    try {
      const echo = h.durable.task({ name: 'echo', fn: async (i: unknown) => i });
      const error = (await echo.runNoWait(sized(1024 * KIB + 1)).catch((e) => e)) as PayloadTooLargeError;
      expect(error).toBeInstanceOf(PayloadTooLargeError);
      expect(error.size).toBe(1024 * KIB + 1);
      expect(error.limit).toBe(1024 * KIB);
      expect(error.message).toContain(`${1024 * KIB + 1} bytes`);
      expect(error.message).toContain(`${1024 * KIB}-byte limit`);
      expect(await h.durable.runs.list({ name: 'echo' })).toEqual([]);
      let attempts = 0;
      const grows = h.durable.durableTask({
        name: 'grows',
        retries: 3,
        fn: async (_: {}, ctx) => {
          attempts++;
          return ctx.step('huge', async () => sized(1024 * KIB + 10));
        },
      });
      const ref = await grows.runNoWait({});
      await expect(ref.result()).rejects.toBeInstanceOf(PayloadTooLargeError);
      expect(attempts).toBe(1);
      const run = await h.durable.runs.get(ref.runId);
      expect(run.error?.message).toContain(`step 'huge' result is ${1024 * KIB + 10} bytes`);
      // A worker's maxPayloadBytes sets the limit of the runs it executes (it shares its client's engine).
      h.durable.worker('lower', { workflows: [grows], maxPayloadBytes: 512 * KIB });
      const small = h.durable.durableTask({ name: 'small', fn: async (_: {}, ctx) => ctx.step('s', async () => sized(600 * KIB)) });
      const limited = (await small.run({}).catch((e) => e)) as PayloadTooLargeError;
      expect(limited).toBeInstanceOf(PayloadTooLargeError);
      expect(limited.limit).toBe(512 * KIB);
      expect(() => h.durable.worker('bad', { workflows: [grows], maxPayloadBytes: -1 })).toThrow(/maxPayloadBytes must be a positive integer/);
      // Event payloads stay at 256 KiB (EventBridge's limit).
      await expect(h.durable.events.push('k', sized(256 * KIB + 1))).rejects.toBeInstanceOf(PayloadTooLargeError);
    } finally {
      await h.close();
    }
  });

  test('lazy: loading and listing fetch no blob; a resumed replay fetches each recorded large result it passes once', { timeout: 60_000 }, async () => {
    const h = await factory();
    try {
      const seen = countPayloads(h);
      const task = h.durable.durableTask({
        name: 'lazy',
        fn: async (_: {}, ctx) => {
          await ctx.step('a', async () => sized(300 * KIB, 'a'));
          await ctx.step('b', async () => sized(300 * KIB, 'b'));
          await ctx.sleepFor('1s');
          return sized(300 * KIB, 'o');
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      expect(seen.puts).toHaveLength(2);
      expect(seen.gets).toHaveLength(0);
      await h.advance(1000);
      await h.settle();
      // The resume replays a and b: one fetch each (a replay needs every result the fn receives).
      expect(seen.gets).toHaveLength(2);
      expect(seen.puts).toHaveLength(3);
      const before = seen.gets.length;
      const listed = await h.durable.runs.list({ name: 'lazy' });
      expect(listed[0]!.output).toBeUndefined();
      expect(listed[0]!.outputBytes).toBe(300 * KIB);
      await h.durable.runs.get(ref.runId, { payloads: false });
      await h.backend.store.getRun(ref.runId);
      expect(seen.gets.length).toBe(before);
      expect(await ref.result()).toBe(sized(300 * KIB, 'o'));
      expect(seen.gets.length).toBe(before + 1);
    } finally {
      await h.close();
    }
  });

  test('the blob is written before the item that references it: a crash between leaves an orphan blob, never a dangling reference', { timeout: 60_000 }, async () => {
    let failNextPut = false;
    const h = await factory((store) =>
      new Proxy(store, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if (prop !== 'recordEntry') return typeof value === 'function' ? value.bind(target) : value;
          return async (...args: Parameters<typeof store.recordEntry>) => {
            if (failNextPut && args[1].name === 'big') {
              failNextPut = false;
              throw new Error('crash after the blob, before the item');
            }
            return store.recordEntry(...args);
          };
        },
      }),
    );
    try {
      const seen = countPayloads(h);
      failNextPut = true;
      let runs = 0;
      const task = h.durable.durableTask({
        name: 'orphan',
        fn: async (_: {}, ctx) => {
          runs++;
          return (await ctx.step('big', async () => sized(500 * KIB))).length;
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      // The abandoned replay's lease runs out; the sweeper re-dispatches the run.
      for (let i = 0; i < 5 && runs < 2; i++) {
        await h.advance(120_000);
        await h.durable.engine.sweep();
        await h.settle();
      }
      expect(await ref.result()).toBe(500 * KIB - 2);
      expect(runs).toBe(2);
      // Both attempts put the same content-addressed key; the item references it.
      expect(new Set(seen.puts).size).toBe(1);
      const entry = (await h.backend.store.loadRun(ref.runId))!.entries.find((e) => e.name === 'big')!;
      expect(entry.result).toContain(seen.puts[0]);
    } finally {
      await h.close();
    }
  });

  test('retention: a blob expires with its run (the run is gone after retention; the blob after retention + 366 days, as its items and the bucket lifecycle rule)', { timeout: 60_000 }, async () => {
    const h = await factory(undefined, { retentionDays: 1 });
    try {
      const seen = countPayloads(h);
      const task = h.durable.task({ name: 'kept', fn: async () => sized(300 * KIB) });
      const ref = await task.runNoWait({});
      expect(await ref.result()).toBe(sized(300 * KIB));
      const [key] = seen.puts;
      expect(await h.backend.payloads!.get(key!)).toBe(JSON.stringify(sized(300 * KIB)));
      await h.advance(2 * 86_400_000);
      await expect(h.durable.runs.get(ref.runId)).rejects.toBeInstanceOf(RunNotFoundError);
      await h.advance(366 * 86_400_000);
      expect(await h.backend.payloads!.get(key!)).toBeUndefined();
    } finally {
      await h.close();
    }
  });
});
