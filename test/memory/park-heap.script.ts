/**
 * Child-process script for test/memory/parked-runs.test.ts (run with `node --expose-gc --import tsx`): parks N runs
 * with a 50 KB input each (plus a 50 KB user local) and prints one JSON line:
 *   perRunBytes            heap growth after GC per parked run, the client still open
 *   collectedInputs        how many of the decoded inputs the user fn saw were garbage-collected meanwhile
 *   afterClosePerRunBytes  heap growth per run after `close()` with every reference to the client dropped
 * argv: <mode: test|local> <runs> <kind: event|sleep>
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Durable } from '../../sdk/index.ts';
import { createTestEnvironment } from '../../sdk/testing/index.ts';

const [mode = 'test', runsArg = '200', kind = 'event'] = process.argv.slice(2);
const runs = Number(runsArg);
const WARM_UP = 50;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setImmediate(r));
    gc!();
  }
  return process.memoryUsage().heapUsed;
}

const collected = { count: 0 };
const registry = new FinalizationRegistry(() => collected.count++);
const big = (i: number) => ({ i, blob: `${i}:`.padEnd(50_000, 'x') });

async function parkRuns(dir: string | undefined): Promise<{ before: number; after: number }> {
  const env = mode === 'test' ? await createTestEnvironment() : undefined;
  const durable = env ? env.durable : Durable.local({ dir, log: () => undefined });
  let parkedNow = 0;
  const task = durable.durableTask({
    name: 'park-heap',
    fn: async (input: { i: number; blob: string }, ctx) => {
      registry.register(input, input.i);
      const local = { copy: [...input.blob].reverse().join('') }; // a user local the continuation holds
      parkedNow++;
      if (kind === 'sleep') await ctx.sleepFor('1h');
      else await ctx.waitForEvent(`park:${input.i}`);
      return local.copy.length;
    },
  });
  const parked = async (target: number) => {
    if (env) return env.settle();
    for (let t = 0; t < 30_000 && parkedNow < target; t++) await new Promise((r) => setTimeout(r, 20));
    if (parkedNow < target) throw new Error(`only ${parkedNow} of ${target} runs reached their wait`);
    await new Promise((r) => setTimeout(r, 1000)); // the last replays record their park
  };
  // Warm up (code, caches, the SQS queue), then measure.
  for (let i = 0; i < WARM_UP; i++) await task.runNoWait(big(-1 - i));
  await parked(WARM_UP);
  const before = await heapAfterGc();
  for (let i = 0; i < runs; i++) await task.runNoWait(big(i));
  await parked(WARM_UP + runs);
  const after = await heapAfterGc();
  await durable.close();
  return { before, after };
}

const dir = mode === 'local' ? mkdtempSync(join(tmpdir(), 'park-heap-')) : undefined;
const { before, after } = await parkRuns(dir);
const afterClose = await heapAfterGc();
const perRun = (bytes: number) => Math.round(bytes / runs);
process.stdout.write(
  `${JSON.stringify({ mode, runs, kind, perRunBytes: perRun(after - before), collectedInputs: collected.count, afterClosePerRunBytes: perRun(afterClose - before) })}\n`,
);
if (dir) rmSync(dir, { recursive: true, force: true });
process.exit(0);
