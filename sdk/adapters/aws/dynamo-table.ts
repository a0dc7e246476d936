/**
 * The one DynamoDB table every item family of the run store lives in (single-table layout, ARCHITECTURE.md): its
 * client and name, the store's clock and shard counts, and the request helpers the families share (paged Query,
 * BatchWriteItem and BatchGetItem with retries of unprocessed requests, conditional PutItem).
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  PutItemCommand,
  QueryCommand,
  type DynamoDBClient,
  type QueryCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { DurableError } from '../../core/errors.ts';
import type { Item } from './dynamo-items.ts';
import { isConditionalFailure } from './dynamo-put-first.ts';
import { PARTITION_KEY, SORT_KEY, type ShardCounts } from './table-schema.ts';

/** BatchWriteItem takes at most 25 requests. */
const BATCH_SIZE = 25;
/** BatchGetItem takes at most 100 keys. */
export const BATCH_GET_SIZE = 100;
const BATCH_ATTEMPTS = 8;

export class DynamoTable {
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
    /** Time source for TTL filtering. */
    readonly now: () => number,
    readonly shards: ShardCounts,
  ) {}

  /** Every item of a Query, following `LastEvaluatedKey` (each page is at most 1 MB). */
  async *query(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): AsyncGenerator<Item> {
    let start: Item | undefined;
    do {
      const page = await this.client.send(new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: start }));
      yield* page.Items ?? [];
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /** BatchWriteItem in chunks of 25, re-sending unprocessed requests with a short backoff. */
  async batchWrite(requests: WriteRequest[]): Promise<void> {
    for (let i = 0; i < requests.length; i += BATCH_SIZE) {
      let pending = requests.slice(i, i + BATCH_SIZE);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= BATCH_ATTEMPTS) {
          throw new DurableError(`DynamoDB left ${pending.length} waiter writes unprocessed after ${BATCH_ATTEMPTS} attempts (throttled); retry later`);
        }
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** attempt)));
        const { UnprocessedItems } = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = UnprocessedItems?.[this.tableName] ?? [];
      }
    }
  }

  /** The items of `keys` (eventually consistent, `attributes` only), re-asking for unprocessed keys. */
  async batchGet(keys: Item[], attributes: readonly string[]): Promise<Item[]> {
    const names = Object.fromEntries(attributes.map((a, i) => [`#p${i}`, a]));
    const items: Item[] = [];
    let pending = keys;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= BATCH_ATTEMPTS) throw new DurableError(`DynamoDB left ${pending.length} sweep reads unprocessed after ${BATCH_ATTEMPTS} attempts (throttled); the next sweep retries`);
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** attempt)));
      const { Responses, UnprocessedKeys } = await this.client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [this.tableName]: attributes.length
              ? { Keys: pending, ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names }
              : { Keys: pending },
          },
        }),
      );
      items.push(...(Responses?.[this.tableName] ?? []));
      pending = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return items;
  }

  async conditionalPut(
    item: Item,
    condition: string,
    names: Record<string, string>,
    values?: Record<string, Item[string]>,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ...(values && Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }
}

/** The primary key of an item. */
export function itemKey(pk: string, sk: string): Item {
  return { [PARTITION_KEY]: { S: pk }, [SORT_KEY]: { S: sk } };
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
