/**
 * The embedded default must not leave a LevelDB iterator open per query: dynalite ends its streams with
 * `iterator.return()`, which abstract-level's iterators lacked (sdk/local/dynalite-iterators.ts). Before the fix
 * every run left about eight open for the life of the process (heap and RSS grew with every run in the soak).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryObjects } from 'node:v8';
import { afterAll, describe, expect, test } from 'vitest';
import { Durable } from 'durable-tasks';

const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
const { AbstractIterator, AbstractValueIterator, AbstractKeyIterator } = createRequire(fromDynalite.resolve('level'))('abstract-level') as Record<string, new () => object>;
/** Live iterators of dynalite's LevelDB (queryObjects collects garbage first). */
const openIterators = () => [AbstractIterator, AbstractValueIterator, AbstractKeyIterator].reduce((n, ctor) => n + (queryObjects(ctor!, { format: 'count' }) as number), 0);

const dir = mkdtempSync(join(tmpdir(), 'local-iterators-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Durable.local() and LevelDB iterators', () => {
  test('given runs that sleep and wait for events, when they finish, then no LevelDB iterator is left open', async () => {
    const durable = Durable.local({ dir, log: () => undefined });
    try {
      const task = durable.durableTask({
        name: 'iterates',
        fn: async (input: { i: number }, ctx) => {
          await ctx.sleepFor('10ms');
          return ctx.waitForEvent(`it:${input.i}`, '', { lookback: '1h' });
        },
      });
      const run = async (i: number) => {
        const ref = await task.runNoWait({ i });
        await durable.events.push(`it:${i}`, { i });
        expect(await ref.result()).toEqual({ i });
        await durable.runs.get(ref.runId);
      };
      await run(-1); // warm up
      const before = openIterators();
      for (let i = 0; i < 30; i++) await run(i);
      await new Promise((r) => setTimeout(r, 200));
      expect(openIterators() - before).toBeLessThan(10);
    } finally {
      await durable.close();
    }
  }, 120_000);
});
