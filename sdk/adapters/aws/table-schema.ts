/**
 * The DynamoDB table's key schema: attribute names, the sweep index and its projection. The CDK construct
 * (infra/) mirrors `TABLE_SCHEMA`; `createTableInput` (table-setup.ts) builds the same table for local use.
 * See ARCHITECTURE.md ("Single-table layout") for what each item holds.
 */
import { ENV, LIST_BY_NAME_INDEX, LIST_INDEX, SWEEP_INDEX } from './env.ts';

/** Partition key of every item (string). */
export const PARTITION_KEY = 'pk';
/** Sort key of every item (string). */
export const SORT_KEY = 'sk';
/** Partition key of the sweep index: `SWEEP#<shard>` (string), set on non-terminal runs only. */
export const SWEEP_INDEX_PARTITION_KEY = 'gsi2pk';
/** Sort key of the sweep index: epoch ms from which the sweeper should look at the run (number). */
export const SWEEP_INDEX_SORT_KEY = 'gsi2sk';
/** Partition key of the listing index of every run: `LIST#<shard>` (string), set once, on the run item's creation. */
export const LIST_INDEX_PARTITION_KEY = 'gsi3pk';
/** Partition key of the listing index by name: `NAME#<name>#<shard>` (string), set once, on creation. */
export const LIST_BY_NAME_INDEX_PARTITION_KEY = 'gsi4pk';
/** Sort key of both listing indexes: `<createdAt, 15 digits>#<runId>` (string): newest first when read backwards. */
export const LIST_INDEX_SORT_KEY = 'lsk';
/**
 * Partitions each listing index is spread over (by run id): 8 partitions take 8,000 run starts/s (a GSI partition
 * takes about 1,000 writes/s). Fixed: a reader reads every one of them.
 */
export const LIST_SHARDS = 8;
/** The DynamoDB TTL attribute (epoch seconds). Reads also filter on it, since TTL deletes late. */
export const TTL_ATTRIBUTE = 'ttl';
/**
 * Default number of shards of the sweep index (spreads run writes over partitions). `DURABLE_SWEEP_SHARDS`
 * (the construct's `sweepShards`) overrides it: see `shardCounts`.
 */
export const SWEEP_SHARDS = 4;
/**
 * Default number of partitions the event waiters of one key are spread over (`WAITKEY#<eventKey>#<shard>`
 * base-table items, shard = hash of the run id), so one hot key cannot throttle. The router reads every shard.
 * `DURABLE_WAITER_SHARDS` (the construct's `waiterShards`) overrides it: see `shardCounts`.
 */
export const WAITER_SHARDS = 4;

/** Shard counts of one store (from the environment, else the defaults above). */
export interface ShardCounts {
  waiter: number;
  sweep: number;
}

/**
 * The shard counts set in `env` (`DURABLE_WAITER_SHARDS`, `DURABLE_SWEEP_SHARDS`), else the defaults. Writers
 * and readers must agree, and a count may only grow: readers read shards 0 .. count - 1, so items written under a
 * smaller count are still read, while lowering it would hide the items of the shards dropped.
 */
export function shardCounts(env: Record<string, string | undefined> = process.env): ShardCounts {
  return { waiter: shardCount(env, ENV.waiterShards, WAITER_SHARDS), sweep: shardCount(env, ENV.sweepShards, SWEEP_SHARDS) };
}

/**
 * Default number of partitions the recorded events of one key are spread over (`EVT#<key>` for shard 0,
 * `EVT@<shard>#<key>` beyond; shard = sequence number modulo the count). One partition takes 1,000 WCU/s, as
 * many 1 KB events a second, and the key's sequence item caps a key at about that many pushes anyway, so 1 suffices
 * for events up to 1 KB; raise it for larger events on a hot key (README, "Capacity model").
 * `DURABLE_EVENT_SHARDS` (the construct's `eventShards`) overrides it: see `eventShardCount`.
 */
