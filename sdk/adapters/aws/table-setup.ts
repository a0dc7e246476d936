/**
 * Creating the table outside CDK: for `Durable.local()` (dynalite) and tests. Production tables come from
 * the `DurableTasks` construct, which mirrors `TABLE_SCHEMA`.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type Projection,
} from '@aws-sdk/client-dynamodb';
import { DurableError } from '../../core/errors.ts';
import { TABLE_SCHEMA, type IndexProjection } from './table-schema.ts';

/**
 * The CreateTable request for a durable-tasks table: pk/sk strings, the sweep index (keys only), on-demand
 * billing. An existing table is left as it is (see `ensureTable`).
 *
 * @example
 * await client.send(new CreateTableCommand(createTableInput('durable-tasks')));
 */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const attributes = new Map<string, 'S' | 'N'>([
    [TABLE_SCHEMA.partitionKey.name, TABLE_SCHEMA.partitionKey.type],
    [TABLE_SCHEMA.sortKey.name, TABLE_SCHEMA.sortKey.type],
  ]);
  for (const index of TABLE_SCHEMA.globalSecondaryIndexes) {
    attributes.set(index.partitionKey.name, index.partitionKey.type);
    attributes.set(index.sortKey.name, index.sortKey.type);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: [
      { AttributeName: TABLE_SCHEMA.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: TABLE_SCHEMA.sortKey.name, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: TABLE_SCHEMA.globalSecondaryIndexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
      ],
      Projection: projectionOf(index.projection),
    })),
  };
}

function projectionOf(projection: IndexProjection): Projection {
  switch (projection.type) {
    case 'INCLUDE':
      return { ProjectionType: 'INCLUDE', NonKeyAttributes: [...projection.nonKeyAttributes] };
    case 'KEYS_ONLY':
      return { ProjectionType: 'KEYS_ONLY' };
    case 'ALL':
      return { ProjectionType: 'ALL' };
  }
}

/**
 * Creates the table if it does not exist, waits until it is ACTIVE, and enables TTL on a new table where
 * the service supports it (dynalite does not: reads filter expired items anyway).
 *
 * @param options.timeoutMs how long to wait for ACTIVE. @default 60000
 * @returns whether the table was created by this call.
 * @throws {DurableError} when the table is not ACTIVE within the timeout.
 * @example
 * await ensureTable(new DynamoDBClient({ endpoint }), 'durable-tasks');
 */
export async function ensureTable(client: DynamoDBClient, tableName: string, options: { timeoutMs?: number } = {}): Promise<boolean> {
  let created = false;
  let status = await tableStatus(client, tableName);
  if (status === undefined) {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName)));
      created = true;
    } catch (error) {
      if (errorName(error) !== 'ResourceInUseException') throw error;
    }
  }
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (let delay = 20; (status = await tableStatus(client, tableName)) !== 'ACTIVE'; delay = Math.min(1_000, delay * 2)) {
    if (Date.now() > deadline) throw new DurableError(`DynamoDB table '${tableName}' is not ACTIVE (status ${status ?? 'missing'})`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  if (created) {
    try {
      await client.send(
        new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.timeToLiveAttribute, Enabled: true } }),
      );
    } catch (error) {
      if (errorName(error) !== 'UnknownOperationException') throw error;
    }
  }
  return created;
}

async function tableStatus(client: DynamoDBClient, tableName: string): Promise<string | undefined> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return Table?.TableStatus;
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

function errorName(error: unknown): unknown {
  return (error as { name?: unknown } | null)?.name;
}
