/**
 * ctx.map / ctx.parallel (issue 18), written once and run on the memory adapters and on the aws adapters over
 * dynalite + fauxqs: the concurrency bound, input order, branch-level waits across replays, failure semantics,
 * toleratedFailures, the request count of a 1,000-item map, and non-determinism naming the branch.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { InvalidDefinitionError, NonDeterminismError, NonRetryableError } from 'durable-tasks';
import type { Harness, HarnessFactory } from './harness.ts';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const total = (h: Harness) => Object.values(h.durable.metrics().requests).reduce((a, b) => a + b, 0);

export function fanOutContract(name: string, make: HarnessFactory) {
  describe(`ctx.map / ctx.parallel: ${name}`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    test('task.run inside a durable task is a checkpointed child: started before a sleep, it runs once', async () => {
      h = await make();
      let childRuns = 0;
      const child = h.durable.task({ name: 'trap-child', fn: async (i: number) => (childRuns++, i * 2) });
      const parent = h.durable.durableTask({
        name: 'trap-parent',
        fn: async (_: {}, ctx) => {
          const one = await child.run(21);
          const many = await child.run([1, 2]);
          await ctx.sleepFor('1m');
          return { one, many };
        },
      });
      const ref = await parent.runNoWait({});
      await h.settle();
      await h.advance(60_000);
      expect(await ref.result()).toEqual({ one: 42, many: [2, 4] });
      expect(childRuns).toBe(3);
      expect(await h.durable.runs.list({ name: 'trap-child' })).toHaveLength(3);
    });

    test('never more than maxConcurrency branches at once; outputs in input order; each side effect once', async () => {
      h = await make();
      let active = 0;
      let most = 0;
      const effects: number[] = [];
      const task = h.durable.durableTask({
        name: 'bounded',
        fn: async (items: number[], ctx) =>
          ctx.map(
            'double',
            items,
            async (item, b) => {
              active++;
              most = Math.max(most, active);
              // Later items finish first, so completion order is not input order.
              const out = await b.step('double', async () => (await pause(2 * (12 - item)), effects.push(item), item * 2));
              active--;
              return out;
            },
            { maxConcurrency: 3 },
          ),
      });
      const items = Array.from({ length: 12 }, (_, i) => i);
      const ref = await task.runNoWait(items);
      expect(await ref.result()).toEqual(items.map((i) => i * 2));
      expect(most).toBe(3);
      expect(effects.sort((a, b) => a - b)).toEqual(items);
      const ops = (await h.durable.runs.get(ref.runId)).operations;
      expect(ops.filter((o) => o.kind === 'step')).toHaveLength(12);
      expect(ops.filter((o) => o.kind === 'map').map((o) => `${o.name}:${o.status}`)).toEqual(['double:done']);
    });

    test('a branch parks on its own (sleep, event, child) and resumes across replays; a parked branch holds its slot', async () => {
      h = await make();
      const order: string[] = [];
      const child = h.durable.task({ name: 'fan-child', fn: async (i: number) => (order.push(`child:${i}`), i + 100) });
      const task = h.durable.durableTask({
        name: 'branch-waits',
        fn: async (_: {}, ctx) => {
          const out = await ctx.parallel(
            'three',
            [
              async (b) => (await b.sleepFor('1m'), b.step('a', () => (order.push('a'), 'A'))),
              async (b) => {
                const paid = await b.waitForEvent<{ amount: number }>('fan:go');
                return b.step('b', () => (order.push('b'), paid.amount));
              },
              // Starts only when a slot frees (after 'fan:go'); task.run in a branch is a child checkpointed in it.
              async (b) => (order.push('c-start'), child.run(7)),
            ],
            { maxConcurrency: 2 },
          );
          await ctx.sleepFor('1h');
          return out;
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      expect((await h.durable.runs.get(ref.runId)).status).toBe('WAITING');
      expect(order).toEqual([]);
      await h.durable.events.push('fan:go', { amount: 5 });
      await h.settle();
      // Side effects (steps, the child) ran once each; branch code outside steps re-runs on each replay.
      const effects = () => order.filter((o) => o !== 'c-start');
      expect(effects()).toEqual(['b', 'child:7']);
      // Branch c started only once branch b had finished and freed its slot.
      expect(order.indexOf('c-start')).toBeGreaterThan(order.indexOf('b'));
      await h.advance(60_000);
      expect(effects()).toEqual(['b', 'child:7', 'a']);
      await h.advance(3_600_000);
      expect(await ref.result()).toEqual(['A', 5, 107]);
      expect(effects()).toEqual(['b', 'child:7', 'a']);
      expect(await h.durable.runs.list({ name: 'fan-child' })).toHaveLength(1);
      const ops = (await h.durable.runs.get(ref.runId)).operations;
      expect(ops.map((o) => `${o.kind}:${o.name}`).sort()).toEqual(['child:fan-child', 'event:fan:go', 'parallel:three', 'sleep:', 'sleep:', 'step:a', 'step:b'].sort());
    });

    test('a failed branch fails the call once the running branches settle (a parked one too); no new branch starts', async () => {
      h = await make();
      const started: number[] = [];
      const task = h.durable.durableTask({
        name: 'fails',
        fn: async (_: {}, ctx) =>
          ctx.map(
            'm',
            [0, 1, 2, 3, 4],
            async (item, b) => {
              started.push(item);
              if (item === 0) await b.sleepFor('1m');
              return b.step('work', () => {
                if (item === 1) throw new NonRetryableError('item 1 is bad');
                return item;
              });
            },
            { maxConcurrency: 2 },
          ),
      });
      const ref = await task.runNoWait({});
      await h.settle();
      // Branch 1 failed, branch 0 is still sleeping: the call waits for it, and nothing else started.
      expect((await h.durable.runs.get(ref.runId)).status).toBe('WAITING');
      expect([...new Set(started)].sort()).toEqual([0, 1]);
      await h.advance(60_000);
      await expect(ref.result()).rejects.toThrow('item 1 is bad');
      expect([...new Set(started)].sort()).toEqual([0, 1]);
      const ops = (await h.durable.runs.get(ref.runId)).operations;
      expect(ops.filter((o) => o.kind === 'step').map((o) => o.status).sort()).toEqual(['done', 'failed']);
      expect(ops.find((o) => o.kind === 'map')?.status).toBe('failed');
    });

    test('toleratedFailures: settled results in input order; one failure too many fails the call', async () => {
      h = await make();
      const body = async (item: number, b: import('durable-tasks').DurableContext) =>
        b.step('work', () => {
          if (item % 2 === 1) throw new NonRetryableError(`odd ${item}`);
          return item * 10;
        });
      // The settled list as the task sees it, on the replay after a sleep (so decoded from the journal).
      const lenient = h.durable.durableTask({
        name: 'lenient',
        fn: async (_: {}, ctx) => {
          const out = await ctx.map('m', [0, 1, 2, 3], body, { toleratedFailures: 2 });
          await ctx.sleepFor('1m');
          return out.map((s) => (s.status === 'fulfilled' ? s : { status: s.status, typed: s.error instanceof NonRetryableError, message: s.error.message }));
        },
      });
      const strict = h.durable.durableTask({ name: 'strict', fn: async (_: {}, ctx) => ctx.map('m', [0, 1, 2, 3], body, { toleratedFailures: 1, maxConcurrency: 1 }) });
      const ok = await lenient.runNoWait({});
      await h.settle();
      await h.advance(60_000);
      expect(await ok.result()).toEqual([
        { status: 'fulfilled', value: 0 },
        { status: 'rejected', typed: true, message: 'odd 1' },
        { status: 'fulfilled', value: 20 },
        { status: 'rejected', typed: true, message: 'odd 3' },
      ]);
      const bad = await strict.runNoWait({});
      await expect(bad.result()).rejects.toThrow('odd 1');
      // With one branch at a time, the second failure (item 3) stopped the fan-out after it: nothing past it ran.
      const ops = (await h.durable.runs.get(bad.runId)).operations;
      expect(ops.filter((o) => o.kind === 'step')).toHaveLength(4);
    });

    test('a finished fan-out answers replays from its entry: no branch runs again', async () => {
      h = await make();
      let calls = 0;
      const task = h.durable.durableTask({
        name: 'answered',
        fn: async (_: {}, ctx) => {
          const out = await ctx.map('m', ['x', 'y'], async (item, b) => (calls++, b.step('s', () => item.toUpperCase())));
          // A patch after a finished fan-out is new ground (branch entries stand at the fan-out's position).
          const patched = ctx.patched('after-map');
          await ctx.sleepFor('1m');
          return { out, patched };
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      expect(calls).toBe(2);
      await h.advance(60_000);
      expect(await ref.result()).toEqual({ out: ['X', 'Y'], patched: true });
      expect(calls).toBe(2);
    });

    test('non-determinism inside a branch names the fan-out, the branch and the position', async () => {
      h = await make();
      let version = 1;
      const task = h.durable.durableTask({
        name: 'drift',
        fn: async (_: {}, ctx) =>
          ctx.map('charge-all', [0, 1, 2], async (item, b) => {
            await b.step(item === 2 && version === 2 ? 'renamed' : 'charge', () => item);
            return b.sleepFor('1m');
          }),
      });
      const ref = await task.runNoWait({});
      await h.settle();
      version = 2;
      await h.advance(60_000);
      const error = await ref.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(NonDeterminismError);
      expect((error as NonDeterminismError).message).toContain("map 'charge-all' branch 2, operation 0");
      expect((error as NonDeterminismError).message).toContain("step('charge')");
    });

    test('fan-outs do not nest, and bad options are typed errors', async () => {
      h = await make();
      const nested = h.durable.durableTask({
        name: 'nested',
        fn: async (_: {}, ctx) => ctx.map('outer', [1], async (_i, b) => b.map('inner', [1], async () => 1)),
      });
      await expect((await nested.runNoWait({})).result()).rejects.toBeInstanceOf(InvalidDefinitionError);
      const badLimit = h.durable.durableTask({ name: 'bad-limit', fn: async (_: {}, ctx) => ctx.map('m', [1], async () => 1, { maxConcurrency: 0 }) });
      await expect((await badLimit.runNoWait({})).result()).rejects.toThrow(/maxConcurrency/);
    });

    test('a map of 1,000 items costs O(items) requests', async () => {
      h = await make();
      const task = h.durable.durableTask({
        name: 'wide',
        fn: async (n: number, ctx) => {
          const out = await ctx.map('wide', Array.from({ length: n }, (_, i) => i), (i, b) => b.step('s', () => i), { maxConcurrency: 50 });
          return out.length;
        },
      });
      const cost = async (n: number) => {
        const before = total(h!);
        expect(await (await task.runNoWait(n)).result()).toBe(n);
        return total(h!) - before;
      };
      const small = await cost(100);
      const large = await cost(1000);
      // One write per branch step plus a constant (measured on memory: items + 8): ten times the items, about
      // ten times the requests. Re-reading the journal per branch, or per settled branch, would be far above.
      expect(large).toBeLessThan(1000 * 1.5);
      expect(large / small).toBeLessThan(12);
    }, 120_000);
  });
}
