/** Wait for whichever comes first: a timer or an event. The result says which one fired. */
import { Or, SleepCondition, UserEventCondition, type Durable } from 'durable-tasks';
import { waitForStatus } from './wait-for-event.ts';

export const NUDGE = 'cart:checked-out';

export function defineOrGroup(durable: Durable) {
  return durable.durableTask({
    name: 'checkout-or-timeout',
    executionTimeout: '10m',
    fn: async (input: { cartId: string }, ctx) => {
      const thisCart = `input.cartId == ${JSON.stringify(input.cartId)}`;
      const fired = await ctx.waitFor(Or(new SleepCondition('2s', 'timeout'), new UserEventCondition(NUDGE, thisCart, 'checkout')));
      return { winner: Object.keys(fired)[0], fired };
    },
  });
}

export async function demoOrGroup(task: ReturnType<typeof defineOrGroup>, durable: Durable, log: (line: string) => void) {
  const byEvent = await task.runNoWait({ cartId: 'c-1' });
  const byTimer = await task.runNoWait({ cartId: 'c-2' });
  await waitForStatus(durable, byEvent.runId, 'WAITING');
  await durable.events.push(NUDGE, { cartId: 'c-1' });
  const [a, b] = await Promise.all([byEvent.result(), byTimer.result()]);
  log(`checkout-or-timeout → ${JSON.stringify(a)} and ${JSON.stringify(b)}`);
  return [a, b];
}
