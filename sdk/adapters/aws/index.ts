/**
 * The AWS adapters (DynamoDB, SQS, EventBridge Scheduler, EventBridge). Internal to the package:
 * sdk/index.ts decides what is public.
 */
export { createAwsBackend, createAwsBackendFromEnv, type AwsBackendOptions } from './backend.ts';
export { DynamoRunStore, type DynamoRunStoreOptions } from './dynamo-store.ts';
export { EventBridgeBus, MAX_EVENT_KEY_LENGTH, parseEventBridgeEvent, type EventBridgeBusOptions } from './eventbridge-bus.ts';
export { InvalidEventError } from './invalid-event-error.ts';
export { InMemoryRequestCounter, REQUEST_COUNTER_MIDDLEWARE, countRequests, operationName } from './request-counter.ts';
export { SqsDispatcher, delaySecondsFor, type SqsDispatcherOptions } from './sqs-dispatcher.ts';
export { dispatchBody, parseDispatchBody } from '../../core/dispatch-message.ts';
export {
  PARTITION_KEY,
  SORT_KEY,
  SWEEP_INDEX,
  SWEEP_INDEX_PARTITION_KEY,
  SWEEP_INDEX_SORT_KEY,
  SWEEP_READ_ATTRIBUTES,
  SWEEP_SHARDS,
  TABLE_SCHEMA,
  TTL_ATTRIBUTE,
  WAITER_SHARDS,
} from './table-schema.ts';
export { createTableInput, ensureTable } from './table-setup.ts';
export { AwsTimers, atExpression, scheduleName, type AwsTimersOptions } from './timers.ts';
