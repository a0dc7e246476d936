/**
 * The exact IAM actions each durable-tasks principal gets. Spelled out (never `service:*`, never a CDK grant
 * helper that adds more than the runtime calls) so the template shows least privilege at a glance and the infra
 * tests can assert it.
 */

/** Item operations the engine performs on the table (no Scan, no transactions: see ARCHITECTURE.md). */
export const TABLE_ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
] as const;

/** On the GSIs (sweep and listing indexes; event waiters are base-table items), reads are queries only. */
export const TABLE_INDEX_ACTIONS = ['dynamodb:Query'] as const;

/**
 * What starting and following a run needs: create it, read it back, follow its stream (`runs.subscribeToStream`:
 * GetItem and Query), cancel it (cancelling a parked run deletes its waiters and their key copies in BatchWriteItems). Measured by test/infra/recorded-grants.integration.test.ts.
 */
export const START_RUN_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'] as const;

/** What a sweep reads besides the sweep index: the candidate runs, in BatchGetItems. It writes no item. */
export const SWEEP_TABLE_ACTIONS = ['dynamodb:BatchGetItem'] as const;

/** What listing reads besides the listing indexes (keys only): the runs they name, in BatchGetItems. No Scan. */
export const LIST_RUN_ACTIONS = ['dynamodb:BatchGetItem'] as const;

/** Timers longer than SQS's 15-minute delay become one-time schedules; Or-groups delete the losers. */
export const SCHEDULE_WRITE_ACTIONS = ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'] as const;

/**
 * Managing cron schedules (`crons.create` / `crons.delete`): a cron's schedule is created, or replaced (deleted and
 * created) when it exists; deleted. Only schedules named `cron.*`.
 */
export const CRON_SCHEDULE_ACTIONS = ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'] as const;

/** What `crons.create / list / delete` does on the table: the cron items (partition `CRONS`) only. */
export const CRON_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem'] as const;
