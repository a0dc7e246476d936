/**
 * The embedded default (dynalite + fauxqs, real clock): a sleep beside a slow step finishes right after the step.
 * Its timer fires while the step runs and its message finds the run leased; before the fix the run parked on a due
 * time that only the next sweep (5 s locally, a minute on AWS) acted on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { Durable } from 'durable-tasks';

test('Promise.all([sleepFor 1 s, a 2 s step]) on Durable.local() finishes right after the step, not a sweep later', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'durable-timer-'));
  const durable = Durable.local({ dir, log: () => undefined });
  try {
    const task = durable.durableTask({
      name: 'sleep-beside-slow-step',
      fn: async (_: object, ctx) => {
        const [slept, step] = await Promise.all([ctx.sleepFor('1s'), ctx.step('slow', () => new Promise<string>((r) => setTimeout(() => r('done'), 2_000)))]);
        return { slept: slept.durationMs, step };
      },
    });
    // A first run warms the servers up, so the second one measures the engine only.
    await task.run({});
    const started = Date.now();
    const out = await task.run({});
    const took = Date.now() - started;
    expect(out).toEqual({ slept: 1_000, step: 'done' });
    // 2 s of step plus a replay; a sweep-repaired wake-up takes ≥ 5 s.
    expect(took).toBeLessThan(4_000);
  } finally {
    await durable.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
