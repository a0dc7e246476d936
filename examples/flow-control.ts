/**
 * Flow control: one sync per user at a time, a shared partner-API rate limit, an urgent run ahead of the
 * backlog, and a webhook delivered twice that starts one run.
 */
import { ConcurrencyLimitStrategy, Priority, RateLimitDuration, type Durable } from 'durable-tasks';

const RELEASE_EVENT = 'flow-demo:release';

export function defineFlowControlExample(durable: Durable) {
  const order: string[] = [];
  const sync = durable.durableTask({
    name: 'sync-user',
    concurrency: { expression: 'input.userId', maxRuns: 1, limitStrategy: ConcurrencyLimitStrategy.GROUP_ROUND_ROBIN },
    rateLimits: [
      { staticKey: 'crm-api', units: 1 },
      { dynamicKey: 'input.userId', units: 1, limit: 10, duration: RateLimitDuration.MINUTE },
    ],
    defaultPriority: Priority.LOW,
    fn: async (input: { userId: string; label: string }, ctx) => {
      await ctx.step('call-crm', () => order.push(input.label));
      // The first sync parks until the demo lets it go: parked, it keeps its slot, and the others queue.
      if (input.label === 'u1-first') await ctx.waitForEvent(RELEASE_EVENT);
      return { synced: input.label };
    },
  });
  return { sync, order };
}

export async function demoFlowControl(durable: Durable, example: ReturnType<typeof defineFlowControlExample>, log: (line: string) => void) {
  const { sync, order } = example;
  await durable.rateLimits.upsert({ key: 'crm-api', limit: 100, duration: RateLimitDuration.SECOND });
  // A webhook delivery id (unique per `npm start`: .durable/ keeps runs, and a key is honoured within retention).
  const delivery = `delivery-${Date.now()}`;
  const first = await sync.runNoWait({ userId: 'u1', label: 'u1-first' });
  const backlog = await sync.runNoWait({ userId: 'u1', label: 'u1-backlog' });
  const urgent = await sync.runNoWait({ userId: 'u1', label: 'u1-urgent' }, { priority: Priority.HIGH, idempotencyKey: delivery });
  const redelivered = await sync.runNoWait({ userId: 'u1', label: 'u1-urgent' }, { priority: Priority.HIGH, idempotencyKey: delivery });
  const other = await sync.runNoWait({ userId: 'u2', label: 'u2' });
  while ((await durable.runs.get(first.runId)).status !== 'WAITING') await new Promise((r) => setTimeout(r, 20));
  if (redelivered.runId !== urgent.runId) throw new Error('an idempotency key started a second run');
  const queued = await durable.runs.get(backlog.runId);
  log(`sync-user: u1's backlog run is ${queued.status}${queued.waitingFor ? ` (${queued.waitingFor})` : ''}; the redelivered start returned run ${urgent.runId.slice(0, 8)}`);
  await durable.events.push(RELEASE_EVENT, {});
  await Promise.all([first, backlog, urgent, other].map((r) => r.result()));
  const u1 = order.filter((label) => label.startsWith('u1'));
  if (JSON.stringify(u1) !== JSON.stringify(['u1-first', 'u1-urgent', 'u1-backlog'])) throw new Error(`u1 ran out of order: ${u1.join(', ')}`);
  log(`sync-user: u1 ran one at a time, urgent before backlog (${u1.join(' → ')}); u2 did not wait for u1`);
}
