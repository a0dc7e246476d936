// Plain Node, no loader: the test environment (virtual clock) from the installed package.
import { createTestEnvironment } from 'durable-tasks/testing';

const env = await createTestEnvironment();
const nap = env.durable.durableTask({ name: 'nap', fn: async (_input, ctx) => ctx.sleepFor('1h') });
const ref = await nap.runNoWait({});
await env.advanceTime('1h');
const out = await ref.result();
await env.close();
if (out.durationMs !== 3_600_000) throw new Error(`unexpected output ${JSON.stringify(out)}`);
console.log(`testing.mjs: ${JSON.stringify(out)}`);
