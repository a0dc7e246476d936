/** A durable task that waits for an approval event; a CEL filter picks which events count. */
import type { Durable } from 'durable-tasks';

export const APPROVAL = 'expense:reviewed';

export function defineWaitForEvent(durable: Durable) {
  return durable.durableTask({
    name: 'await-approval',
    executionTimeout: '10m',
    fn: async (input: { expenseId: string }, ctx) => {
      const review = await ctx.waitForEvent<{ expenseId: string; approved: boolean; by: string }>(
        APPROVAL,
        `input.expenseId == "${input.expenseId}" && input.approved`,
      );
      return { expenseId: input.expenseId, approvedBy: review.by };
    },
  });
}

export async function demoWaitForEvent(task: ReturnType<typeof defineWaitForEvent>, durable: Durable, log: (line: string) => void) {
  const ref = await task.runNoWait({ expenseId: 'exp-42' });
  await waitForStatus(durable, ref.runId, 'WAITING');
  log(`await-approval ${ref.runId} is parked on '${APPROVAL}'`);
  await durable.events.push(APPROVAL, { expenseId: 'exp-7', approved: true, by: 'someone else' });
  await durable.events.push(APPROVAL, { expenseId: 'exp-42', approved: false, by: 'grace' });
  await durable.events.push(APPROVAL, { expenseId: 'exp-42', approved: true, by: 'ada' });
  const out = await ref.result();
  log(`await-approval → ${JSON.stringify(out)} (two non-matching events were ignored)`);
  return out;
}

/** Polls until a run reaches `status` (demos push events only once the run is parked). */
export async function waitForStatus(durable: Durable, runId: string, status: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await durable.runs.get(runId);
    if (run.status === status) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} is ${run.status}, not ${status}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
