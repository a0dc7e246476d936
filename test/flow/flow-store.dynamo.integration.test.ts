import { describe, expect, test } from 'vitest';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoRunStore } from '../../sdk/adapters/aws/dynamo-store.ts';
import { InMemoryRequestCounter } from '../../sdk/adapters/aws/request-counter.ts';
import { flowStoreContract } from './flow-store.contract.ts';
import { dynamoClient } from '../support/servers.ts';
import { useDynalite } from '../support/dynalite-suite.ts';

const dynalite = useDynalite();

async function fresh(counter?: InMemoryRequestCounter) {
  const tableName = await dynalite.freshTable('flow');
  return { tableName, store: new DynamoRunStore({ client: dynamoClient(dynalite.endpoint), tableName, ...(counter ? { counter } : {}) }) };
}

flowStoreContract('DynamoDB (dynalite)', async () => (await fresh()).store.flow);

describe('DynamoFlowStore items and request counts', () => {
  test('the slot item counts its holders (n) exactly after racing takes and releases', async () => {
    const { store, tableName } = await fresh();
    await Promise.all(Array.from({ length: 12 }, (_, i) => store.flow.acquireSlot('t#k', `r${i}`, 5)));
    await Promise.all(['r0', 'r1', 'r2', 'r3', 'r4', 'r5'].map((id) => store.flow.releaseSlot('t#k', id)));
    const { Item } = await dynalite.client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'CONC#t#k' }, sk: { S: 'SLOT' } }, ConsistentRead: true }));
    const held = Object.keys(Item ?? {}).filter((k) => k.startsWith('H#'));
    expect(Number(Item?.['n']?.N)).toBe(held.length);
  });

  test('request counts: a free take, a hand-over, a take within a window are one write each', async () => {
    const counter = new InMemoryRequestCounter();
    const { store } = await fresh(counter);
    const delta = async (fn: () => Promise<unknown>) => {
      counter.reset();
      await fn();
      return counter.snapshot();
    };
    expect(await delta(() => store.flow.acquireSlot('t#k', 'a', 1))).toEqual({ 'DynamoDB.UpdateItem': 1 });
    expect(await delta(() => store.flow.transferSlot('t#k', 'a', 'b'))).toEqual({ 'DynamoDB.UpdateItem': 1 });
    expect(await delta(() => store.flow.acquireSlot('t#k', 'c', 1))).toEqual({ 'DynamoDB.UpdateItem': 1, 'DynamoDB.GetItem': 1 });
    await store.flow.upsertRateLimit('api', 10, 1_000);
    expect(await delta(() => store.flow.consumeUnits('api', 1, 0))).toEqual({ 'DynamoDB.UpdateItem': 2 });
    expect(await delta(() => store.flow.consumeUnits('api', 1, 10))).toEqual({ 'DynamoDB.UpdateItem': 1 });
  });
});
