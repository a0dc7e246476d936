/**
 * Durable.local keeps large payloads in its embedded S3 (fauxqs, objects written through to `<dir>/s3`), so a
 * run parked with a large input and step result resumes after a restart with both, read back from disk.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { Durable } from 'durable-tasks';

const dir = mkdtempSync(join(tmpdir(), 'durable-payloads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KIB = 1024;

function define(durable: Durable, log: string[]) {
  return durable.durableTask({
    name: 'big-local',
    fn: async (input: { blob: string }, ctx) => {
      const step = await ctx.step('load', async () => {
        log.push('load');
        return 's'.repeat(700 * KIB);
      });
      await ctx.sleepFor('2s');
      return { input: input.blob.length, step: step.length, out: 'o'.repeat(400 * KIB) };
    },
  });
}

test('a large input, step result and output round-trip on Durable.local and survive a restart (read back from disk)', async () => {
  const firstLog: string[] = [];
  const first = Durable.local({ dir, log: () => undefined });
  const ref = await define(first, firstLog).runNoWait({ blob: 'i'.repeat(1024 * KIB) });
  for (let i = 0; i < 100 && (await first.runs.get(ref.runId, { payloads: false })).status !== 'WAITING'; i++) await new Promise((r) => setTimeout(r, 50));
  expect(firstLog).toEqual(['load']);
  expect(first.metrics().requests['S3.PutObject']).toBe(2);
  await first.close();
  // The blobs are on disk under the state directory.
  expect(readdirSync(join(dir, 's3', 'durable-tasks-payloads'))).toHaveLength(2);

  const secondLog: string[] = [];
  const second = Durable.local({ dir, log: () => undefined });
  try {
    define(second, secondLog);
    const output = (await second.runs.get(ref.runId)).input as { blob: string };
    expect(output.blob.length).toBe(1024 * KIB);
    const result = await second.engine.runRef(ref.runId).result();
    expect(result).toEqual({ input: 1024 * KIB, step: 700 * KIB, out: 'o'.repeat(400 * KIB) });
    expect(secondLog).toEqual([]); // the step was not run again: its result came back from the embedded S3
    expect(second.metrics().requests['S3.GetObject']).toBeGreaterThanOrEqual(3);
    expect((await second.runs.list({ name: 'big-local' }))[0]!.outputBytes).toBeGreaterThan(400 * KIB);
  } finally {
    await second.close();
  }
  expect(existsSync(join(dir, 's3'))).toBe(true);
}, 60_000);
