/**
 * Lambda entry point of the sweeper: invoked every minute, it re-dispatches runs that lost their message
 * (QUEUED with no worker, RUNNING with an expired lease, WAITING on a timer already due). Its first invocation in a
 * container (so within a minute of a deploy) also asks the worker, through the queue, to reconcile the declared
 * crons with their EventBridge Scheduler schedules (infra/README.md, "Cron").
 *
 * Thin on purpose: see functions/worker.ts for how `durable-tasks-user-entry` resolves.
 */
// The handler itself is the AWS module's (sdk/adapters/aws/lambda/handlers.ts, `sweeperHandler`), built on the user's worker.
import worker from 'durable-tasks-user-entry';

export const handler = worker.sweeperHandler();
