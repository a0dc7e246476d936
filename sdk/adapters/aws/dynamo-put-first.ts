/**
 * The first-writer-wins write the journal and the stream chunks share: a PutItem that only creates, and for the
 * loser the item that won (from the failed condition, `ReturnValuesOnConditionCheckFailure`, or with a consistent
 * GetItem where that is not supported). One place decides what "won" means for every once-only item.
 */
import { GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DurableError } from '../../core/errors.ts';
import type { Item } from './dynamo-items.ts';
import { PARTITION_KEY, SORT_KEY } from './table-schema.ts';

/** DynamoDB's answer to a write whose condition did not hold. */
export function isConditionalFailure(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

/**
 * Writes `item` unless an item with its key exists. Returns `undefined` when this write won, else the item there.
 * @param what names the item in the error raised if it was neither written nor readable
 */
export async function putFirst(client: DynamoDBClient, tableName: string, item: Item, what: string): Promise<Item | undefined> {
  try {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return undefined;
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
    let existing = (error as { Item?: Item }).Item;
    if (!existing) {
      const key = { [PARTITION_KEY]: item[PARTITION_KEY]!, [SORT_KEY]: item[SORT_KEY]! };
      ({ Item: existing } = await client.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true })));
    }
    if (!existing) throw new DurableError(`internal: ${what} was neither written nor readable`);
    return existing;
  }
}
