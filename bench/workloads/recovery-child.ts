/**
 * Child process of W7. `start`: runs a task whose step 'b' never finishes (the parent kills this process
 * there). `restart`: opens the same directory; the run must be resumed and step 'b' run again. Prints
 * `STEP <name> <epoch ms>` when a step starts and `STARTED <epoch ms>` when the process began.
 */
import { Durable } from 'durable-tasks';

const [phase, dir] = process.argv.slice(2);
if ((phase !== 'start' && phase !== 'restart') || !dir) throw new Error('usage: recovery-child.ts start|restart <dir>');
process.stdout.write(`STARTED ${Math.round(performance.timeOrigin)}\n`);
const durable = Durable.local({ dir, log: () => undefined });
const task = durable.durableTask({
  name: 'w7-recovery',
  fn: async (_: {}, ctx) => {
    await ctx.step('a', async () => process.stdout.write(`STEP a ${Date.now()}\n`));
    await ctx.step('b', async () => {
      process.stdout.write(`STEP b ${Date.now()}\n`);
      if (phase === 'start') await new Promise(() => {});
    });
    return 'done';
  },
});
if (phase === 'start') {
  await task.runNoWait({});
} else {
  await durable.engine.backend();
  process.stdout.write(`READY ${Date.now()}\n`);
}
