/**
 * `npx tsx examples/record-histories.ts`: runs some examples on the test environment (virtual clock, so the
 * times are the same on every recording) and writes their exported histories to examples/histories/. The
 * examples' test (test/examples/histories.test.ts) replays them against the current code on every `npm test`,
 * so a change to an example that would break a run in flight fails CI. Re-record only when an incompatible
 * change is intended (and then patch the example instead, if real runs could be in flight).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTestEnvironment } from 'durable-tasks/testing';
import type { RunHistory } from 'durable-tasks';
import { defineExamples } from './definitions.ts';
import { APPROVAL } from './wait-for-event.ts';
import { NUDGE } from './or-group.ts';

const DIR = fileURLToPath(new URL('./histories/', import.meta.url));

export async function recordHistories(): Promise<Record<string, RunHistory>> {
  const env = await createTestEnvironment();
  try {
    const examples = defineExamples(env.durable);
    // In flight: parked on its sleep, as a deploy would find it.
    const sleeping = await examples.sleep.runNoWait({});
    await env.settle();
    const parked = await env.durable.runs.export(sleeping.runId);
    // Finished: parked on its event, then resumed by the one that matches.
    const approval = await examples.waitForEvent.runNoWait({ expenseId: 'exp-42' });
    await env.settle();
    await env.durable.events.push(APPROVAL, { expenseId: 'exp-42', approved: false, by: 'grace' });
    await env.durable.events.push(APPROVAL, { expenseId: 'exp-42', approved: true, by: 'ada' });
    await approval.result();
    // Finished: the event won the Or over the timer.
    const checkout = await examples.orGroup.runNoWait({ cartId: 'c-1' });
    await env.settle();
    await env.advanceTime('1s');
    await env.durable.events.push(NUDGE, { cartId: 'c-1' });
    await checkout.result();
    return {
      'sleeping-task.parked': parked,
      'await-approval.done': await env.durable.runs.export(approval.runId),
      'checkout-or-timeout.done': await env.durable.runs.export(checkout.runId),
    };
  } finally {
    await env.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(DIR, { recursive: true });
  for (const [name, history] of Object.entries(await recordHistories())) {
    writeFileSync(`${DIR}${name}.json`, `${JSON.stringify(history, null, 2)}\n`);
    console.log(`wrote examples/histories/${name}.json (${history.name}, ${history.status}, ${history.entries.length} operations)`);
  }
}
