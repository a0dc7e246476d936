/**
 * The AWS quotas the throttling simulation enforces: published defaults (us-east-1 where they differ by Region),
 * each with the error code AWS answers with and where it is published. Checked 2026-12-03.
 */

export interface Quota {
  /** What it limits, per second. */
  perSecond: number;
  /** What one unit is. */
  unit: string;
  /** The error AWS answers with past it (the SDK's retry strategy classes every one of these as throttling). */
  errorCode: string;
  /** Whether load scaling applies: per-account/table/region figures and partitions every run shares do, a run's own partition does not. */
  shared: boolean;
  source: string;
}

export const QUOTAS = {
  /** One DynamoDB partition (base table or index): 1,000 WCU/s. */
  dynamoPartitionWrite: {
    perSecond: 1_000,
    unit: 'WCU (1 KB write)',
    errorCode: 'ProvisionedThroughputExceededException',
    shared: true,
    source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html',
  },
  /** One DynamoDB partition: 3,000 RCU/s. */
  dynamoPartitionRead: {
    perSecond: 3_000,
    unit: 'RCU (4 KB strongly consistent read)',
    errorCode: 'ProvisionedThroughputExceededException',
    shared: true,
    source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html',
  },
  /** On-demand table-level throughput quota (per table, account default). */
  dynamoTableWrite: {
    perSecond: 40_000,
    unit: 'WRU',
    errorCode: 'RequestLimitExceeded',
    shared: true,
    source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode-max-throughput.html',
  },
  dynamoTableRead: {
    perSecond: 40_000,
    unit: 'RRU',
    errorCode: 'RequestLimitExceeded',
    shared: true,
    source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode-max-throughput.html',
  },
  /**
   * SQS standard queues: "a nearly unlimited number of API calls per second, per API action". No published
   * figure; the simulation sets none (Infinity) and the in-flight limit (about 120,000 per queue) is noted, not
   * enforced.
   */
  sqsStandard: {
    perSecond: Number.POSITIVE_INFINITY,
    unit: 'API call',
    errorCode: 'RequestThrottled',
    shared: true,
    source: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/DistributedQueues.html',
  },
  /** EventBridge PutEvents, per account and Region (us-east-1; us-east-2 2,400, smaller Regions less). */
  eventBridgePutEvents: {
    perSecond: 10_000,
    unit: 'PutEvents request',
    errorCode: 'ThrottlingException',
    shared: true,
    source: 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html',
  },
  /** EventBridge target invocations (us-east-1): past it invocations are delayed, not dropped. */
  eventBridgeInvocations: {
    perSecond: 18_750,
    unit: 'target invocation',
    errorCode: 'ThrottlingException',
    shared: true,
    source: 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html',
  },
  /** EventBridge Scheduler CreateSchedule (primary Regions; 250 elsewhere; earlier versions of the page said 1,000). */
  schedulerCreate: {
    perSecond: 5_000,
    unit: 'CreateSchedule request',
    errorCode: 'ThrottlingException',
    shared: true,
    source: 'https://docs.aws.amazon.com/scheduler/latest/UserGuide/scheduler-quotas.html',
  },
  /** EventBridge Scheduler target invocations (primary Regions): past it invocations are delayed. */
  schedulerInvocations: {
    perSecond: 1_000,
    unit: 'schedule invocation',
    errorCode: 'ThrottlingException',
    shared: true,
    source: 'https://docs.aws.amazon.com/scheduler/latest/UserGuide/scheduler-quotas.html',
  },
  /** Lambda concurrent executions per account and Region (a concurrency, not a rate). */
  lambdaConcurrency: {
    perSecond: 1_000,
    unit: 'concurrent execution',
    errorCode: 'TooManyRequestsException',
    shared: true,
    source: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
  },
} as const satisfies Record<string, Quota>;

export type QuotaName = keyof typeof QUOTAS;
