/** The smallest durable task: no waits, just a checkpointed result. */
import type { Durable } from 'durable-tasks';

export function defineSimple(durable: Durable) {
  return durable.durableTask({
    name: 'simple-durable',
    executionTimeout: '10m',
    fn: async (input: { name?: string }) => ({ result: `Hello, ${input.name ?? 'world'}!` }),
  });
}

export async function demoSimple(task: ReturnType<typeof defineSimple>, log: (line: string) => void) {
  const out = await task.run({ name: 'durable-tasks' });
  log(`simple-durable → ${JSON.stringify(out)}`);
  return out;
}
