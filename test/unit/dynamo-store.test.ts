/**
 * DynamoRunStore at the AWS SDK edge: the requests it sends, where dynalite cannot tell (dynalite's indexes
 * are synchronous and its reads always consistent, so only the request shows whether a read would be
 * consistent on AWS, and in which order half-failed batch writes land).
 */
import { beforeEach, describe, expect, test } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  QueryCommand,
  UpdateItemCommand,
  type BatchWriteItemCommandInput,
  type QueryCommandInput,
  type UpdateItemCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { DynamoRunStore } from '../../sdk/adapters/aws/dynamo-store.ts';
import { waiterShard } from '../../sdk/adapters/aws/dynamo-keys.ts';
import { SWEEP_HOLD_MS } from '../../sdk/adapters/aws/dynamo-sweep.ts';
import type { RunRecord, Waiter } from '../../sdk/ports.ts';

const ddb = mockClient(DynamoDBClient);
const TableName = 'durable-test';
const NOW = Date.UTC(2030, 0, 1);
let store: DynamoRunStore;

beforeEach(() => {
  ddb.reset();
  store = new DynamoRunStore({ client: new DynamoDBClient({ region: 'us-east-1' }), tableName: TableName, now: () => NOW });
});

function waiter(overrides: Partial<Waiter> = {}): Waiter {
  return {
    runId: 'run-1',
    attempt: 0,
    position: 2,
    index: 0,
    opKind: 'wait',
    opName: 'paid',
    conditions: '{}',
    type: 'event',
    readableDataKey: 'paid',
    eventKey: 'order:paid',
    expression: 'true',
    since: NOW,
    createdAt: NOW,
    ...overrides,
  };
}

const queries = () => ddb.commandCalls(QueryCommand).map((c) => c.args[0].input as QueryCommandInput);
const batches = () => ddb.commandCalls(BatchWriteItemCommand).map((c) => (c.args[0].input as BatchWriteItemCommandInput).RequestItems![TableName]!);
const keyOf = (r: WriteRequest) => {
  const item = r.PutRequest?.Item ?? r.DeleteRequest?.Key;
  return `${r.PutRequest ? 'put' : 'delete'} ${item?.pk?.S} ${item?.sk?.S}`;
};

describe('findWaiters', () => {
  test('one strongly consistent Query per shard on the base table (no index), following every page', async () => {
    const w = waiter();
    const shard = waiterShard(w.runId);
    const item = { ...marshall(w), pk: { S: `WAITKEY#order:paid#${shard}` }, sk: { S: 'run-1#0000#00000002#0000' } };
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb
      .on(QueryCommand, { ExpressionAttributeValues: { ':pk': { S: `WAITKEY#order:paid#${shard}` } } })
      .resolvesOnce({ Items: [], LastEvaluatedKey: { pk: item.pk, sk: { S: 'a' } } })
      .resolvesOnce({ Items: [item, { ...item, ...marshall({ ttl: NOW / 1000 - 1 }) }] });

    expect(await store.findWaiters('order:paid')).toEqual([w]);
    const sent = queries();
    expect(sent).toHaveLength(5);
    for (const input of sent) {
      expect(input.TableName).toBe(TableName);
      expect(input.ConsistentRead).toBe(true);
      expect(input.IndexName).toBeUndefined();
    }
    expect(new Set(sent.map((q) => q.ExpressionAttributeValues?.[':pk']?.S))).toEqual(new Set([0, 1, 2, 3].map((s) => `WAITKEY#order:paid#${s}`)));
    expect(sent.filter((q) => q.ExclusiveStartKey).map((q) => q.ExclusiveStartKey)).toEqual([{ pk: item.pk, sk: { S: 'a' } }]);
  });
});

