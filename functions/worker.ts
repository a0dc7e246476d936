/**
 * Lambda entry point of the worker: SQS dispatch messages (and cron ticks from EventBridge Scheduler) in,
 * `{ batchItemFailures }` out.
 *
 * Thin on purpose: the user's worker module holds the tasks. `durable-tasks-user-entry` names no real package: the
 * DurableTasks construct aliases it at bundle time to its `entry` prop (infra/constructs/bundling.ts); tsconfig
 * `paths` maps it to examples/worker.ts for type-checking.
 */
// The handler itself is the AWS module's (sdk/adapters/aws/lambda/handlers.ts, `sqsHandler`), built on the user's worker.
import worker from 'durable-tasks-user-entry';

export const handler = worker.lambdaHandler();
