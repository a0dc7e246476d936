/**
 * durable-tasks: durable workflows for TypeScript on AWS serverless.
 * The public surface: the client, definitions, contexts, conditions and errors.
 */
export { Durable, type DurableOptions, type LocalOptions } from './durable.ts';
export type { TaskDefinition, WorkflowDefinition, RunRef, Backoff, TaskOptions, DurableTaskOptions, DagOptions, WorkflowOptions } from './core/definitions.ts';
export type { BranchSettled, Context, DurableContext, FanOutOptions, Jsonified, Logger, ParallelResults, StepOptions, WaitForEventOptions } from './core/context-types.ts';
export type { Duration } from './core/duration.ts';
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
export type { Crons, CronView, CreateCronOptions, CronTarget } from './core/cron/service.ts';
export type { OnTrigger } from './core/cron/declared.ts';
export { Worker, type WorkerOptions } from './core/worker.ts';
export { useTracingApi } from './core/tracing.ts';
export type { RunDetails, RunSummary, OperationView } from './core/run-view.ts';
export type { RunStatus } from './ports.ts';
export { InvalidHistoryError } from './core/history/invalid-history-error.ts';
export type { RunHistory, HistoryEntry, HistoryError } from './core/history/format.ts';
