import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
// The store's key schema, mirrored here so the table can never drift from what the AWS adapter writes.
import { TABLE_SCHEMA, type IndexProjection } from '../../sdk/adapters/aws/table-schema.ts';
import { grantCronAccess } from './cron-grants.ts';
import {
  ENV,
  EVENT_DETAIL_TYPE,
  EVENT_SEQUENCE_KEY_PREFIX,
  EVENT_SOURCE,
  LIST_BY_NAME_INDEX,
  LIST_INDEX,
  RATE_KEY_PREFIX,
  RUN_KEY_PREFIX,
  SWEEP_INDEX,
  WAITER_KEY_PREFIX,
} from '../../sdk/adapters/aws/env.ts';
import {
  LIST_RUN_ACTIONS,
  SCHEDULE_WRITE_ACTIONS,
  START_RUN_ACTIONS,
  SWEEP_TABLE_ACTIONS,
  TABLE_INDEX_ACTIONS,
  TABLE_ITEM_ACTIONS,
} from './access.ts';
import { deadLetterAlarm, functionMetricAlarm, queueAgeAlarm, redeliverEvents } from './alarms.ts';
import { FUNCTION_ENTRIES } from './bundling.ts';
import { DurableFunction } from './durable-function.ts';
import type { DurableTasksProps } from './durable-tasks-props.ts';
import { acknowledgeWildcardResource } from './nag.ts';
import { createPayloadBucket, grantPayloads } from './payload-bucket.ts';
import { addShellExportsOutput } from './outputs.ts';

