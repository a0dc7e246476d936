/**
 * ctx.putStream / durable.runs.subscribeToStream (issue 18), written once and run on the memory adapters and on the
 * aws adapters over dynalite + fauxqs: order, no duplicates across replays, chunks from branches, the size limit,
 * subscribing to a finished run and before a run starts, and what a subscriber leaves behind when it breaks.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { DurableError, PayloadTooLargeError } from 'durable-tasks';
import type { JournalEntry, RunStore } from '../../sdk/ports.ts';
import { delegatingStore } from '../support/env.ts';
import type { Harness, HarnessFactory } from './harness.ts';

async function collect(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

/** The chunks the store holds for a run (every one ever written, in seq order). */
async function stored(h: Harness, runId: string) {
  const run = await h.backend.store.getRun(runId);
  return h.backend.store.readStream(runId, run!.generation, 0, 1_000);
}

export function streamContract(name: string, make: HarnessFactory) {
  describe(`ctx.putStream / runs.subscribeToStream: ${name}`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    test('chunks come in the order they were put, awaited or not, live while the run goes on', async () => {
      h = await make();
      const task = h.durable.durableTask({
        name: 'stream-order',
        fn: async (n: number, ctx) => {
          for (let i = 0; i < n; i++) {
            if (i % 2) await ctx.putStream({ i });
            else void ctx.putStream({ i }); // not awaited: still recorded, in call order, before the run ends
          }
          await ctx.waitForEvent('more');
          ctx.putStream({ i: 'last' });
          return 'done';
        },
      });
      const ref = await task.runNoWait(7);
      const seen = collect(h.durable.runs.subscribeToStream(ref.runId, { pollMs: 20 }));
      await h.settle();
      await h.durable.events.push('more', {});
      await h.settle();
      expect(await ref.result()).toBe('done');
      expect(await seen).toEqual([...Array.from({ length: 7 }, (_, i) => ({ i })), { i: 'last' }]);
      expect((await stored(h, ref.runId)).map((c) => c.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    });

    test('a chunk put before a sleep is not put again when the run resumes; the journal shows each once', async () => {
      const writes: number[] = [];
      h = await make((store) => delegatingStore(store, { putStreamChunk: (runId, entry) => (writes.push(entry.position), store.putStreamChunk(runId, entry)) }));
      let bodies = 0;
      const task = h.durable.durableTask({
        name: 'stream-sleep',
        fn: async (_: {}, ctx) => {
          bodies++;
          ctx.putStream('before');
          await ctx.sleepFor('1m');
          ctx.putStream('after');
          await ctx.sleepFor('1m');
          return 'ok';
        },
      });
      const ref = await task.runNoWait({});
      const seen = collect(h.durable.runs.subscribeToStream(ref.runId, { pollMs: 20 }));
      await h.settle();
      await h.advance(60_000);
      await h.advance(60_000);
      expect(await ref.result()).toBe('ok');
      expect(bodies).toBe(3);
      expect(writes).toEqual([0, 2]); // one write per chunk: the replays after each sleep wrote none
      expect(await seen).toEqual(['before', 'after']);
      expect((await stored(h, ref.runId)).map((c) => c.result)).toEqual(['"before"', '"after"']);
      const ops = (await h.durable.runs.get(ref.runId)).operations;
      expect(ops.filter((o) => o.kind === 'stream').map((o) => o.result)).toEqual(['before', 'after']);
      // A late subscriber gets the same chunks, and its loop ends: the run is finished.
      expect(await collect(h.durable.runs.subscribeToStream(ref.runId))).toEqual(['before', 'after']);
    });

    test('chunks from ctx.map branches, before and after a branch sleeps, each once', async () => {
      h = await make();
      const task = h.durable.durableTask({
        name: 'stream-branches',
        fn: async (items: string[], ctx) => {
          ctx.putStream('start');
          const out = await ctx.map(
            'each',
            items,
            async (item, b) => {
              b.putStream(`${item}:1`);
              await b.sleepFor('30s');
              await b.putStream(`${item}:2`);
              return item;
            },
            { maxConcurrency: 2 },
          );
          ctx.putStream('end');
          return out;
        },
      });
      const ref = await task.runNoWait(['a', 'b', 'c']);
      await h.settle();
      await h.advance(30_000);
      await h.advance(30_000);
      expect(await ref.result()).toEqual(['a', 'b', 'c']);
      const chunks = (await collect(h.durable.runs.subscribeToStream(ref.runId))) as string[];
      expect(chunks[0]).toBe('start');
      expect(chunks.at(-1)).toBe('end');
      expect([...chunks].sort()).toEqual(['a:1', 'a:2', 'b:1', 'b:2', 'c:1', 'c:2', 'end', 'start']);
      // Within a branch, its own order holds.
      for (const item of ['a', 'b', 'c']) expect(chunks.indexOf(`${item}:1`)).toBeLessThan(chunks.indexOf(`${item}:2`));
      expect((await stored(h, ref.runId)).map((c) => c.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    });

    test('a chunk over 256 KiB fails the run with PayloadTooLargeError naming the limit; a non-JSON chunk with the JSON error', async () => {
      h = await make();
      const big = h.durable.durableTask({ name: 'stream-big', fn: async (_: {}, ctx) => ctx.putStream({ blob: 'x'.repeat(256 * 1024) }) });
      const fits = h.durable.durableTask({ name: 'stream-fits', fn: async (_: {}, ctx) => ctx.putStream('x'.repeat(256 * 1024 - 2)) });
      const odd = h.durable.durableTask({ name: 'stream-odd', fn: async (_: {}, ctx) => ctx.putStream({ n: 1n }) });
      const bigRef = await big.runNoWait({});
      const fitsRef = await fits.runNoWait({});
      const oddRef = await odd.runNoWait({});
      await h.settle();
      const error = await bigRef.result().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PayloadTooLargeError);
      expect((error as Error).message).toMatch(/262144-byte limit \(256 KiB\)/);
      expect((error as Error).message).toMatch(/ctx\.putStream chunk/);
      await expect(fitsRef.result()).resolves.toBeUndefined();
      expect(await collect(h.durable.runs.subscribeToStream(fitsRef.runId))).toHaveLength(1);
      const oddError = await oddRef.result().catch((e: unknown) => e);
      expect(oddError).toBeInstanceOf(DurableError);
      expect((oddError as Error).message).toMatch(/cannot be stored as JSON: a BigInt/);
      expect(await stored(h, bigRef.runId)).toEqual([]);
    });

    test('subscribing before the run starts yields every chunk once it runs; an unknown run is RunNotFoundError', async () => {
      h = await make();
      const task = h.durable.durableTask({ name: 'stream-later', fn: async (_: {}, ctx) => (ctx.putStream(1), ctx.putStream(2), 'x') });
      const ref = await task.schedule(new Date(h.clock.now() + 60_000), {});
      let ended = false;
      const seen = collect(h.durable.runs.subscribeToStream(ref.runId, { pollMs: 20 })).finally(() => (ended = true));
      await h.settle();
      await new Promise((r) => setTimeout(r, 60));
      expect((await h.durable.runs.get(ref.runId)).status).toBe('WAITING'); // scheduled: not started yet
      expect(ended).toBe(false);
      await h.advance(60_000);
      expect(await seen).toEqual([1, 2]);
      await expect(collect(h.durable.runs.subscribeToStream('no-such-run'))).rejects.toMatchObject({ name: 'RunNotFoundError' });
    });

    test('a concurrent replay that took the next seq first: its chunk is learned, this one goes after it, none twice', async () => {
      // Before this run's second chunk lands, a "concurrent replay" records position 2's chunk (what this run is
      // about to put) at seq 2 and position 0's again... at no new seq: the writer must find position 2 there and not
      // write it again, and every later chunk goes after it.
      let inner: RunStore | undefined;
      let raced = false;
      const writes: JournalEntry[] = [];
      h = await make((store) => {
        inner = store;
        return delegatingStore(store, {
          putStreamChunk: async (runId, entry) => {
            if (!raced && entry.seq === 2) {
              raced = true;
              await inner!.putStreamChunk(runId, { ...entry, position: 2, result: '"c"', seq: 2 });
            }
            writes.push(entry);
            return store.putStreamChunk(runId, entry);
          },
        });
      });
      const task = h.durable.durableTask({
        name: 'stream-race',
        fn: async (_: {}, ctx) => {
          ctx.putStream('a');
          ctx.putStream('b');
          ctx.putStream('c');
          ctx.putStream('d');
          return 'ok';
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      expect(await ref.result()).toBe('ok');
      // 'b' lost seq 2 to the racing 'c' and went to seq 3; 'c' was then found recorded and not written again.
      expect(await collect(h.durable.runs.subscribeToStream(ref.runId))).toEqual(['a', 'c', 'b', 'd']);
      expect(writes.map((w) => `${w.position}@${w.seq}`)).toEqual(['0@1', '1@2', '1@3', '3@4']);
    });

    test('breaking out of the loop leaves no listener and no timer behind', async () => {
      h = await make();
      const task = h.durable.durableTask({
        name: 'stream-break',
        fn: async (_: {}, ctx) => {
          ctx.putStream('one');
          await ctx.waitForEvent('never');
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      const watchers = () => (h!.durable.engine as unknown as { streamed: { listenerCount(n: string): number } }).streamed.listenerCount(ref.runId);
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      for (let round = 0; round < 20; round++) {
        for await (const chunk of h.durable.runs.subscribeToStream(ref.runId, { pollMs: 60_000 })) {
          expect(chunk).toBe('one');
          break;
        }
      }
      expect(watchers()).toBe(0);
      expect(timers()).toBeLessThanOrEqual(before);
      // A subscriber that waits (no chunk yet) and is stopped through its signal ends too, releasing the same.
      const stop = new AbortController();
      const waiting = collect(h.durable.runs.subscribeToStream(ref.runId, { pollMs: 60_000, signal: stop.signal }));
      await new Promise((r) => setTimeout(r, 50));
      expect(watchers()).toBe(1);
      stop.abort();
      expect(await waiting).toEqual(['one']);
      expect(watchers()).toBe(0);
      expect(timers()).toBeLessThanOrEqual(before);
    });
  });
}