describe('registerWaiters', () => {
  test('a new event waiter: its index item is written (and acknowledged) before the copy under the run', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    const w = waiter();
    await store.registerWaiters([w, waiter({ type: 'sleep', eventKey: undefined, dueAt: NOW, index: 1 })]);
    const shard = waiterShard('run-1');
    expect(batches().map((b) => b.map(keyOf))).toEqual([
      [`put WAITKEY#order:paid#${shard} run-1#0000#00000002#0000`, 'put RUN#run-1 WAIT#0000#00000002#0001'],
      ['put RUN#run-1 WAIT#0000#00000002#0000'],
    ]);
    // Both hold the whole waiter, so the router needs no second read.
    const [[index], [own]] = batches() as [WriteRequest[], WriteRequest[]];
    const strip = ({ pk: _pk, sk: _sk, ...rest }: Record<string, unknown>) => rest;
    expect(strip(index!.PutRequest!.Item!)).toEqual(strip(own!.PutRequest!.Item!));
  });

  test('a satisfied mark: the copy under the run (what the replay decides on) first, then the index item', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    await store.registerWaiters([waiter({ satisfiedAt: NOW + 1, data: '{"a":1}' })]);
    expect(batches().map((b) => b.map(keyOf))).toEqual([
      ['put RUN#run-1 WAIT#0000#00000002#0000'],
      [`put WAITKEY#order:paid#${waiterShard('run-1')} run-1#0000#00000002#0000`],
    ]);
  });

  test('unprocessed index items are retried before any copy under a run is written', async () => {
    ddb
      .on(BatchWriteItemCommand)
      .callsFakeOnce((input: BatchWriteItemCommandInput) => ({ UnprocessedItems: { [TableName]: input.RequestItems![TableName]!.slice(1) } }))
      .resolves({});
    await store.registerWaiters([waiter(), waiter({ index: 1 })]);
    const sent = batches().map((b) => b.map(keyOf));
    expect(sent).toHaveLength(3);
    expect(sent[0]!.every((k) => k.includes('WAITKEY#'))).toBe(true);
    expect(sent[1]).toEqual([sent[0]![1]]);
    expect(sent[2]).toEqual(['put RUN#run-1 WAIT#0000#00000002#0000', 'put RUN#run-1 WAIT#0000#00000002#0001']);
  });

  test('at most 25 requests per BatchWriteItem', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    await store.registerWaiters(Array.from({ length: 30 }, (_, index) => waiter({ index })));
    expect(batches().map((b) => b.length)).toEqual([25, 5, 25, 5]);
  });
});

describe('deleteWaiters', () => {
  test('whole waiters: both items in one BatchWriteItem, nothing read', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    await store.deleteWaiters([waiter(), waiter({ type: 'child', eventKey: undefined, childRunId: 'c', index: 1 })]);
    expect(queries()).toEqual([]);
    expect(batches().map((b) => b.map(keyOf))).toEqual([
      [
        'delete RUN#run-1 WAIT#0000#00000002#0000',
        `delete WAITKEY#order:paid#${waiterShard('run-1')} run-1#0000#00000002#0000`,
        'delete RUN#run-1 WAIT#0000#00000002#0001',
      ],
    ]);
  });

  test('bare references: one consistent Query of the run\'s waiters finds the event keys', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    ddb.on(QueryCommand).resolves({
      Items: [
        { sk: { S: 'WAIT#0000#00000002#0000' }, type: { S: 'event' }, eventKey: { S: 'order:paid' } },
        { sk: { S: 'WAIT#0000#00000002#0001' }, type: { S: 'sleep' } },
      ],
    });
    await store.deleteWaiters([
      { runId: 'run-1', attempt: 0, position: 2, index: 0 },
      { runId: 'run-1', attempt: 0, position: 2, index: 1 },
    ]);
    expect(queries()).toEqual([
      expect.objectContaining({
        TableName,
        ConsistentRead: true,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :waiters)',
        ExpressionAttributeValues: { ':pk': { S: 'RUN#run-1' }, ':waiters': { S: 'WAIT#' } },
      }),
    ]);
    expect(batches().map((b) => b.map(keyOf))).toEqual([
      [
        'delete RUN#run-1 WAIT#0000#00000002#0000',
        `delete WAITKEY#order:paid#${waiterShard('run-1')} run-1#0000#00000002#0000`,
        'delete RUN#run-1 WAIT#0000#00000002#0001',
      ],
    ]);
  });
});

