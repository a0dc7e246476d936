/**
 * `npm start`: runs every example end to end on the embedded default (dynalite + fauxqs in this process,
 * state under .durable/), printing progress, then a summary. No AWS account needed.
 */
import { Durable } from 'durable-tasks';
import { defineExamples } from './definitions.ts';
import { demoSimple } from './simple.ts';
import { demoSleep } from './sleep.ts';
import { demoWaitForEvent } from './wait-for-event.ts';
import { demoOrGroup } from './or-group.ts';
import { runDagExample } from './dag.ts';
import { defineFlowControlExample, demoFlowControl } from './flow-control.ts';
import { demoFanOut } from './fan-out.ts';

const started = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(2)}s] ${line}`);
const durable = Durable.local({ dir: process.env.DURABLE_DIR ?? '.durable', log: process.env.DURABLE_LOG ? (l) => console.log(JSON.stringify(l)) : () => undefined });
const examples = defineExamples(durable);
const flowControl = defineFlowControlExample(durable);

const demos: [string, () => Promise<unknown>][] = [
  ['simple durable task', () => demoSimple(examples.simple, log)],
  ['sleep', () => demoSleep(examples.sleep, log)],
  ['wait for event (CEL)', () => demoWaitForEvent(examples.waitForEvent, durable, log)],
  ['Or(sleep, event)', () => demoOrGroup(examples.orGroup, durable, log)],
  ['DAG with waitFor / skipIf', () => runDagExample(durable, log)],
  ['flow control (concurrency, rate limits, priority, idempotency)', () => demoFlowControl(durable, flowControl, log)],
  ['ctx.map / ctx.parallel fan-out', () => demoFanOut(examples.fanOut, log)],
];

log('starting the embedded engine (dynalite + fauxqs on loopback)');
const results = await Promise.allSettled(demos.map(([, run]) => run()));
console.log('\nsummary');
let failed = 0;
results.forEach((result, i) => {
  const ok = result.status === 'fulfilled';
  if (!ok) failed++;
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${demos[i]![0]}${ok ? '' : `: ${(result as PromiseRejectedResult).reason}`}`);
});
console.log(`  requests: ${JSON.stringify(durable.metrics().requests)}`);
console.log(`  ${demos.length - failed}/${demos.length} examples passed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
await durable.close();
process.exit(failed ? 1 : 0);
