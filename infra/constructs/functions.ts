/**
 * The construct's three Lambda functions and what invokes them: the worker (the dispatch queue's consumer), the
 * event router (a rule on the bus) and the sweeper (a one-minute rule). Their permissions are added by grants.ts.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../sdk/adapters/aws/env.ts';
import { FUNCTION_ENTRIES } from './bundling.ts';
import { DurableFunction } from './durable-function.ts';
import type { DurableSettings } from './settings.ts';

/** What the functions are wired to. */
export interface FunctionSources {
  readonly queue: sqs.IQueue;
  readonly eventDeadLetterQueue: sqs.IQueue;
  readonly eventBus: events.IEventBus;
  /** The `DURABLE_*` variables every function gets (besides the user's `environment`). */
  readonly environment: Readonly<Record<string, string>>;
}

/** The three functions and the rules that invoke the router and the sweeper. */
export interface DurableFunctions {
  readonly worker: DurableFunction;
  readonly router: DurableFunction;
  readonly sweeper: DurableFunction;
  readonly eventRule: events.Rule;
  readonly sweepRule: events.Rule;
}

/** Creates `Worker`, `EventRouter`, `EventRule`, `Sweeper` and `SweepRule` in `scope`, in that order. */
export function createFunctions(scope: Construct, settings: DurableSettings, sources: FunctionSources): DurableFunctions {
  const common = {
    userEntry: settings.userEntry,
    bundleAwsSdk: settings.bundleAwsSdk,
    architecture: settings.architecture,
    environment: { ...settings.environment, ...sources.environment },
    logRetention: settings.logRetention,
    removalPolicy: settings.removalPolicy,
  };

  const worker = new DurableFunction(scope, 'Worker', {
    ...common,
    description: 'durable-tasks worker: replays runs from the dispatch queue',
    handlerEntry: FUNCTION_ENTRIES.worker,
    timeout: settings.workerTimeout,
    memorySize: settings.workerMemorySize,
  });
  worker.function.addEventSource(
    new SqsEventSource(sources.queue, {
      batchSize: settings.batchSize,
      maxBatchingWindow: settings.maxBatchingWindow,
      maxConcurrency: settings.durableSlots,
      reportBatchItemFailures: true,
    }),
  );

  // The router resumes the first run an event wakes itself (worker.eventRouterHandler): it replays user code,
  // so it gets the worker's limits and what a replay needs (grants.ts: schedules, passing the scheduler role, events).
  const router = new DurableFunction(scope, 'EventRouter', {
    ...common,
    description: 'durable-tasks event router: resolves waiters matching pushed events, resumes the first woken run',
    handlerEntry: FUNCTION_ENTRIES.eventRouter,
    timeout: settings.workerTimeout,
    memorySize: settings.workerMemorySize,
    deadLetterQueue: sources.eventDeadLetterQueue,
    // It replays runs outside the worker's durableSlots: its own cap (eventRouterConcurrency).
    reservedConcurrentExecutions: settings.routerConcurrency,
  });
  const eventRule = new events.Rule(scope, 'EventRule', {
    description: 'Routes durable-tasks events to the event router.',
    eventBus: sources.eventBus,
    eventPattern: { source: [EVENT_SOURCE], detailType: [EVENT_DETAIL_TYPE] },
    targets: [new targets.LambdaFunction(router.function, { deadLetterQueue: sources.eventDeadLetterQueue })],
  });

  const sweeper = new DurableFunction(scope, 'Sweeper', {
    ...common,
    description: 'durable-tasks sweeper: re-dispatches runs whose message was lost',
    handlerEntry: FUNCTION_ENTRIES.sweeper,
    // Shorter than the sweep period, so sweeps seldom overlap (an overlap is harmless: dispatch is idempotent).
    timeout: Duration.seconds(50),
    memorySize: 512,
    // A failed sweep is not worth retrying: the next one starts within a minute.
    retryAttempts: 0,
  });
  const sweepRule = new events.Rule(scope, 'SweepRule', {
    description: 'Invokes the durable-tasks sweeper every minute.',
    schedule: events.Schedule.rate(Duration.minutes(1)),
    targets: [new targets.LambdaFunction(sweeper.function, { maxEventAge: Duration.minutes(1), retryAttempts: 2 })],
  });

  return { worker, router, sweeper, eventRule, sweepRule };
}
