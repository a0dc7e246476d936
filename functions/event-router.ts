/**
 * Lambda entry point of the event router: the EventBridge rule delivers each pushed durable-tasks event here; the
 * router resolves matching waiters, records the event for lookback, resumes the first run the event wakes (the
 * others are dispatched) and starts `onEvents` workflows.
 *
 * Thin on purpose: see functions/worker.ts for how `durable-tasks-user-entry` resolves.
 */
// The handler itself is the AWS module's (sdk/adapters/aws/lambda/handlers.ts, `eventRouterHandler`), built on the user's worker.
import worker from 'durable-tasks-user-entry';

export const handler = worker.eventRouterHandler();
