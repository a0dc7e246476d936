// Plain Node, no loader: the embedded default (dynalite + fauxqs) from the installed package, in its own state dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Durable } from 'durable-tasks';

const dir = mkdtempSync(join(tmpdir(), 'durable-consumer-'));
const durable = Durable.local({ dir });
const greet = durable.durableTask({
  name: 'greet',
  fn: async (input, ctx) => {
    const at = await ctx.step('when', () => new Date(0));
    await ctx.sleepFor('10ms');
    return { greeting: `Hello, ${input.name}`, at };
  },
});
const out = await greet.run({ name: 'Ada' });
await durable.close();
rmSync(dir, { recursive: true, force: true });
if (out.greeting !== 'Hello, Ada' || out.at !== '1970-01-01T00:00:00.000Z') throw new Error(`unexpected output ${JSON.stringify(out)}`);
console.log(`local.mjs: ${JSON.stringify(out)}`);
