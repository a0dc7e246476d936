/**
 * Assembles the AWS ports into a Backend: from explicit clients and names, or from the environment
 * variables the `DurableTasks` construct sets (`Durable.fromEnv()`).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ENV } from './env.ts';
import { DurableError } from '../../core/errors.ts';
import type { Backend, Clock, RequestCounter } from '../../ports.ts';
import { RealClock } from '../shared/real-clock.ts';
import { DynamoRunStore } from './dynamo-store.ts';
import { EventBridgeBus } from './eventbridge-bus.ts';
import { InMemoryRequestCounter } from './request-counter.ts';
import { SqsDispatcher } from './sqs-dispatcher.ts';
import { AwsTimers } from './timers.ts';
import { SchedulerCronSchedules } from './cron-schedules.ts';
import { DynamoCronStore } from './dynamo-crons.ts';

/** Everything an AWS backend needs. Clients are instrumented for request counting. */
export interface AwsBackendOptions {
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  scheduler: SchedulerClient;
  eventBridge: EventBridgeClient;
  tableName: string;
  queueUrl: string;
  queueArn: string;
  eventBusName: string;
  scheduleGroup: string;
  schedulerRoleArn: string;
  /** @default the wall clock */
  clock?: Clock;
  /** @default a new InMemoryRequestCounter */
  counter?: RequestCounter;
}

/**
 * A Backend on DynamoDB, SQS, EventBridge Scheduler and EventBridge. `close()` destroys the clients.
 *
 * @example
 * const backend = createAwsBackend({ dynamodb, sqs, scheduler, eventBridge, tableName, queueUrl, queueArn,
 *   eventBusName, scheduleGroup, schedulerRoleArn });
 */
export function createAwsBackend(options: AwsBackendOptions): Backend {
  const clock = options.clock ?? new RealClock();
  const counter = options.counter ?? new InMemoryRequestCounter();
  const now = () => clock.now();
  const dispatcher = new SqsDispatcher({ client: options.sqs, queueUrl: options.queueUrl, counter });
  const store = new DynamoRunStore({ client: options.dynamodb, tableName: options.tableName, now, counter });
  return {
    store,
    flow: store.flow,
    dispatcher,
    timers: new AwsTimers({
      sqs: dispatcher,
      scheduler: options.scheduler,
      groupName: options.scheduleGroup,
      queueArn: options.queueArn,
      roleArn: options.schedulerRoleArn,
      now,
      counter,
    }),
    bus: new EventBridgeBus({ client: options.eventBridge, eventBusName: options.eventBusName, counter }),
    crons: new DynamoCronStore({ client: options.dynamodb, tableName: options.tableName, counter }),
    cronSchedules: new SchedulerCronSchedules({
      scheduler: options.scheduler,
      groupName: options.scheduleGroup,
      queueArn: options.queueArn,
      roleArn: options.schedulerRoleArn,
      counter,
    }),
    clock,
    counter,
    async close() {
      for (const client of [options.dynamodb, options.sqs, options.scheduler, options.eventBridge]) client.destroy();
    },
  };
}

/**
 * A Backend configured from the environment variables the `DurableTasks` construct sets (names in
 * sdk/adapters/aws/env.ts `ENV`). Region, credentials and endpoints come from the SDK's default chain, so
 * `AWS_ENDPOINT_URL` (LocalStack, dynalite, fauxqs) is honoured.
 *
 * @throws {DurableError} naming every missing variable.
 * @example
 * const backend = createAwsBackendFromEnv();
 */
export function createAwsBackendFromEnv(env: NodeJS.ProcessEnv = process.env): Backend {
  const names = [ENV.tableName, ENV.queueUrl, ENV.queueArn, ENV.eventBusName, ENV.scheduleGroup, ENV.schedulerRoleArn] as const;
  const missing = names.filter((name) => !env[name]);
  if (missing.length) {
    throw new DurableError(
      `Durable.fromEnv() needs the environment variables ${missing.join(', ')}; the DurableTasks construct sets them on the functions it grants access to`,
    );
  }
  const value = (name: (typeof names)[number]) => env[name]!;
  return createAwsBackend({
    dynamodb: new DynamoDBClient({}),
    sqs: new SQSClient({}),
    scheduler: new SchedulerClient({}),
    eventBridge: new EventBridgeClient({}),
    tableName: value(ENV.tableName),
    queueUrl: value(ENV.queueUrl),
    queueArn: value(ENV.queueArn),
    eventBusName: value(ENV.eventBusName),
    scheduleGroup: value(ENV.scheduleGroup),
    schedulerRoleArn: value(ENV.schedulerRoleArn),
  });
}
