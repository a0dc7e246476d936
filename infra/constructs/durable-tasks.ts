import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createAlarms } from './alarms.ts';
import type { DurableTasksProps } from './durable-tasks-props.ts';
import { runtimeEnvironment } from './environment.ts';
import { createFunctions } from './functions.ts';
import * as grants from './grants.ts';
import { addShellExportsOutput } from './outputs.ts';
import { createPayloadBucket } from './payload-bucket.ts';
import { createQueues } from './queues.ts';
import { createScheduler } from './scheduler.ts';
import { resolveSettings } from './settings.ts';
import { createTable } from './table.ts';

/**
 * durable-tasks on AWS, in one construct: the table runs are checkpointed in, the dispatch queue (and its DLQ)
 * that wakes workers, the worker, event-router and sweeper functions, the event bus and its routing rule, the
 * Scheduler group and role for long timers, a one-minute sweep, and the alarms an operator needs.
 *
 * Least privilege throughout: each function has its own role with the exact actions it calls, on these resources
 * only; no managed policies.
 *
 * @example
 * const durable = new DurableTasks(this, 'Durable', { entry: 'src/worker.ts' });
 * durable.grantStart(apiFunction);   // apiFunction may now start runs (and gets the env vars to find them)
 * durable.grantPush(webhookFunction); // webhookFunction may now push events
 * durable.deadLetterQueueAlarm.addAlarmAction(new SnsAction(opsTopic));
 */
export class DurableTasks extends Construct {
  /** Runs, journals, waiters, recorded events and DAG task states (single-table layout, ARCHITECTURE.md). */
  readonly table: dynamodb.Table;
  /** Inputs, outputs and step results above 256 KiB (up to `maxPayloadBytes`), one object per payload. */
  readonly payloadBucket: s3.Bucket;
  /** The dispatch queue: each message asks a worker to replay one run. */
  readonly queue: sqs.Queue;
  /** Dispatch messages that failed `maxReceiveCount` times. */
  readonly deadLetterQueue: sqs.Queue;
  /** Pushed events the router could not handle after its retries (EventBridge and Lambda async failures). */
  readonly eventDeadLetterQueue: sqs.Queue;
  /** The bus events are pushed to (the one passed in, or a new one). */
  readonly eventBus: events.IEventBus;
  /** Routes durable-tasks events on {@link eventBus} to the event router. */
  readonly eventRule: events.Rule;
  /** Invokes the sweeper every minute. */
  readonly sweepRule: events.Rule;
  /** Holds the one-time schedules of timers longer than 15 minutes. */
  readonly scheduleGroup: scheduler.ScheduleGroup;
  /** The role EventBridge Scheduler assumes to deliver a fired timer: `sqs:SendMessage` on the queue, nothing more. */
  readonly schedulerRole: iam.Role;
  /** Replays runs: the dispatch queue's consumer. */
  readonly workerFunction: lambda.Function;
  /** Matches pushed events to waiting runs and starts `onEvents` workflows. */
  readonly eventRouterFunction: lambda.Function;
  /** Re-dispatches runs whose message was lost (ARCHITECTURE.md, flow step 8). */
  readonly sweeperFunction: lambda.Function;
  /** Fires when the dispatch dead-letter queue holds a message. */
  readonly deadLetterQueueAlarm: cloudwatch.Alarm;
  /** Fires when the event dead-letter queue holds an event. */
  readonly eventDeadLetterQueueAlarm: cloudwatch.Alarm;
  /** Fires when a worker invocation throws. */
  readonly workerErrorsAlarm: cloudwatch.Alarm;
  /** Fires when worker invocations are throttled. */
  readonly workerThrottlesAlarm: cloudwatch.Alarm;
  /** Fires when the oldest dispatch message is older than `queueAgeAlarmThreshold`. */
  readonly queueAgeAlarm: cloudwatch.Alarm;
  /** Every alarm above, to attach actions in one loop. */
  readonly alarms: readonly cloudwatch.Alarm[];
  /**
   * Every `DURABLE_*` environment variable `Durable.fromEnv()` reads (names from sdk/adapters/aws/env.ts `ENV`), as
   * set on the three functions and on Lambda grantees. Use it to configure anything else that runs a client or
   * `worker.start()` (a container, a CLI): the values are names and ARNs, not secrets; what a principal may do is
   * decided by its policy alone. The stack output `<id>ShellExports` (`DurableTasksShellExports` for the id
   * `DurableTasks`) holds the same as one `export ...` line to `eval` (plus `AWS_REGION`).
   */
  readonly environment: Readonly<Record<string, string>>;

