/**
 * The soak's long-lived process (run by soak.ts as `node --expose-gc --import tsx`): one `Durable.local()` with
 * its own state directory runs `runs` runs, `window` at a time. Each run sleeps, then waits for an event: half of
 * the events are pushed as the run starts (found by the wait's lookback), half a moment later (routed to the
 * parked wait). Every `sampleEvery` finished runs (or `sampleMs`, whichever first) it collects garbage and prints:
 *   sample <runsDone> <elapsedMs> <heapUsedBytes> <rssBytes>
 * and at the end `done <runsDone> <elapsedMs>`.
 * It starts no new run after `maxMs`.
 * argv: <dir> <runs> <window> <sampleEvery> [maxMs] [sampleMs]
 */
import { Durable } from '../../sdk/index.ts';

const [dir, runsArg, windowArg, everyArg, maxMsArg, sampleMsArg] = process.argv.slice(2);
const maxMs = Number(maxMsArg ?? Infinity);
const sampleMs = Number(sampleMsArg ?? Infinity);
const runs = Number(runsArg);
const window = Number(windowArg);
const sampleEvery = Number(everyArg);
const gc = (globalThis as { gc?: () => void }).gc;
if (!dir || !gc || !(runs > 0) || !(window > 0) || !(sampleEvery > 0)) throw new Error('usage: node --expose-gc --import tsx soak-child.ts <dir> <runs> <window> <sampleEvery>');

const durable = Durable.local({ dir, log: () => undefined });
const task = durable.durableTask({
  name: 'soak',
  fn: async (input: { i: number; pad: string }, ctx) => {
    await ctx.sleepFor('20ms');
    const event = await ctx.waitForEvent<{ i: number }>(`soak:${input.i}`, '', { lookback: '1h' });
    return event.i === input.i ? input.pad.length : -1;
  },
});

const pad = 'x'.repeat(2_000);
async function one(i: number): Promise<void> {
  const ref = await task.runNoWait({ i, pad });
  const key = `soak:${i}`;
  if (i % 2 === 0) await durable.events.push(key, { i });
  else setTimeout(() => void durable.events.push(key, { i }), 100);
  const out = await ref.result();
  if (out !== pad.length) throw new Error(`soak: run ${i} returned ${JSON.stringify(out)}`);
}

async function sample(done: number) {
  for (let k = 0; k < 3; k++) {
    await new Promise((r) => setImmediate(r));
    gc!();
  }
  const m = process.memoryUsage();
  process.stdout.write(`sample ${done} ${Math.round(performance.now() - started)} ${m.heapUsed} ${m.rss}\n`);
}

const started = performance.now();
let next = 0;
let done = 0;
let nextSample = sampleEvery;
let nextSampleAt = sampleMs;
await sample(0);
const lanes = Array.from({ length: Math.min(window, runs) }, async () => {
  while (next < runs && performance.now() - started < maxMs) {
    await one(next++);
    done++;
    if (done >= nextSample || performance.now() - started >= nextSampleAt) {
      nextSample = done + sampleEvery;
      nextSampleAt = performance.now() - started + sampleMs;
      await sample(done);
    }
  }
});
await Promise.all(lanes);
await sample(done);
process.stdout.write(`done ${done} ${Math.round(performance.now() - started)}\n`);
await durable.close();
process.exit(0);
