/**
 * Crons on the table: one partition `CRONS`, one item per cron (sort key `CRON#<name>`), so `listCrons` is one
 * paginated Query and creating is one conditional put (a duplicate name fails the condition). Crons are few
 * (one item each, read once per tick and per list), so one partition is far from any throughput limit.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { CRON_PARTITION } from './env.ts';
import type { CronRecord, CronStore, RequestCounter } from '../../ports.ts';
import { countRequests } from './request-counter.ts';
import { PARTITION_KEY, SORT_KEY } from './table-schema.ts';

const SK_PREFIX = 'CRON#';

/** Options of {@link DynamoCronStore}. */
export interface DynamoCronStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** When given, the client is instrumented so every request is counted. */
  counter?: RequestCounter;
}

/**
 * @example
 * const crons = new DynamoCronStore({ client: new DynamoDBClient({}), tableName });
 * await crons.createCron({ name: 'hourly-eu', task: 'report', expression: '0 * * * *', input: '{}', createdAt: Date.now() });
 */
export class DynamoCronStore implements CronStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;

  constructor(options: DynamoCronStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    if (options.counter) countRequests(this.client, options.counter);
  }

  async createCron(cron: CronRecord): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toItem(cron),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async putCron(cron: CronRecord): Promise<void> {
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: toItem(cron) }));
  }

  async getCron(name: string): Promise<CronRecord | undefined> {
    const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key(name), ConsistentRead: true }));
    return Item ? fromItem(unmarshall(Item)) : undefined;
  }

  async listCrons(): Promise<CronRecord[]> {
    const crons: CronRecord[] = [];
    let start: Record<string, any> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          ExpressionAttributeValues: { ':pk': { S: CRON_PARTITION } },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) crons.push(fromItem(unmarshall(item)));
      start = page.LastEvaluatedKey;
    } while (start);
    return crons;
  }

  async deleteCron(name: string): Promise<boolean> {
    const { Attributes } = await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: key(name), ReturnValues: 'ALL_OLD' }));
    return Attributes !== undefined;
  }
}

function key(name: string) {
  return { [PARTITION_KEY]: { S: CRON_PARTITION }, [SORT_KEY]: { S: `${SK_PREFIX}${name}` } };
}

function toItem(cron: CronRecord) {
  return { ...marshall({ ...cron }, { removeUndefinedValues: true }), ...key(cron.name) };
}

function fromItem(item: Record<string, unknown>): CronRecord {
  const cron: CronRecord = {
    name: String(item.name),
    task: String(item.task),
    expression: String(item.expression),
    input: String(item.input),
    createdAt: Number(item.createdAt),
  };
  if (item.declared === true) cron.declared = true;
  return cron;
}