  /**
   * @throws Error when `entry` does not exist, `durableSlots` is not an integer from 2 to 1000,
   *   `eventRouterConcurrency` is not an integer from 1 to 1000, `retention` is not
   *   a whole number of days (at least 1), `environment` sets a name the construct owns, `maxPayloadBytes` is not an
   *   integer from 1 to 512 MiB, or `waiterShards`, `sweepShards` or `eventShards` is not a whole number from 1 to
   *   1000 (settings.ts checks them all before anything is built).
   */
  constructor(scope: Construct, id: string, props: DurableTasksProps) {
    super(scope, id);
    const settings = resolveSettings(props);
    this.table = createTable(this, settings.removalPolicy);
    this.payloadBucket = createPayloadBucket(this, settings.removalPolicy, settings.retentionDays);
    ({ deadLetterQueue: this.deadLetterQueue, queue: this.queue, eventDeadLetterQueue: this.eventDeadLetterQueue } =
      createQueues(this, settings));
    this.eventBus = props.eventBus ?? new events.EventBus(this, 'EventBus');
    ({ scheduleGroup: this.scheduleGroup, schedulerRole: this.schedulerRole } = createScheduler(this, this.queue));
    this.environment = runtimeEnvironment(this, settings);
    addShellExportsOutput(this, this.environment);
    const { worker, router, sweeper, eventRule, sweepRule } = createFunctions(this, settings, this);
    [this.workerFunction, this.eventRouterFunction, this.sweeperFunction] = [worker.function, router.function, sweeper.function];
    [this.eventRule, this.sweepRule] = [eventRule, sweepRule];
    // Each grant of a wildcard resource acknowledges its own cdk-nag finding, beside the statement (nag.ts).
    grants.grantEngine(this, { worker, router, sweeper });
    ({
      deadLetterQueueAlarm: this.deadLetterQueueAlarm,
      eventDeadLetterQueueAlarm: this.eventDeadLetterQueueAlarm,
      workerErrorsAlarm: this.workerErrorsAlarm,
      workerThrottlesAlarm: this.workerThrottlesAlarm,
      queueAgeAlarm: this.queueAgeAlarm,
    } = createAlarms(this, this, settings.queueAgeAlarmThreshold));
    this.alarms = [this.deadLetterQueueAlarm, this.eventDeadLetterQueueAlarm, this.workerErrorsAlarm, this.workerThrottlesAlarm, this.queueAgeAlarm];
  }

  /**
   * Lets `grantee` push events: `events:PutEvents` on {@link eventBus}, limited to durable-tasks' source and
   * detail-type, and `dynamodb:UpdateItem` on the event keys' sequence items only (partition keys starting
   * `EVTSEQ#`: a push takes its place in its key's order there first). When `grantee` is a `lambda.Function`,
   * also sets the `DURABLE_*` environment variables on it (`DURABLE_EVENT_BUS_NAME` among them), so
   * `Durable.fromEnv().events.push(...)` works there as is.
   *
   * @returns the grants combined (two statements on the grantee's policy)
   * @example
   * durable.grantPush(webhookFunction);
   */
  grantPush(grantee: iam.IGrantable): iam.Grant {
    return grants.grantPush(this, grantee);
  }

  /**
   * Lets `grantee` call `durable.rateLimits.upsert`: `dynamodb:UpdateItem` on rate-limit items only (partition keys
   * starting `RATE#`, via `dynamodb:LeadingKeys`). Workers need no extra grant for flow control.
   * @example durable.grantRateLimits(adminFunction);
   */
  grantRateLimits(grantee: iam.IGrantable): iam.Grant {
    return grants.grantRateLimits(this, grantee);
  }

  /**
   * Lets `grantee` start, schedule, follow and cancel runs (`task.run`, `runNoWait`, `schedule`, `result()`,
   * `runs.get`, `runs.cancel`, `runs.subscribeToStream`: a GetItem and a Query per poll): get/query/put/update/batch-write on the items of runs and of their event-waiter key
   * copies only (partition keys starting `RUN#` or `WAITKEY#`, via `dynamodb:LeadingKeys`: cancelling a waiting run
   * deletes its waiters), `sqs:SendMessage` on the dispatch queue, creating and deleting schedules in the schedule
   * group (`schedule()` more than 15 minutes ahead; a cancelled run's pending long timer) and passing the
   * scheduler role to EventBridge Scheduler only. When `grantee` is a `lambda.Function`, also sets the `DURABLE_*`
   * environment variables on it (`DURABLE_TABLE_NAME` and `DURABLE_QUEUE_URL` among them) for `Durable.fromEnv()`.
   * It also allows listing runs (`runs.list`, see {@link grantList}); not pushing events (see {@link grantPush}).
   * test/infra/recorded-grants.integration.test.ts records what these calls send and checks it against this grant.
   *
   * @returns the grants combined (seven statements on the grantee's policy)
   * @example
   * durable.grantStart(apiFunction);
   */
  grantStart(grantee: iam.IGrantable): iam.Grant {
    return grants.grantStart(this, grantee);
  }

  /**
   * Lets `grantee` list runs (`runs.list`, `runs.iterate`, `durable runs list --aws`, a dashboard): Query on the two
   * listing indexes and BatchGetItem on run items (partition keys starting `RUN#`) only. No Scan. When `grantee` is
   * a `lambda.Function`, also sets the `DURABLE_*` environment variables on it.
   *
   * @returns the grants combined (two statements)
   * @example
   * durable.grantList(dashboardFunction);
   */
  grantList(grantee: iam.IGrantable): iam.Grant {
    return grants.grantList(this, grantee);
  }

  /**
   * Lets `grantee` manage crons (`durable.crons.create`, `list`, `delete`): get/query/put/delete on the cron items
   * only (partition `CRONS`, via `dynamodb:LeadingKeys`), create/update/get/delete the cron schedules (named
   * `cron.*`) in {@link scheduleGroup}, and pass {@link schedulerRole} to EventBridge Scheduler. When `grantee` is a
   * `lambda.Function`, also sets the `DURABLE_*` environment variables on it for `Durable.fromEnv()`.
   *
   * @returns the grants combined (three statements on the grantee's policy)
   * @example
   * durable.grantCrons(adminFunction);
   */
  grantCrons(grantee: iam.IGrantable): iam.Grant {
    return grants.grantCrons(this, grantee);
  }
}
