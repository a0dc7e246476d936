/**
 * The DynamoDB table's key schema: attribute names, index names and projections. The CDK construct
 * (infra/) mirrors `TABLE_SCHEMA`; `createTableInput` (table-setup.ts) builds the same table for local use.
 * See ARCHITECTURE.md ("Single-table layout") for what each item holds.
 */
import { SWEEP_INDEX, WAITER_INDEX, WAITER_SHARDS } from '../../../infra/constants.ts';

/** Partition key of every item (string). */
export const PARTITION_KEY = 'pk';
/** Sort key of every item (string). */
export const SORT_KEY = 'sk';
/** Partition key of the waiter index: `EVT#<eventKey>#<shard>` (string), set on event waiters only. */
export const WAITER_INDEX_PARTITION_KEY = 'gsi1pk';
/** Sort key of the waiter index: `<createdAt>#<runId>#<attempt>#<position>#<index>` (string). */
export const WAITER_INDEX_SORT_KEY = 'gsi1sk';
/** Partition key of the sweep index: `SWEEP#<shard>` (string), set on non-terminal runs only. */
export const SWEEP_INDEX_PARTITION_KEY = 'gsi2pk';
/** Sort key of the sweep index: epoch ms at which the sweeper should look at the run (number). */
export const SWEEP_INDEX_SORT_KEY = 'gsi2sk';
/** The DynamoDB TTL attribute (epoch seconds). Reads also filter on it, since TTL deletes late. */
export const TTL_ATTRIBUTE = 'ttl';
/** Number of shards of the sweep index (spreads run writes over partitions). */
export const SWEEP_SHARDS = 4;

export { SWEEP_INDEX, WAITER_INDEX, WAITER_SHARDS };

/** A key attribute and its DynamoDB scalar type. */
export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}

/** A global secondary index of the table. */
export interface IndexSchema {
  indexName: string;
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  /** Both indexes project every attribute: the router and the sweeper need whole items. */
  projection: 'ALL';
}

/**
 * The whole table description, for the CDK construct to mirror (billing mode PAY_PER_REQUEST).
 *
 * @example
 * new dynamodb.TableV2(this, 'Table', {
 *   partitionKey: { name: TABLE_SCHEMA.partitionKey.name, type: dynamodb.AttributeType.STRING },
 *   sortKey: { name: TABLE_SCHEMA.sortKey.name, type: dynamodb.AttributeType.STRING },
 *   timeToLiveAttribute: TABLE_SCHEMA.timeToLiveAttribute,
 *   globalSecondaryIndexes: TABLE_SCHEMA.globalSecondaryIndexes.map(...),
 * });
 */
export const TABLE_SCHEMA = {
  partitionKey: { name: PARTITION_KEY, type: 'S' },
  sortKey: { name: SORT_KEY, type: 'S' },
  timeToLiveAttribute: TTL_ATTRIBUTE,
  globalSecondaryIndexes: [
    {
      indexName: WAITER_INDEX,
      partitionKey: { name: WAITER_INDEX_PARTITION_KEY, type: 'S' },
      sortKey: { name: WAITER_INDEX_SORT_KEY, type: 'S' },
      projection: 'ALL',
    },
    {
      indexName: SWEEP_INDEX,
      partitionKey: { name: SWEEP_INDEX_PARTITION_KEY, type: 'S' },
      sortKey: { name: SWEEP_INDEX_SORT_KEY, type: 'N' },
      projection: 'ALL',
    },
  ],
} as const satisfies {
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  timeToLiveAttribute: string;
  globalSecondaryIndexes: readonly IndexSchema[];
};
