/**
 * The throttling simulation's edge (bench/sim/edge.ts) on a real SDK client over dynalite: past a quota it answers
 * with AWS's error code, the SDK's standard retry strategy retries it (the attempts show), and a request that
 * stays throttled surfaces the same error after the SDK's attempts; a run's own partition keeps its full quota;
 * Lambda's concurrency limit holds.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AwsEdge, Concurrency, TokenBucket } from '../../bench/sim/edge.ts';
import { ensureTable } from '../../sdk/adapters/aws/table-setup.ts';
import { startDynalite, type LocalServer } from '../support/servers.ts';

let dynalite: LocalServer;
beforeAll(async () => {
  dynalite = await startDynalite();
});
afterAll(() => dynalite.stop());

const client = () => new DynamoDBClient({ endpoint: dynalite.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

describe('simulated AWS edge', () => {
  test('a hot shared partition answers ProvisionedThroughputExceededException; the SDK retries it, then surfaces it', async () => {
    const tableName = `t-${randomUUID().slice(0, 8)}`;
    const plain = client();
    await ensureTable(plain, tableName);
    const edge = new AwsEdge({ scale: 1 / 1_000, seed: 1, latency: false }); // 1 WCU/s per shared partition
    const ddb = edge.instrument(client(), 'DynamoDB');
    const put = (pk: string, i: number) => ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: pk }, sk: { S: String(i) } } }));
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => put('SWEEP#0', i)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) {
      expect(f.reason.name).toBe('ProvisionedThroughputExceededException');
      expect(f.reason.$metadata.attempts).toBeGreaterThan(1); // the SDK's standard strategy retried it before giving up
    }
    expect(edge.stats.attempts['DynamoDB.PutItem']).toBeGreaterThan(6); // retried attempts reached the edge
    expect(edge.stats.throttled.dynamoPartitionWrite).toBeGreaterThan(0);
    expect(Object.keys(edge.stats.hot).some((k) => k.includes('SWEEP#0'))).toBe(true);
    // A run's own partition keeps its full 1,000 WCU/s: six writes at once all succeed.
    const own = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => put('RUN#r1', i)));
    expect(own.every((r) => r.status === 'fulfilled')).toBe(true);
    plain.destroy();
    ddb.destroy();
  });

  test('token buckets refill at their rate; the concurrency limit is never exceeded', async () => {
    let now = 0;
    const bucket = new TokenBucket(10, () => now);
    for (let i = 0; i < 10; i++) bucket.take(1);
    expect(bucket.available(1)).toBe(false);
    now += 100;
    expect(bucket.available(1)).toBe(true);
    const lambda = new Concurrency(3);
    await Promise.all(Array.from({ length: 12 }, () => lambda.run(() => new Promise((r) => setTimeout(r, 5)))));
    expect(lambda.peak).toBe(3);
  });
});
