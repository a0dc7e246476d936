/**
 * A declared cron: `on: { cron }` starts one run per tick (UTC). Deployed with the example stack, the sweeper's
 * first invocation after `cdk deploy` creates its EventBridge Scheduler schedule; locally, the process running
 * the worker fires it.
 */
import type { Durable } from 'durable-tasks';

export function defineNightlyReport(durable: Durable) {
  return durable.task({
    name: 'nightly-report',
    on: { cron: '0 3 * * *' },
    fn: async (_input: unknown, ctx) => {
      ctx.log.info('nightly report', { runId: ctx.runId });
      return { reportedAt: new Date().toISOString() };
    },
  });
}
