/**
 * Recorded events on DynamoDB (dynalite): the event-page contract with 1 and 3 event shards, writes spread over
 * the shards, and request counts showing that a wait's look for events reads bounded pages (every Query has a
 * Limit) and stops at the lookback window and at its first match, however many events the key has.
 */
import { randomUUID } from 'node:crypto';
import { BatchWriteItemCommand, QueryCommand, type DynamoDBClient, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { describe, expect, test } from 'vitest';
import { ENV } from '../../sdk/adapters/aws/env.ts';
import { eventItem, eventShardPk } from '../../sdk/adapters/aws/dynamo-events.ts';
import { DynamoRunStore } from '../../sdk/adapters/aws/dynamo-store.ts';
import { eventShardCount } from '../../sdk/adapters/aws/table-schema.ts';
import { eventsFor } from '../../sdk/core/event-order.ts';
import type { Backend, StoredEvent, Waiter } from '../../sdk/ports.ts';
import { dynamoClient } from '../support/servers.ts';
import { useDynalite } from '../support/dynalite-suite.ts';
import { eventPagesContract } from './event-pages.contract.ts';

const dynalite = useDynalite();

async function store(eventShards: number) {
  const tableName = await dynalite.freshTable('t');
  return { tableName, store: new DynamoRunStore({ client: dynalite.client, tableName, eventShards }) };
}

for (const shards of [1, 3]) eventPagesContract(`DynamoDB (dynalite), ${shards} event shard(s)`, async () => ({ store: (await store(shards)).store, shards }));

const T0 = Date.UTC(2026, 11, 3, 12);
const event = (key: string, seq: number, time: number): StoredEvent => ({ eventId: `e${seq}`, key, payload: JSON.stringify({ n: seq }), time, seq });

/** Writes events 25 at a time (BatchWriteItem), as `recordEvent` lays them out. */
async function record(tableName: string, events: StoredEvent[], shards: number) {
  for (let i = 0; i < events.length; i += 25) {
    const RequestItems = { [tableName]: events.slice(i, i + 25).map((e) => ({ PutRequest: { Item: eventItem(e, shards) } })) };
    await dynalite.client.send(new BatchWriteItemCommand({ RequestItems }));
  }
}

/** Every Query the store's client sends, with the number of items it read. */
function queries(c: DynamoDBClient) {
  const seen: { input: QueryCommandInput; count: number }[] = [];
  c.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'QueryCommand') seen.push({ input: args.input as QueryCommandInput, count: (result.output as { Count?: number }).Count ?? 0 });
      return result;
    },
    { step: 'initialize', name: `queryLog-${randomUUID()}` },
  );
  return seen;
}

describe('recorded events on DynamoDB', () => {
  test('eventShards: from DURABLE_EVENT_SHARDS (default 1); writes spread over the shards by sequence number', async () => {
    expect(eventShardCount({})).toBe(1);
    expect(eventShardCount({ [ENV.eventShards]: '8' })).toBe(8);
    expect(() => eventShardCount({ [ENV.eventShards]: '0' })).toThrow(/DURABLE_EVENT_SHARDS must be a whole number/);
    const { tableName, store: s } = await store(4);
    const key = 'orders#1'; // a '#' in the key cannot collide with another key's shard
    for (let seq = 1; seq <= 12; seq++) await s.recordEvent(event(key, seq, T0 + seq));
    for (let shard = 0; shard < 4; shard++) {
      const { Items = [] } = await dynalite.client.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: eventShardPk(key, shard) } } }));
      expect(Items.map((i) => Number(i.seq!.N))).toEqual([1, 2, 3].map((n) => (n - 1) * 4 + (shard === 0 ? 4 : shard)).sort((a, b) => a - b));
    }
    expect(eventShardPk('orders', 1)).not.toBe(eventShardPk('orders#1', 0));
    expect(eventShardPk('orders', 0)).toBe('EVT#orders'); // shard 0 is the unsharded layout: earlier records are found
  });

  for (const shards of [1, 4]) {
    test(`a wait's look for events reads bounded pages and stops at the window and its first match (${shards} shard(s), 2,000 events)`, async () => {
      const { tableName } = await store(shards);
      const key = `k-${randomUUID()}`;
      // 1,970 events an hour old, then 30 inside a 5-minute lookback window.
      const events = Array.from({ length: 2_000 }, (_, i) => event(key, i + 1, i < 1_970 ? T0 - 3_600_000 + i : T0 + i));
      await record(tableName, events, shards);
      const counted = dynamoClient(dynalite.endpoint);
      const log = queries(counted);
      const s = new DynamoRunStore({ client: counted, tableName, eventShards: shards, now: () => T0 + 60_000 });
      const backend = { store: s } as unknown as Backend;

      // Lookback, the match is the 3rd event of the window: the keys back to the window's start, then one page forward.
      const lookback = { eventKey: key, since: T0 + 60_000, seq: 2_000, lookbackFrom: T0 } as Waiter;
      let found: StoredEvent | undefined;
      for await (const e of eventsFor(backend, lookback)) if (JSON.parse(e.payload).n === 1_973) { found = e; break; }
      expect(found?.seq).toBe(1_973);
      expect(log.every((q) => q.input.Limit !== undefined && q.input.Limit <= 100)).toBe(true);
      const read = log.reduce((n, q) => n + q.count, 0);
      expect(read).toBeLessThanOrEqual(2 * 100 * shards); // one page of keys per shard back, one page forward
      expect(log.length).toBeLessThanOrEqual(2 * shards);

      // No lookback, 2,000 events after the wait's number, the first matches: one page per shard.
      log.length = 0;
      const after = { eventKey: key, since: T0, seq: 0 } as Waiter;
      for await (const e of eventsFor(backend, after)) {
        expect(e.seq).toBe(1);
        break;
      }
      expect(log.length).toBe(shards);
      expect(log.reduce((n, q) => n + q.count, 0)).toBeLessThanOrEqual(100 * shards);

      // The whole window when nothing matches: still bounded pages, and nothing before the window is read forward.
      log.length = 0;
      let n = 0;
      for await (const _ of eventsFor(backend, lookback)) n++;
      expect(n).toBe(30);
      expect(log.every((q) => q.input.Limit !== undefined)).toBe(true);
      expect(log.reduce((m, q) => m + q.count, 0)).toBeLessThanOrEqual(100 * shards + 30 + shards * 30);
      counted.destroy();
    });
  }
});
