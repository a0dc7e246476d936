/**
 * `runs.list` reads an index, never a Scan: newest first, filtered by name and status, paged by a cursor that
 * never repeats or skips a run. Run on memory and on the aws adapters over dynalite + fauxqs.
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { Harness, HarnessFactory } from '../contract/harness.ts';

export function listIndexContract(name: string, make: HarnessFactory) {
  describe(`runs.list from an index: ${name}`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    test('pages newest first with a cursor, by name and by status, and sends no Scan', async () => {
      h = await make();
      const ok = h.durable.durableTask({ name: 'list-ok', fn: async (input: { n: number }) => input.n });
      const bad = h.durable.durableTask({
        name: 'list-bad',
        retries: 0,
        fn: async (input: { n: number }) => {
          throw new Error(`bad ${input.n}`);
        },
      });
      const started: { runId: string; name: string }[] = [];
      for (let n = 0; n < 23; n++) {
        const task = n % 3 === 0 ? bad : ok;
        started.push({ runId: (await task.runNoWait({ n })).runId, name: task.name });
        await h.advance(1_000); // distinct createdAt, and each run finishes
      }
      await h.settle();
      const newestFirst = [...started].reverse();
      const before = h.durable.metrics().requests;

      // Every run, 5 at a time, following the cursor.
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await h.durable.runs.list({ limit: 5, ...(cursor ? { cursor } : {}) });
        expect(page.length).toBeLessThanOrEqual(5);
        seen.push(...page.map((r) => r.runId));
        cursor = page.cursor;
        pages++;
      } while (cursor !== undefined);
      expect(seen).toEqual(newestFirst.map((r) => r.runId));
      expect(pages).toBeGreaterThanOrEqual(5);

      // By name, by status, both; the array form (no cursor) as before.
      const okRuns = newestFirst.filter((r) => r.name === 'list-ok').map((r) => r.runId);
      const badRuns = newestFirst.filter((r) => r.name === 'list-bad').map((r) => r.runId);
      expect((await h.durable.runs.list({ name: 'list-ok' })).map((r) => r.runId)).toEqual(okRuns);
      expect((await h.durable.runs.list({ status: 'FAILED' })).map((r) => r.runId)).toEqual(badRuns);
      expect((await h.durable.runs.list({ status: 'SUCCEEDED', name: 'list-bad' })).map((r) => r.runId)).toEqual([]);
      const firstTwo = await h.durable.runs.list({ name: 'list-bad', status: 'FAILED', limit: 2 });
      expect(firstTwo.map((r) => r.runId)).toEqual(badRuns.slice(0, 2));
      const rest = await h.durable.runs.list({ name: 'list-bad', status: 'FAILED', limit: 100, cursor: firstTwo.cursor! });
      expect(rest.map((r) => r.runId)).toEqual(badRuns.slice(2));
      expect(JSON.parse(JSON.stringify(firstTwo))).toHaveLength(2); // the cursor is not part of the JSON

      // The async iterator walks every page.
      const iterated: string[] = [];
      for await (const run of h.durable.runs.iterate({ status: 'SUCCEEDED', limit: 4 })) iterated.push(run.runId);
      expect(iterated).toEqual(okRuns);

      await expect(h.durable.runs.list({ cursor: 'not-a-cursor' })).rejects.toThrow(/invalid runs.list cursor/);

      const after = h.durable.metrics().requests;
      const scans = Object.entries(after).filter(([op]) => /Scan$/.test(op));
      expect(scans).toEqual([]);
      if (h.name !== 'memory') expect((after['DynamoDB.Query'] ?? 0) - (before['DynamoDB.Query'] ?? 0)).toBeGreaterThan(0);
    });
  });
}