const SCHEDULER_SERVICE = 'scheduler.amazonaws.com';

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
   *   a whole number of days (at least 1), or `environment` sets a name the construct owns.
   */
  constructor(scope: Construct, id: string, props: DurableTasksProps) {
    super(scope, id);
    const userEntry = resolve(props.entry);
    if (!existsSync(userEntry)) {
      throw new Error(`DurableTasks: entry ${userEntry} does not exist; pass the path of your worker module.`);
    }
    const durableSlots = props.durableSlots ?? 10;
    if (!Number.isInteger(durableSlots) || durableSlots < 2 || durableSlots > 1000) {
      throw new Error(`DurableTasks: durableSlots must be an integer from 2 to 1000 (SQS maxConcurrency), got ${durableSlots}.`);
    }
    const routerConcurrency = props.eventRouterConcurrency ?? durableSlots;
    if (!Number.isInteger(routerConcurrency) || routerConcurrency < 1 || routerConcurrency > 1000) {
      throw new Error(`DurableTasks: eventRouterConcurrency must be an integer from 1 to 1000, got ${routerConcurrency}.`);
    }
    const retentionDays = (props.retention ?? Duration.days(30)).toDays({ integral: false });
    if (!Number.isInteger(retentionDays) || retentionDays < 1) {
      throw new Error(`DurableTasks: retention must be a whole number of days, at least 1, got ${retentionDays}.`);
    }
    const owned = Object.keys(props.environment ?? {}).filter((name) => (Object.values(ENV) as string[]).includes(name));
    if (owned.length > 0) {
      throw new Error(`DurableTasks: environment cannot set ${owned.join(', ')}: the construct sets it.`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const workerTimeout = props.workerTimeout ?? Duration.minutes(1);

    this.table = this.createTable(removalPolicy);
    this.payloadBucket = createPayloadBucket(this, removalPolicy, retentionDays);
    const maxPayloadBytes = props.maxPayloadBytes ?? 32 * 1024 * 1024;
    if (!Number.isInteger(maxPayloadBytes) || maxPayloadBytes < 1 || maxPayloadBytes > 512 * 1024 * 1024) {
      throw new Error(`DurableTasks: maxPayloadBytes must be an integer from 1 to 536870912 (512 MiB), got ${maxPayloadBytes}.`);
    }

    // SSE-SQS, not KMS: same AES-256 at rest with no key policy to open to EventBridge, Scheduler and every
    // producer, and no KMS request per message.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's rule for Lambda event sources: at least 6 times the function timeout, plus the batching window.
      visibilityTimeout: Duration.seconds(workerTimeout.toSeconds() * 6 + (props.maxBatchingWindow?.toSeconds() ?? 0)),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
      removalPolicy,
    });
    this.eventDeadLetterQueue = new sqs.Queue(this, 'EventDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });

    this.eventBus = props.eventBus ?? new events.EventBus(this, 'EventBus');
    // Always deleted with the stack (deleting a group deletes its schedules): it holds only self-deleting timer
    // schedules, and a retained group would make the next deployment of this stack fail with AlreadyExists (its
    // name is derived from the construct path, so it is the same each time and unique per stack).
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'ScheduleGroup', { removalPolicy: RemovalPolicy.DESTROY });
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'Assumed by EventBridge Scheduler to deliver durable-tasks timers to the dispatch queue.',
      // Confused-deputy guard: only schedules of this account's durable-tasks group may assume it.
      assumedBy: new iam.ServicePrincipal(SCHEDULER_SERVICE, {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': Stack.of(this).account,
            'aws:SourceArn': this.scheduleGroup.scheduleGroupArn,
          },
        },
      }),
    });
    this.schedulerRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
    );

    this.environment = {
      [ENV.tableName]: this.table.tableName,
      [ENV.queueUrl]: this.queue.queueUrl,
      [ENV.queueArn]: this.queue.queueArn,
      [ENV.eventBusName]: this.eventBus.eventBusName,
      [ENV.scheduleGroup]: this.scheduleGroup.scheduleGroupName,
      [ENV.schedulerRoleArn]: this.schedulerRole.roleArn,
      [ENV.retentionDays]: String(retentionDays),
      [ENV.leaseSeconds]: String(workerTimeout.toSeconds() + 30),
      [ENV.waiterShards]: String(shardProp('waiterShards', props.waiterShards)),
      [ENV.sweepShards]: String(shardProp('sweepShards', props.sweepShards)),
      [ENV.payloadBucket]: this.payloadBucket.bucketName,
      [ENV.maxPayloadBytes]: String(maxPayloadBytes),
      [ENV.eventShards]: String(shardProp('eventShards', props.eventShards, 1)),
    };
    addShellExportsOutput(this, this.environment);
    const common = {
      userEntry,
      bundleAwsSdk: props.bundleAwsSdk ?? false,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      environment: { ...props.environment, ...this.environment },
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    };

    const worker = new DurableFunction(this, 'Worker', {
      ...common,
      description: 'durable-tasks worker: replays runs from the dispatch queue',
      handlerEntry: FUNCTION_ENTRIES.worker,
      timeout: workerTimeout,
      memorySize: props.workerMemorySize ?? 1024,
    });
    this.workerFunction = worker.function;
    this.workerFunction.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 10,
        maxBatchingWindow: props.maxBatchingWindow,
        maxConcurrency: durableSlots,
        reportBatchItemFailures: true,
      }),
    );
    this.grantRuntime(worker.role);
    this.grantReplay(worker.role);
    grantPayloads(this.payloadBucket, worker.role);

    // The router resumes the first run an event wakes itself (worker.eventRouterHandler): it replays user code,
    // so it gets the worker's limits and what a replay needs (schedules, passing the scheduler role, events).
    const router = new DurableFunction(this, 'EventRouter', {
      ...common,
      description: 'durable-tasks event router: resolves waiters matching pushed events, resumes the first woken run',
      handlerEntry: FUNCTION_ENTRIES.eventRouter,
      timeout: workerTimeout,
      memorySize: props.workerMemorySize ?? 1024,
      deadLetterQueue: this.eventDeadLetterQueue,
      // It replays runs outside the worker's durableSlots: its own cap (eventRouterConcurrency).
      reservedConcurrentExecutions: routerConcurrency,
    });
    this.eventRouterFunction = router.function;
    this.grantRuntime(router.role);
    this.grantReplay(router.role);
    grantPayloads(this.payloadBucket, router.role);
    this.eventRule = new events.Rule(this, 'EventRule', {
      description: 'Routes durable-tasks events to the event router.',
      eventBus: this.eventBus,
      eventPattern: { source: [EVENT_SOURCE], detailType: [EVENT_DETAIL_TYPE] },
      targets: [new targets.LambdaFunction(this.eventRouterFunction, { deadLetterQueue: this.eventDeadLetterQueue })],
    });

    const sweeper = new DurableFunction(this, 'Sweeper', {
      ...common,
      description: 'durable-tasks sweeper: re-dispatches runs whose message was lost',
      handlerEntry: FUNCTION_ENTRIES.sweeper,
      // Shorter than the sweep period, so sweeps seldom overlap (an overlap is harmless: dispatch is idempotent).
      timeout: Duration.seconds(50),
      memorySize: 512,
      // A failed sweep is not worth retrying: the next one starts within a minute.
      retryAttempts: 0,
    });
    this.sweeperFunction = sweeper.function;
    this.grantSweep(sweeper.role);
    this.sweepRule = new events.Rule(this, 'SweepRule', {
      description: 'Invokes the durable-tasks sweeper every minute.',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.sweeperFunction, { maxEventAge: Duration.minutes(1), retryAttempts: 2 })],
    });

    this.deadLetterQueueAlarm = deadLetterAlarm(
      this,
      'DeadLetterQueueAlarm',
      this.deadLetterQueue,
      'A dispatch message failed repeatedly and was moved to the dead-letter queue; its run may be stuck until the next sweep.',
    );
    this.eventDeadLetterQueueAlarm = deadLetterAlarm(
      this,
      'EventDeadLetterQueueAlarm',
      this.eventDeadLetterQueue,
      'A pushed event could not be routed; runs waiting for it were not woken.',
      redeliverEvents(this.eventRouterFunction.functionName),
    );
    this.workerErrorsAlarm = functionMetricAlarm(
      this,
      'WorkerErrorsAlarm',
      this.workerFunction.metricErrors(),
      'A worker invocation threw (a failed run does not: it is recorded). See the worker log group.',
    );
    this.workerThrottlesAlarm = functionMetricAlarm(
      this,
      'WorkerThrottlesAlarm',
      this.workerFunction.metricThrottles(),
      'Worker invocations were throttled: the account concurrency limit is reached (durableSlots cannot be met).',
    );
    this.queueAgeAlarm = queueAgeAlarm(
      this,
      'QueueAgeAlarm',
      this.queue,
      props.queueAgeAlarmThreshold ?? Duration.minutes(30),
    );
    this.alarms = [
      this.deadLetterQueueAlarm,
      this.eventDeadLetterQueueAlarm,
      this.workerErrorsAlarm,
      this.workerThrottlesAlarm,
      this.queueAgeAlarm,
    ];
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
    const put = this.grantPutEvents(grantee);
    const sequence = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${EVENT_SEQUENCE_KEY_PREFIX}*`] } },
    });
    setEnvironment(grantee, this.environment);
    return put.combine(sequence);
  }

  /**
   * Lets `grantee` call `durable.rateLimits.upsert`: `dynamodb:UpdateItem` on rate-limit items only (partition keys
   * starting `RATE#`, via `dynamodb:LeadingKeys`). Workers need no extra grant for flow control.
   * @example durable.grantRateLimits(adminFunction);
   */
  grantRateLimits(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RATE_KEY_PREFIX}*`] } },
    });
    setEnvironment(grantee, this.environment);
    return grant;
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
    const items = iam.Grant.addToPrincipal({
      grantee,
      actions: [...START_RUN_ACTIONS],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RUN_KEY_PREFIX}*`, `${WAITER_KEY_PREFIX}*`] } },
    });
    const send = iam.Grant.addToPrincipal({ grantee, actions: ['sqs:SendMessage'], resourceArns: [this.queue.queueArn] });
    const schedules = iam.Grant.addToPrincipal({ grantee, actions: [...SCHEDULE_WRITE_ACTIONS], resourceArns: [this.schedulesArn()] });
    const pass = iam.Grant.addToPrincipal({
      grantee,
      actions: ['iam:PassRole'],
      resourceArns: [this.schedulerRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': SCHEDULER_SERVICE } },
    });
    const policy = grantee.grantPrincipal instanceof iam.Role ? grantee.grantPrincipal : undefined;
    if (policy) this.acknowledgeSchedules(policy);
    // A large input is put before the run item; result() and runs.get read a large output.
    const payloads = grantPayloads(this.payloadBucket, grantee);
    setEnvironment(grantee, this.environment);
    return items.combine(send).combine(schedules).combine(pass).combine(payloads).combine(this.grantList(grantee));
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
    const indexes = iam.Grant.addToPrincipal({
      grantee,
      actions: [...TABLE_INDEX_ACTIONS],
      resourceArns: [LIST_INDEX, LIST_BY_NAME_INDEX].map((index) => `${this.table.tableArn}/index/${index}`),
    });
    const runs = iam.Grant.addToPrincipal({
      grantee,
      actions: [...LIST_RUN_ACTIONS],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RUN_KEY_PREFIX}*`] } },
    });
    setEnvironment(grantee, this.environment);
    return indexes.combine(runs);
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
    const grant = grantCronAccess(grantee, this);
    setEnvironment(grantee, this.environment);
    return grant;
  }

  private createTable(removalPolicy: RemovalPolicy): dynamodb.Table {
    const attribute = (key: { name: string; type: 'S' | 'N' }): dynamodb.Attribute => ({
      name: key.name,
      type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
    });
    // AWS::DynamoDB::Table rather than TableV2's GlobalTable: single-region, and what LocalStack deploys faithfully.
    const table = new dynamodb.Table(this, 'Table', {
      partitionKey: attribute(TABLE_SCHEMA.partitionKey),
      sortKey: attribute(TABLE_SCHEMA.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The AWS managed key (aws/dynamodb): KMS-backed and audited in CloudTrail, with nothing to manage and no
      // key grants: its policy admits every principal this account lets use DynamoDB.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TABLE_SCHEMA.timeToLiveAttribute,
      removalPolicy,
    });
    for (const index of TABLE_SCHEMA.globalSecondaryIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
        ...projectionOf(index.projection),
      });
    }
    return table;
  }

  /**
   * What replaying user code needs besides the runtime grants: create and delete its schedules (sleeps over
   * 15 minutes; an Or-group's winner cancels the loser's timer), pass the scheduler role to Scheduler only, and
   * push durable-tasks events (`durable.events.push` inside a task).
   */
  private grantReplay(role: iam.Role): void {
    this.grantSchedules(role, SCHEDULE_WRITE_ACTIONS);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': SCHEDULER_SERVICE } },
      }),
    );
    this.grantPutEvents(role);
  }

  /** What the worker and the router need: the engine's item operations, index queries, dispatching. */
  private grantRuntime(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...TABLE_ITEM_ACTIONS], resources: [this.table.tableArn] }),
    );
    this.grantIndexQueryAndDispatch(role);
  }

  /**
   * The sweeper only reads: the sweep index, then the candidate runs (BatchGetItem on `RUN#` items); then it
   * dispatches. It writes no item (test/infra/recorded-grants.integration.test.ts records what a sweep sends).
   */
  private grantSweep(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...SWEEP_TABLE_ACTIONS],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RUN_KEY_PREFIX}*`] } },
      }),
    );
    this.grantIndexQueryAndDispatch(role);
  }

  private grantIndexQueryAndDispatch(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...TABLE_INDEX_ACTIONS],
        // The sweep index only: the engine never lists runs (grantList does).
        resources: [`${this.table.tableArn}/index/${SWEEP_INDEX}`],
      }),
    );
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }));
  }

  private grantSchedules(role: iam.Role, actions: readonly string[]): void {
    role.addToPolicy(new iam.PolicyStatement({ actions: [...actions], resources: [this.schedulesArn()] }));
    this.acknowledgeSchedules(role);
  }

  /** Every schedule of this group: schedule names are per timer, so this is the narrowest resource IAM allows. */
  private schedulesArn(): string {
    return Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.scheduleGroup.scheduleGroupName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  private acknowledgeSchedules(scope: iam.Role): void {
    acknowledgeWildcardResource(
      scope,
      this.schedulesArn(),
      'Timer schedules are created at run time, one per timer, with generated names: the resource is every ' +
        "schedule in durable-tasks' own schedule group and nothing outside it.",
    );
  }

  private grantPutEvents(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['events:PutEvents'],
      resourceArns: [this.eventBus.eventBusArn],
      conditions: { StringEquals: { 'events:source': EVENT_SOURCE, 'events:detail-type': EVENT_DETAIL_TYPE } },
    });
  }
}

/** Sets env vars on a Lambda function grantee; other grantees (roles, users) configure themselves. */
function setEnvironment(grantee: iam.IGrantable, environment: Record<string, string>): void {
  if (!(grantee instanceof lambda.Function)) return;
  for (const [name, value] of Object.entries(environment)) grantee.addEnvironment(name, value);
}

/** A shard-count prop, checked (a whole number from 1 to 1000), or its default (4). */
function shardProp(name: string, value: number | undefined, fallback = 4): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > 1000) throw new Error(`DurableTasks: ${name} must be a whole number from 1 to 1000, got ${value}.`);
  return value;
}

/** The CDK form of a `TABLE_SCHEMA` index projection. */
function projectionOf(projection: IndexProjection): Pick<dynamodb.GlobalSecondaryIndexProps, 'projectionType' | 'nonKeyAttributes'> {
  switch (projection.type) {
    case 'INCLUDE':
      return { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...projection.nonKeyAttributes] };
    case 'KEYS_ONLY':
      return { projectionType: dynamodb.ProjectionType.KEYS_ONLY };
    case 'ALL':
      return { projectionType: dynamodb.ProjectionType.ALL };
  }
}
