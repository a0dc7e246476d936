/**
 * Rerun from a step: a refund fails at its 'refund' step (the payment service is down); once it is fixed,
 * `durable.runs.fork(runId, { fromStep: 'refund' })` starts a new run of the current code that keeps what the
 * failed run recorded before that step (the order it loaded, the hour it waited) and re-executes from there.
 * The same from the command line: `durable runs fork RUN_ID --from-step refund`, or the dashboard's button.
 */
import type { Durable } from 'durable-tasks';

/** What ran, to show that the steps before the fork point ran once over both runs. */
export const forkEffects = { load: 0, refund: 0, notify: 0 };
let paymentServiceDown = true;

export function defineFork(durable: Durable) {
  return durable.durableTask({
    name: 'refund-order',
    retries: 0,
    fn: async (input: { orderId: string }, ctx) => {
      const order = await ctx.step('load', () => (forkEffects.load++, { id: input.orderId, cents: 1999 }));
      await ctx.sleepFor('50ms'); // a cooling-off period: kept by the fork, not waited again
      const refund = await ctx.step('refund', () => {
        forkEffects.refund++;
        if (paymentServiceDown) throw new Error('payment service unavailable');
        return { refunded: order.cents };
      });
      await ctx.step('notify', () => forkEffects.notify++);
      return { orderId: order.id, ...refund };
    },
  });
}

export async function demoFork(task: ReturnType<typeof defineFork>, durable: Durable, log: (line: string) => void) {
  const failed = await task.runNoWait({ orderId: 'o-77' });
  const error = await failed.result().then(
    () => undefined,
    (e: Error) => e,
  );
  if (!error) throw new Error('the first refund was meant to fail');
  log(`refund-order ${failed.runId} failed: ${error.message}`);
  paymentServiceDown = false; // the fix is deployed
  const fork = await durable.runs.fork(failed.runId, { fromStep: 'refund' });
  const out = await fork.result();
  const details = await durable.runs.get(fork.runId);
  log(`refund-order fork ${fork.runId} (forkedFrom ${String(details.metadata?.forkedFrom)}) → ${JSON.stringify(out)}; load ran ${forkEffects.load}x, refund ${forkEffects.refund}x over both runs`);
  if (forkEffects.load !== 1 || forkEffects.refund !== 2 || forkEffects.notify !== 1) throw new Error(`unexpected side effects ${JSON.stringify(forkEffects)}`);
  return out;
}
