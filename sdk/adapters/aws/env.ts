/**
 * Names shared by the runtime (`Durable.fromEnv()`, functions/, the AWS adapters), which owns them, and the CDK
 * construct, which imports them to set the environment and scope its grants. Neither side spells these strings
 * anywhere else; infra/ imports this file, never the reverse.
 */
export const ENV = {
  /** DynamoDB table holding runs, journals, waiters, events and DAG task states. */
  tableName: 'DURABLE_TABLE_NAME',
  /** SQS dispatch queue URL. */
  queueUrl: 'DURABLE_QUEUE_URL',
  /** SQS dispatch queue ARN (the Scheduler target). */
  queueArn: 'DURABLE_QUEUE_ARN',
  /** EventBridge bus name events are pushed to. */
  eventBusName: 'DURABLE_EVENT_BUS_NAME',
  /** EventBridge Scheduler schedule group for timers longer than 15 minutes. */
  scheduleGroup: 'DURABLE_SCHEDULE_GROUP',
  /** IAM role EventBridge Scheduler assumes to send to the dispatch queue. */
  schedulerRoleArn: 'DURABLE_SCHEDULER_ROLE_ARN',
  /** Days a finished run is kept before TTL deletes it. */
  retentionDays: 'DURABLE_RETENTION_DAYS',
  /** How long a worker's lease on a run lasts: the worker timeout plus a margin, so a timed-out worker's run is retaken soon. */
  leaseSeconds: 'DURABLE_LEASE_SECONDS',
  /** Partitions the event waiters of one key are spread over (`WAITKEY#<key>#<shard>`); raise it, never lower it. */
  waiterShards: 'DURABLE_WAITER_SHARDS',
  /** Partitions of the sweep index (`SWEEP#<shard>`); raise it, never lower it. */
  sweepShards: 'DURABLE_SWEEP_SHARDS',
  /** S3 bucket for inputs, outputs and step results above 256 KiB (absent: every payload stays at 256 KiB). */
  payloadBucket: 'DURABLE_PAYLOAD_BUCKET',
  /** The largest input, output or step result in bytes (`maxPayloadBytes`; default 32 MiB). */
  maxPayloadBytes: 'DURABLE_MAX_PAYLOAD_BYTES',
  /** Partitions the recorded events of one key are spread over (by sequence number); raise it, never lower it. */
  eventShards: 'DURABLE_EVENT_SHARDS',
} as const;

/**
 * How long past its retention a run's items may still be written to (sdk/core/run-scope.ts): the payload bucket's
 * lifecycle rule keeps blobs that long too, so no live item points at a deleted blob.
 */
export { IN_FLIGHT_SECONDS } from '../../core/run-scope.ts';

/** Key prefix of every large-payload blob in the payload bucket: `runs/<runId>/<sha256>`. */
export const PAYLOAD_KEY_PREFIX = 'runs/';

/**
 * Variables the embedded default (`Durable.local()`) reads, which `durable dev` sets for the entry it loads:
 * where state lives and the loopback ports its DynamoDB (dynalite) and SQS (fauxqs) listen on (a free port
 * when unset; SQS then starts on first use).
 */
export const LOCAL_ENV = {
  dir: 'DURABLE_DIR',
  dynamodbPort: 'DURABLE_DYNAMODB_PORT',
  sqsPort: 'DURABLE_SQS_PORT',
} as const;

/** The `source` of every EventBridge event durable-tasks pushes (and routes). */
export const EVENT_SOURCE = 'durable-tasks';
/** The `detail-type` of a pushed event. */
export const EVENT_DETAIL_TYPE = 'durable-tasks.event';
/** Name of the sweep GSI (runs that may need a nudge). */
export const SWEEP_INDEX = 'gsi2';
/** Name of the listing GSI of every run (`LIST#<shard>`, newest first): `runs.list()` without a name. */
export const LIST_INDEX = 'gsi3';
/** Name of the listing GSI by task or workflow name (`NAME#<name>#<shard>`, newest first): `runs.list({ name })`. */
export const LIST_BY_NAME_INDEX = 'gsi4';

/**
 * Module specifier the Lambda entry points (functions/) import the user's worker from. It names no real package:
 * the construct's bundler aliases it to the `entry` file the user passes, and tsconfig `paths` maps it to
 * examples/worker.ts for type-checking. functions/ must spell it literally (an import specifier cannot be a
 * constant); infra reads it from here.
 */
export const USER_ENTRY_MODULE = 'durable-tasks-user-entry';

/**
 * Prefix of every partition key the AWS store writes for a run (its item, journal, waiters, DAG task states):
 * `RUN#<runId>`. `grantStart` limits a grantee to these items with the `dynamodb:LeadingKeys` condition.
 */
export const RUN_KEY_PREFIX = 'RUN#';

/**
 * Prefix of the partition key of each event key's sequence item (`EVTSEQ#<key>`): `events.push` takes the
 * event's place in its key's order there (one UpdateItem), so `grantPush` allows UpdateItem on these items only.
 */
export const EVENT_SEQUENCE_KEY_PREFIX = 'EVTSEQ#';

/**
 * Prefix of the partition keys of event-waiter key copies, `WAITKEY#<eventKey>#<shard>`, which the router queries
 * and which cancelling a waiting run deletes: `grantStart` allows these leading keys too.
 */
export const WAITER_KEY_PREFIX = 'WAITKEY#';

/**
 * Flow control's partitions (sdk/adapters/aws/dynamo-flow.ts): a concurrency key's slot item and queue
 * `CONC#<task>#<key>`, a rate limit `RATE#<key>`. Workers write both; `grantRateLimits` allows `RATE#` only.
 */
export const CONCURRENCY_KEY_PREFIX = 'CONC#';
export const RATE_KEY_PREFIX = 'RATE#';

/**
 * Partition key of the cron items (`crons.create`, declared crons after reconciling). `grantCrons` limits a
 * grantee's table access to this partition with `dynamodb:LeadingKeys`.
 */
export const CRON_PARTITION = 'CRONS';
