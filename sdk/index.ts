/**
 * durable-tasks: durable workflows for TypeScript on AWS serverless.
 * The public surface: the client, definitions, contexts, conditions and errors.
 */
export { Durable, type DurableOptions, type LocalOptions } from './durable.ts';
export type { TaskDefinition, WorkflowDefinition, RunRef, Backoff, TaskOptions, DurableTaskOptions, DagOptions, WorkflowOptions } from './core/definitions.ts';
export type { BranchSettled, Context, DurableContext, FanOutOptions, Jsonified, Logger, ParallelResults, StepOptions, WaitForEventOptions } from './core/context-types.ts';
export type { Duration } from './core/duration.ts';
export type { SubscribeOptions } from './core/stream-subscription.ts';
export { ConcurrencyLimitStrategy, RateLimitDuration, Priority, type ConcurrencyOptions, type RateLimitOptions, type FlowOptions } from './core/flow/options.ts';
export type { StartOptions } from './core/definitions.ts';
export {
  SleepCondition,
  UserEventCondition,
  ParentCondition,
  OrCondition,
  AndCondition,
  Or,
  And,
  type Condition,
  type ConditionObject,
  type EventConditionOptions,
} from './core/conditions.ts';
export {
  DurableError,
  NonDeterminismError,
  WaitTimeoutError,
  NonRetryableError,
  PayloadTooLargeError,
  InvalidExpressionError,
  InvalidDurationError,
  TaskNotFoundError,
  RunNotFoundError,
  RunCancelledError,
  ExecutionTimeoutError,
  InvalidDefinitionError,
} from './core/errors.ts';
export { CronAlreadyExistsError, CronNotFoundError } from './core/cron/errors.ts';
export { StepNotFoundError, RunNotForkableError } from './core/fork/errors.ts';
export type { ForkOptions } from './core/fork/fork.ts';
export type { RunFilter, BulkForkResult } from './core/fork/bulk.ts';
export type { Crons, CronView, CreateCronOptions, CronTarget } from './core/cron/service.ts';
export type { OnTrigger } from './core/cron/declared.ts';
// The worker with its Lambda handlers (the core's polling worker plus the AWS module's glue): see its module.
export { LambdaWorker as Worker, type LambdaWorkerOptions as WorkerOptions } from './adapters/aws/lambda/worker.ts';
export { useTracingApi } from './core/tracing.ts';
export type { RunDetails, RunSummary, OperationView } from './core/run-view.ts';
export type { RunStatus } from './ports.ts';
export { InvalidHistoryError } from './core/history/invalid-history-error.ts';
export type { RunHistory, HistoryEntry, HistoryError } from './core/history/format.ts';
