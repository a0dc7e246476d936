/** A durable task that parks for a while: no worker slot is held while it sleeps. */
import type { Durable } from 'durable-tasks';

export const NAP = '2s';

export function defineSleep(durable: Durable) {
  return durable.durableTask({
    name: 'sleeping-task',
    executionTimeout: '10m',
    fn: async (_input: {}, ctx) => {
      ctx.log.info('going to sleep', { for: NAP });
      const slept = await ctx.sleepFor(NAP);
      ctx.log.info('woke up');
      return { status: 'rested', sleptMs: slept.durationMs };
    },
  });
}

export async function demoSleep(task: ReturnType<typeof defineSleep>, log: (line: string) => void) {
  const ref = await task.runNoWait({});
  log(`sleeping-task ${ref.runId} parked for ${NAP}`);
  const out = await ref.result();
  log(`sleeping-task → ${JSON.stringify(out)}`);
  return out;
}