export const EVENT_SHARDS = 1;

/** The event-record shard count set in `env` (`DURABLE_EVENT_SHARDS`), else {@link EVENT_SHARDS}. Raise, never lower. */
export function eventShardCount(env: Record<string, string | undefined> = process.env): number {
  return shardCount(env, ENV.eventShards, EVENT_SHARDS);
}

function shardCount(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 1000) throw new Error(`${name} must be a whole number from 1 to 1000, got '${text}'`);
  return value;
}

/**
 * Run attributes `sweepCandidates` reads (BatchGetItem, after the keys-only sweep index named the runs):
 * what its callers need (the sweep predicate, the sweeper's age filter, `recover`). The index projects
 * none of them, so a lease, a heartbeat, any write that leaves the index key alone costs no index write.
 */
export const SWEEP_READ_ATTRIBUTES = [
  'runId',
  'name',
  'status',
  'createdAt',
  'updatedAt',
  'attempt',
  'wake',
  'seen',
  'leaseUntil',
  'wakeAt',
  TTL_ATTRIBUTE,
] as const;

export { LIST_BY_NAME_INDEX, LIST_INDEX, SWEEP_INDEX };

/** A key attribute and its DynamoDB scalar type. */
export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}

/** Which attributes an index copies: every one, the keys plus `nonKeyAttributes`, or the keys only. */
export type IndexProjection = { type: 'ALL' } | { type: 'INCLUDE'; nonKeyAttributes: readonly string[] } | { type: 'KEYS_ONLY' };

/** A global secondary index of the table. */
export interface IndexSchema {
  indexName: string;
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  projection: IndexProjection;
}

/**
 * The whole table description, for the CDK construct to mirror (billing mode PAY_PER_REQUEST). Three
 * indexes, all KEYS_ONLY: the sweep index and the two listing indexes (every run; by name), whose keys are set
 * once when a run is created, so a status change writes no index entry. Event waiters are found through base-table items instead (`WAITKEY#...`, see
 * dynamo-keys.ts), because the router needs a strongly consistent read and a GSI cannot give one.
 *
 * @example
 * new dynamodb.Table(this, 'Table', {
 *   partitionKey: { name: TABLE_SCHEMA.partitionKey.name, type: dynamodb.AttributeType.STRING },
 *   sortKey: { name: TABLE_SCHEMA.sortKey.name, type: dynamodb.AttributeType.STRING },
 *   timeToLiveAttribute: TABLE_SCHEMA.timeToLiveAttribute,
 * });
 */
export const TABLE_SCHEMA = {
  partitionKey: { name: PARTITION_KEY, type: 'S' },
  sortKey: { name: SORT_KEY, type: 'S' },
  timeToLiveAttribute: TTL_ATTRIBUTE,
  globalSecondaryIndexes: [
    {
      indexName: SWEEP_INDEX,
      partitionKey: { name: SWEEP_INDEX_PARTITION_KEY, type: 'S' },
      sortKey: { name: SWEEP_INDEX_SORT_KEY, type: 'N' },
      projection: { type: 'KEYS_ONLY' },
    },
    {
      indexName: LIST_INDEX,
      partitionKey: { name: LIST_INDEX_PARTITION_KEY, type: 'S' },
      sortKey: { name: LIST_INDEX_SORT_KEY, type: 'S' },
      projection: { type: 'KEYS_ONLY' },
    },
    {
      indexName: LIST_BY_NAME_INDEX,
      partitionKey: { name: LIST_BY_NAME_INDEX_PARTITION_KEY, type: 'S' },
      sortKey: { name: LIST_INDEX_SORT_KEY, type: 'S' },
      projection: { type: 'KEYS_ONLY' },
    },
  ],
} as const satisfies {
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  timeToLiveAttribute: string;
  globalSecondaryIndexes: readonly IndexSchema[];
};