describe('run-item intents and the sweep index', () => {
  const run: RunRecord = { runId: 'run-1', name: 't', status: 'RUNNING', input: '1', createdAt: NOW, updatedAt: NOW, attempt: 0, wake: 0, seen: 0, runningMs: 0 };
  /** The item UpdateItem returns (ALL_NEW); `gsi2sk` null: not in the sweep index. */
  const returned = (over: Partial<RunRecord>, gsi2sk: number | null = 0) => ({
    Attributes: { ...marshall({ ...run, ...over }, { removeUndefinedValues: true }), ...(gsi2sk === null ? {} : { gsi2pk: { S: 'SWEEP#1' }, gsi2sk: { N: String(gsi2sk) } }) },
  });
  const sweepAttributesIn = (input: UpdateItemCommandInput) =>
    Object.values(input.ExpressionAttributeNames ?? {}).filter((name) => name === 'gsi2pk' || name === 'gsi2sk');

  test('a lease, a heartbeat, a replay-again, a lease release or expiry and a flow record do not write gsi2pk/gsi2sk (one request each: the key is already in the past)', async () => {
    ddb.on(UpdateItemCommand).resolves(returned({ leaseOwner: 'w', leaseUntil: NOW + 60_000 }));
    await store.lease('run-1', { owner: 'w', until: NOW + 60_000, now: NOW });
    await store.heartbeat('run-1', { owner: 'w', until: NOW + 90_000 });
    await store.replayAgain('run-1', { owner: 'w', until: NOW + 90_000, ranMs: 3 });
    await store.setFlow('run-1', { owner: 'w', flow: { slot: 's' } });
    await store.releaseLease('run-1', { owner: 'w', now: NOW });
    await store.expireLease('run-1');
    const sent = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input as UpdateItemCommandInput);
    expect(sent).toHaveLength(6);
    for (const input of sent) expect(sweepAttributesIn(input)).toEqual([]);
  });

  test('suspend, wake, request-cancel, retry, queue, finish and cancel do write them, one request each (a wake also writes gsi2pk: the run may have left the index)', async () => {
    const error = { name: 'Error', message: 'x' };
    ddb.on(UpdateItemCommand).resolves(returned({ status: 'WAITING', wakeAt: NOW + 3_600_000 }, NOW + 3_600_000));
    await store.suspend('run-1', { owner: 'w', wake: 0, wakeAt: NOW + 3_600_000, now: NOW, ranMs: 1, parked: [] });
    ddb.on(UpdateItemCommand).resolves(returned({ status: 'WAITING', wake: 1 }, 0));
    await store.wake('run-1');
    await store.requestCancel('run-1');
    ddb.on(UpdateItemCommand).resolves(returned({ status: 'QUEUED', wake: 1, seen: 1 }, 0));
    await store.retry('run-1', { owner: 'w', attempt: 1, error, now: NOW });
    await store.queue('run-1', { owner: 'w', wake: 1, flow: { slot: 's', queued: true }, now: NOW });
    ddb.on(UpdateItemCommand).resolves(returned({ status: 'SUCCEEDED', wake: 1, seen: 1 }, null));
    await store.finish('run-1', { owner: 'w', outcome: { status: 'SUCCEEDED' }, now: NOW, ranMs: 1, parked: [] });
    ddb.on(UpdateItemCommand).resolves(returned({ status: 'CANCELLED', wake: 1, seen: 1 }, null));
    await store.finishCancelled('run-1', { error, now: NOW });
    const sent = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input as UpdateItemCommandInput);
    expect(sent.map(sweepAttributesIn)).toEqual(Array.from({ length: 7 }, () => ['gsi2pk', 'gsi2sk']));
    expect(sent.map(sweepAssignment)).toEqual([String(NOW + 3_600_000), '0', '0', '0', '0', undefined, undefined]);
    expect(sent[5]!.UpdateExpression).toMatch(/REMOVE .*#a\d+, #a\d+$/);
  });

  test('the low-level updateRun (tests forge states with it) leaves the index to a repair when the returned item needs one', async () => {
    // A forged finish: the returned item is terminal but still indexed, so a second request removes the key.
    ddb.on(UpdateItemCommand).resolves(returned({ status: 'SUCCEEDED' }, 0));
    await store.updateRun('run-1', { set: { status: 'SUCCEEDED' } });
    // A forged heartbeat: the returned item is right as it is, nothing more is sent.
    ddb.on(UpdateItemCommand).resolves(returned({ status: 'RUNNING', leaseOwner: 'w', leaseUntil: NOW + 5 }, 0));
    await store.updateRun('run-1', { set: { leaseUntil: NOW + 5 } });
    const sent = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input as UpdateItemCommandInput);
    expect(sent.map(sweepAttributesIn)).toEqual([[], ['gsi2pk', 'gsi2sk'], []]);
  });

  /** The sweep-key assignment of one request, e.g. `#a3 = if_not_exists(#a3, :v4)`, with names and values resolved. */
  const sweepAssignment = (input: UpdateItemCommandInput): string | undefined => {
    const names = input.ExpressionAttributeNames ?? {};
    const id = Object.keys(names).find((k) => names[k] === 'gsi2sk');
    const match = id && new RegExp(`${id} = (if_not_exists\\([^)]*\\)|[^, ]+)`).exec(input.UpdateExpression ?? '');
    if (!match) return undefined;
    return match[1]!
      .replace(/#a\d+/g, (n) => names[n]!)
      .replace(/:v\d+/g, (v) => String(input.ExpressionAttributeValues?.[v]?.N ?? '?'));
  };

  test('a park on a timer due within the hold keeps the key (if_not_exists); a later one moves it; events only leave the index', async () => {
    const park = (wakeAt?: number) => store.suspend('run-1', { owner: 'w', wake: 0, ...(wakeAt !== undefined ? { wakeAt } : {}), now: NOW, ranMs: 1, parked: [] });
    ddb.on(UpdateItemCommand).resolves(returned({ status: 'WAITING', wakeAt: NOW + 1_000 }, 0));
    await park(NOW + 1_000);
    ddb.on(UpdateItemCommand).resolves(returned({ status: 'WAITING', wakeAt: NOW + SWEEP_HOLD_MS }, 0));
    await park(NOW + SWEEP_HOLD_MS);
    ddb.on(UpdateItemCommand).resolves(returned({ status: 'WAITING', wakeAt: NOW + SWEEP_HOLD_MS + 1 }, NOW + SWEEP_HOLD_MS + 1));
    await park(NOW + SWEEP_HOLD_MS + 1);
    ddb.on(UpdateItemCommand).resolves(returned({ status: 'WAITING' }, null));
    await park();
    const sent = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input as UpdateItemCommandInput);
    // Four requests: every returned item agreed with the plan, nothing was repaired.
    expect(sent.map(sweepAssignment)).toEqual([
      `if_not_exists(gsi2sk, ${NOW + 1_000})`,
      `if_not_exists(gsi2sk, ${NOW + SWEEP_HOLD_MS})`,
      String(NOW + SWEEP_HOLD_MS + 1),
      undefined,
    ]);
    expect(sent[3]!.UpdateExpression).toMatch(/REMOVE .*#a\d+, #a\d+$/);
    expect(sweepAttributesIn(sent[3]!)).toEqual(['gsi2pk', 'gsi2sk']);
  });

  test('sweepHoldMs: 0 moves the key on every park', async () => {
    const eager = new DynamoRunStore({ client: new DynamoDBClient({ region: 'us-east-1' }), tableName: TableName, now: () => NOW, sweepHoldMs: 0 });
    ddb.on(UpdateItemCommand).resolves(returned({ status: 'WAITING', wakeAt: NOW + 1_000 }, NOW + 1_000));
    await eager.suspend('run-1', { owner: 'w', wake: 0, wakeAt: NOW + 1_000, now: NOW, ranMs: 1, parked: [] });
    const [input] = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input as UpdateItemCommandInput);
    expect(sweepAssignment(input!)).toBe(String(NOW + 1_000));
  });
});
