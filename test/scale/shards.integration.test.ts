/**
 * Shard counts come from the environment the construct sets (`DURABLE_WAITER_SHARDS`, `DURABLE_SWEEP_SHARDS`):
 * waiter-key items land in that many partitions and the router's reads cover all of them; raising the count
 * later still finds the waiters written under the smaller one.
 */
import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ENV } from '../../sdk/adapters/aws/env.ts';
import { DynamoRunStore } from '../../sdk/adapters/aws/dynamo-store.ts';
import { waiterKeyPk } from '../../sdk/adapters/aws/dynamo-keys.ts';
import { shardCounts } from '../../sdk/adapters/aws/table-schema.ts';
import { ensureTable } from '../../sdk/adapters/aws/table-setup.ts';
import type { Waiter } from '../../sdk/ports.ts';
import { dynamoClient, startDynalite, type LocalServer } from '../support/servers.ts';

let dynalite: LocalServer;
beforeAll(async () => {
  dynalite = await startDynalite();
});
afterAll(() => dynalite.stop());

function waiter(runId: string): Waiter {
  return {
    runId, attempt: 0, position: 0, index: 0, opKind: 'wait', opName: 'w', conditions: '{"type":"event"}', type: 'event',
    readableDataKey: 'w', eventKey: 'k', since: 0, seq: 0, createdAt: Date.now(),
  };
}

describe('shard counts', () => {
  test('shardCounts reads the env vars, defaults to 4 and 4, and rejects nonsense', () => {
    expect(shardCounts({})).toEqual({ waiter: 4, sweep: 4 });
    expect(shardCounts({ [ENV.waiterShards]: '32', [ENV.sweepShards]: '8' })).toEqual({ waiter: 32, sweep: 8 });
    expect(() => shardCounts({ [ENV.waiterShards]: '0' })).toThrow(/DURABLE_WAITER_SHARDS must be a whole number/);
    expect(() => shardCounts({ [ENV.sweepShards]: '2.5' })).toThrow(/DURABLE_SWEEP_SHARDS must be a whole number/);
  });

  test('waiters spread over the configured shards; a raised count still finds the old ones, page by page', async () => {
    const client = dynamoClient(dynalite.endpoint);
    const tableName = `t-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    const small = new DynamoRunStore({ client, tableName, shards: { waiter: 2, sweep: 4 } });
    const ids = Array.from({ length: 40 }, (_, i) => `r-${i}`);
    await small.registerWaiters(ids.slice(0, 20).map(waiter));
    const big = new DynamoRunStore({ client, tableName, shards: { waiter: 16, sweep: 4 } });
    await big.registerWaiters(ids.slice(20).map(waiter));
    const used = [];
    for (let shard = 0; shard < 16; shard++) {
      const { Count = 0 } = await client.send(
        new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: waiterKeyPk('k', shard) } } }),
      );
      if (Count > 0) used.push(shard);
    }
    expect(used.some((s) => s >= 2)).toBe(true); // the raised count spreads wider
    expect((await big.findWaiters('k')).map((w) => w.runId).sort()).toEqual([...ids].sort());
    const paged: string[] = [];
    for (let shard = 0, shards = 1; shard < shards; shard++) {
      let cursor: string | undefined;
      do {
        const page = await big.findWaitersPage('k', { shard, limit: 3, ...(cursor ? { cursor } : {}) });
        expect(page.waiters.length).toBeLessThanOrEqual(3);
        paged.push(...page.waiters.map((w) => w.runId));
        cursor = page.cursor;
        shards = page.shards;
      } while (cursor);
    }
    expect(paged.sort()).toEqual([...ids].sort());
    client.destroy();
  });
});
