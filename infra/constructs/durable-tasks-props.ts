import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';

/** Properties of {@link DurableTasks}. Everything but `entry` has a default suited to a first deployment. */
export interface DurableTasksProps {
  /**
   * Path of your worker module: a file that default-exports the worker `durable.worker(name, { workflows })`
   * returns. It is bundled (with everything it imports) into the worker, event-router and sweeper functions.
   * A relative path resolves against the current working directory (where `cdk` runs).
   *
   * @example 'src/worker.ts'
   */
  readonly entry: string;

  /**
   * How many worker invocations may replay runs at once: the SQS event source's `maxConcurrency`
   * (2 to 1000). Each invocation handles up to `batchSize` runs.
   *
   * @default 10
   */
  readonly durableSlots?: number;

  /**
   * Most event-router invocations at once: its reserved concurrency. The router resumes the first run each event
   * wakes inline (a replay of user code, outside the worker's `durableSlots`), so runs replay at most
   * `durableSlots + eventRouterConcurrency` at once. Events beyond the cap are not lost: EventBridge invokes the
   * router asynchronously, and Lambda retries throttled asynchronous invocations for up to 6 hours (then the event
   * dead-letter queue). Reserved concurrency comes out of the account's pool, which must keep 100 unreserved: on an
   * account with a low concurrency quota, lower this (1 to 1000).
   *
   * @default durableSlots
   */
  readonly eventRouterConcurrency?: number;

  /**
   * Worker function timeout: the longest one replay may run before the run's lease lapses and another worker
   * takes it over. The dispatch queue's visibility timeout is set to 6 times this (plus `maxBatchingWindow`).
   *
   * @default Duration.minutes(1)
   */
  readonly workerTimeout?: Duration;

  /**
   * Worker function memory in MiB (CPU grows with it).
   *
   * @default 1024
   */
  readonly workerMemorySize?: number;

  /**
   * Most dispatch messages one worker invocation receives.
   *
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * How long the SQS event source may wait to fill a batch before invoking the worker.
   *
   * @default - no batching window: the worker is invoked as soon as messages arrive
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * How long a finished run (and its journal) is kept before DynamoDB TTL deletes it. Whole days.
   *
   * @default Duration.days(30)
   */
  readonly retention?: Duration;

  /**
   * The EventBridge bus events are pushed to. Pass an existing bus to receive durable-tasks events that other
   * applications put on it; only events with durable-tasks' source and detail-type reach the router.
   *
   * @default - a new event bus
   */
  readonly eventBus?: events.IEventBus;

  /**
   * What happens to the stateful resources (table, queues, log groups) when they leave the stack. The schedule
   * group is always deleted with the stack: it only holds timer schedules that delete themselves once fired (and
   * whose runs are gone with a deleted table), and a retained group would make the next deployment of the same
   * stack fail with AlreadyExists.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Retention of each function's log group.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * How many times a dispatch message is received before it moves to the dead-letter queue.
   *
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * The queue-age alarm fires when the oldest dispatch message is older than this. Timers of up to 15 minutes
   * are delayed SQS messages, so keep it above 15 minutes.
   *
   * @default Duration.minutes(30)
   */
  readonly queueAgeAlarmThreshold?: Duration;

  /**
   * Instruction set of the three functions. Bundles are plain JavaScript, so either works.
   *
   * @default lambda.Architecture.ARM_64 (cheaper per GB-second)
   */
  readonly architecture?: lambda.Architecture;

  /**
   * Ship the AWS SDK inside the bundles, pinning the version the project was tested with, rather than use the
   * copy the nodejs22.x runtime provides (which AWS updates on its own schedule). Off by default: the worker
   * bundle is 167 KiB without it and 646 KiB with it, and a smaller bundle starts faster; the four clients used
   * (DynamoDB, SQS, Scheduler, EventBridge) are stable APIs the runtime's SDK has long supported.
   *
   * @default false
   */
  readonly bundleAwsSdk?: boolean;

  /**
   * Partitions the waiters of one event key are spread over (`WAITKEY#<key>#<shard>`): each takes about 1,000
   * waiter registrations/s, and the router reads every one per event (one Query per shard and page). Raise it for
   * keys with thousands of waits registering per second; never lower it on a deployed stack (waiters in the
   * dropped shards would not be found). Passed to the functions as `DURABLE_WAITER_SHARDS`.
   *
   * @default 4
   */
  readonly waiterShards?: number;

  /**
   * Partitions of the sweep index (`SWEEP#<shard>`): each takes about 1,000 run-state writes/s into the index.
   * 4 suits up to about 2,000 run starts/s (a run moves its sweep key about twice); raise it beyond. Never lower
   * it on a deployed stack. Passed to the functions as `DURABLE_SWEEP_SHARDS`.
   *
   * @default 4
   */
  readonly sweepShards?: number;

  /**
   * The largest input, output or step result, in bytes serialised. Above 256 KiB they are stored in the
   * construct's payload bucket (`payloadBucket`); above this, PayloadTooLargeError. Event payloads stay at
   * 256 KiB (EventBridge). Passed to the functions as `DURABLE_MAX_PAYLOAD_BYTES`. At most 512 MiB; mind the
   * functions' memory (a payload is held as a string while it is used).
   *
   * @default 33554432 (32 MiB)
   */
  readonly maxPayloadBytes?: number;

  /**
   * Partitions the recorded events of one key are spread over (`EVT#<key>`, then `EVT@<n>#<key>`; by sequence
   * number, so push order is kept exactly). One partition takes about 1,000 WCU/s: 1,000 events/s of up to 1 KB,
   * which is also about what the key's sequence item allows; raise it for larger events on a hot key (4 KB events:
   * 4). Each shard costs every event wait one Query more when it registers. Never lower it on a deployed stack.
   * Passed to the functions as `DURABLE_EVENT_SHARDS`.
   *
   * @default 1
   */
  readonly eventShards?: number;

  /**
   * Extra environment variables for the three functions (your tasks' configuration). Names the construct sets
   * itself (`DURABLE_*`) cannot be overridden.
   *
   * @default - none
   */
  readonly environment?: Record<string, string>;
}
