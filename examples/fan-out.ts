/**
 * Bounded fan-out inside a run: `ctx.map` charges every order, at most two at a time, each branch with its own
 * checkpoints (a step, a sleep, a child run started with `task.run`); `ctx.parallel` runs two branches side by side.
 */
import type { Durable } from 'durable-tasks';

export function defineFanOut(durable: Durable) {
  // A plain task: called with `receipt.run(...)` inside a durable task, it becomes a checkpointed child.
  const receipt = durable.task({ name: 'send-receipt', fn: async (order: { id: string; cents: number }) => `receipt-${order.id}` });
  return durable.durableTask({
    name: 'charge-all',
    executionTimeout: '10m',
    fn: async (orders: { id: string; cents: number }[], ctx) => {
      const charged = await ctx.map(
        'charge',
        orders,
        async (order, branch) => {
          const charge = await branch.step('charge', () => ({ id: order.id, cents: order.cents, chargedAt: Date.now() }));
          await branch.sleepFor('1s'); // this branch parks alone; the others go on
          const sent = await receipt.run(order);
          return { id: charge.id, cents: charge.cents, receipt: sent };
        },
        { maxConcurrency: 2 },
      );
      const [total, count] = await ctx.parallel('summarise', [
        (b) => b.step('total', () => charged.reduce((sum, c) => sum + c.cents, 0)),
        (b) => b.step('count', () => charged.length),
      ]);
      return { charged, total, count };
    },
  });
}

export async function demoFanOut(task: ReturnType<typeof defineFanOut>, log: (line: string) => void) {
  const orders = [
    { id: 'o-1', cents: 1200 },
    { id: 'o-2', cents: 350 },
    { id: 'o-3', cents: 999 },
    { id: 'o-4', cents: 50 },
  ];
  const ref = await task.runNoWait(orders);
  log(`charge-all ${ref.runId}: ${orders.length} orders, at most 2 at a time`);
  const out = await ref.result();
  log(`charge-all → total ${out.total} over ${out.count} orders, receipts ${out.charged.map((c) => c.receipt).join(', ')}`);
  return out;
}
