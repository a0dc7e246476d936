/**
 * The DynamoDB table's key schema: attribute names, the sweep index and its projection. The CDK construct
 * (infra/) mirrors `TABLE_SCHEMA`; `createTableInput` (table-setup.ts) builds the same table for local use.
 * See ARCHITECTURE.md ("Single-table layout") for what each item holds.
 */
import { SWEEP_INDEX } from '../../../infra/constants.ts';

/** Partition key of every item (string). */
export const PARTITION_KEY = 'pk';
/** Sort key of every item (string). */
export const SORT_KEY = 'sk';
/** Partition key of the sweep index: `SWEEP#<shard>` (string), set on non-terminal runs only. */
export const SWEEP_INDEX_PARTITION_KEY = 'gsi2pk';
/** Sort key of the sweep index: epoch ms from which the sweeper should look at the run (number). */
export const SWEEP_INDEX_SORT_KEY = 'gsi2sk';
/** The DynamoDB TTL attribute (epoch seconds). Reads also filter on it, since TTL deletes late. */
export const TTL_ATTRIBUTE = 'ttl';
/** Number of shards of the sweep index (spreads run writes over partitions). */
export const SWEEP_SHARDS = 4;
/**
 * Number of partitions the event waiters of one key are spread over (`WAITKEY#<eventKey>#<shard>` base-table
 * items, shard = hash of the run id), so one hot key cannot throttle. The router reads every shard.
 */
export const WAITER_SHARDS = 4;

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

export { SWEEP_INDEX };

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
 * The whole table description, for the CDK construct to mirror (billing mode PAY_PER_REQUEST). One index:
 * the sweep index. Event waiters are found through base-table items instead (`WAITKEY#...`, see
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
  ],
} as const satisfies {
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  timeToLiveAttribute: string;
  globalSecondaryIndexes: readonly IndexSchema[];
};
