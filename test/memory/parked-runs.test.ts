/**
 * A parked run must cost this process nothing once its replay suspended: its replayer, journal, input and the
 * user's locals are garbage (issue 13, item 1). Each case runs test/memory/park-heap.script.ts in a child process
 * with --expose-gc, which parks 300 runs with a 50 KB input (and a 50 KB user local) each.
 * Before the fix (one module-level never-settling promise) every parked continuation stayed reachable: about
 * 210 KB per run on the test environment and 165 KB on the embedded default.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUNS = 300;
const KB = 1024;
/** What the memory store itself keeps of a run beyond its input: the run item, waiters, the timer. */
const STORED_INPUT = 50_000;

interface Measured {
  perRunBytes: number;
  collectedInputs: number;
  afterClosePerRunBytes: number;
}

function measure(mode: 'test' | 'local', kind: 'event' | 'sleep'): Measured {
  const child = spawnSync(process.execPath, ['--expose-gc', '--no-warnings', '--import', 'tsx', 'test/memory/park-heap.script.ts', mode, String(RUNS), kind], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 150_000,
  });
  expect(child.status, `${child.stderr}`).toBe(0);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as Measured;
}

describe('parked runs are freed', () => {
  for (const kind of ['event', 'sleep'] as const) {
    test(`given ${RUNS} runs parked on ${kind === 'event' ? 'waitForEvent' : 'sleepFor'} in the test environment, then each costs ≤ 10 KB of heap beyond its stored input, and nothing after close`, () => {
      const m = measure('test', kind);
      // The memory store is the database here: it keeps each run's input (50 KB). Nothing else may stay.
      expect(m.perRunBytes).toBeLessThanOrEqual(STORED_INPUT + 10 * KB);
      expect(m.collectedInputs).toBeGreaterThanOrEqual(RUNS);
      expect(m.afterClosePerRunBytes).toBeLessThanOrEqual(10 * KB);
    }, 160_000);

    test(`given ${RUNS} runs parked on ${kind === 'event' ? 'waitForEvent' : 'sleepFor'} on Durable.local(), then each costs ≤ 10 KB of heap`, () => {
      const m = measure('local', kind);
      expect(m.perRunBytes).toBeLessThanOrEqual(10 * KB);
      expect(m.collectedInputs).toBeGreaterThanOrEqual(RUNS);
    }, 160_000);
  }
});
