import { describe, expect, test } from 'vitest';
import { DescribeTableCommand, GetItemCommand, QueryCommand, ScanCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { sweepPk, waiterShard } from '../../sdk/adapters/aws/dynamo-keys.ts';
import { SWEEP_HOLD_MS } from '../../sdk/adapters/aws/dynamo-sweep.ts';
import { DynamoRunStore } from '../../sdk/adapters/aws/dynamo-store.ts';
import { InMemoryRequestCounter } from '../../sdk/adapters/aws/request-counter.ts';
import { SWEEP_READ_ATTRIBUTES } from '../../sdk/adapters/aws/table-schema.ts';
import { makeEntry, makeRun, makeWaiter, runStoreContract } from './run-store.contract.ts';
import { dynamoClient } from '../support/servers.ts';
import { useDynalite } from '../support/dynalite-suite.ts';

const dynalite = useDynalite();

/** A fresh table per test: dynalite creates one in a few milliseconds. */
async function freshStore(counter?: InMemoryRequestCounter) {
  const tableName = await dynalite.freshTable('durable');
  return { tableName, store: new DynamoRunStore({ client: dynalite.client, tableName, ...(counter ? { counter } : {}) }) };
}

runStoreContract('DynamoDB (dynalite)', async () => {
  const { store } = await freshStore();
  return { store, close: async () => undefined };
});

describe('DynamoRunStore on dynalite', () => {
  test('request counts: createRun, lease, recordEntry and a 10-entry loadRun are one request each', async () => {
    const counter = new InMemoryRequestCounter();
    const { tableName } = await freshStore();
    const measured = new DynamoRunStore({ client: dynamoClient(dynalite.endpoint), tableName, counter });
    const run = makeRun();
    const delta = async (fn: () => Promise<unknown>) => {
      counter.reset();
      await fn();
      return counter.snapshot();
    };
    expect(await delta(() => measured.createRun(run))).toEqual({ 'DynamoDB.PutItem': 1 });
    const now = Date.now();
    const lease = () => measured.lease(run.runId, { owner: 'w', until: now + 60_000, now });
    expect(await delta(lease)).toEqual({ 'DynamoDB.UpdateItem': 1 });
    expect(await delta(() => measured.recordEntry(run.runId, makeEntry(0)))).toEqual({ 'DynamoDB.PutItem': 1 });
    for (let p = 1; p < 10; p++) await measured.recordEntry(run.runId, makeEntry(p));
    expect(await delta(() => measured.loadRun(run.runId))).toEqual({ 'DynamoDB.Query': 1 });
    // dynalite ignores ReturnValuesOnConditionCheckFailure, so a lost race reads the winner back.
    expect(await delta(() => measured.recordEntry(run.runId, makeEntry(0, { name: 'late' })))).toEqual({ 'DynamoDB.PutItem': 1, 'DynamoDB.GetItem': 1 });
    const suspend = () => measured.suspend(run.runId, { owner: 'w', wake: 0, now, ranMs: 3, parked: [] });
    expect(await delta(suspend)).toEqual({ 'DynamoDB.UpdateItem': 1 });
    expect(await delta(() => measured.wake(run.runId))).toEqual({
      'DynamoDB.UpdateItem': 1,
    });
    expect(await delta(() => measured.findWaiters('k'))).toEqual({ 'DynamoDB.Query': 4 });
    // One Query per shard, and a BatchGetItem for the runs the keys-only index names (the woken run is due).
    expect(await delta(() => measured.sweepCandidates(now, 10))).toEqual({ 'DynamoDB.Query': 4, 'DynamoDB.BatchGetItem': 1 });
    // Event waiters: their index items first, then the run's copies (see DynamoRunStore.registerWaiters).
    const waiters = [makeWaiter(run.runId), makeWaiter(run.runId, { index: 1 })];
    expect(await delta(() => measured.registerWaiters(waiters))).toEqual({ 'DynamoDB.BatchWriteItem': 2 });
    const sleep = makeWaiter(run.runId, { type: 'sleep', eventKey: undefined, expression: undefined, dueAt: now, position: 2 });
    expect(await delta(() => measured.registerWaiters([sleep]))).toEqual({ 'DynamoDB.BatchWriteItem': 1 });
    expect(await delta(() => measured.deleteWaiters([...waiters, sleep]))).toEqual({ 'DynamoDB.BatchWriteItem': 1 });
    // A bare reference: the event key is read first, with one Query on the run's partition.
    await measured.registerWaiters(waiters);
    expect(await delta(() => measured.deleteWaiters(waiters.map(({ runId, attempt, position, index }) => ({ runId, attempt, position, index }))))).toEqual({
      'DynamoDB.Query': 1,
      'DynamoDB.BatchWriteItem': 1,
    });
    expect(await measured.findWaiters('order:paid')).toEqual([]);
  });

  test('item layout: keys, indexes and attribute types as ARCHITECTURE.md describes', async () => {
    const { store, tableName } = await freshStore();
    const run = makeRun({ status: 'WAITING', wakeAt: 1234, error: { name: 'E', message: 'm' }, cancelRequested: false });
    await store.createRun(run);
    await store.recordEntry(run.runId, makeEntry(3, { attempt: 1 }));
    await store.registerWaiters([makeWaiter(run.runId, { position: 3, index: 2, attempt: 1, createdAt: 42 }), makeWaiter(run.runId, { type: 'sleep', index: 3 })]);
    const get = async (pk: string, sk: string) =>
      (await dynalite.client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk }, sk: { S: sk } } }))).Item;

    const runItem = await get(`RUN#${run.runId}`, 'RUN');
    expect(runItem?.gsi2pk?.S).toMatch(/^SWEEP#[0-3]$/);
    expect(runItem?.gsi2sk).toEqual({ N: '1234' });
    expect(runItem?.input).toEqual({ S: '{"id":1}' });
    expect(runItem?.error).toEqual({ M: { name: { S: 'E' }, message: { S: 'm' } } });
    expect(runItem?.cancelRequested).toEqual({ BOOL: false });

    expect(await get(`RUN#${run.runId}`, 'OP#0001#00000003')).toBeDefined();
    const eventWaiter = await get(`RUN#${run.runId}`, 'WAIT#0001#00000003#0002');
    expect(eventWaiter).toBeDefined();
    // Its index item: a full copy under the event key, in the run's shard (a base-table item, read consistently).
    const shard = waiterShard(run.runId);
    expect(shard).toBeGreaterThanOrEqual(0);
    expect(shard).toBeLessThan(4);
    const indexItem = await get(`WAITKEY#order:paid#${shard}`, `${run.runId}#0001#00000003#0002`);
    const withoutKeys = ({ pk: _pk, sk: _sk, ...rest }: Record<string, AttributeValue>) => unmarshall(rest);
    expect(indexItem && withoutKeys(indexItem)).toEqual(withoutKeys(eventWaiter!));
    const sleepWaiter = await get(`RUN#${run.runId}`, 'WAIT#0000#00000001#0003');
    expect(sleepWaiter).toBeDefined();
    const { Items = [] } = await dynalite.client.send(new ScanCommand({ TableName: tableName }));
    expect(Items.filter((item) => item.pk?.S?.startsWith('WAITKEY#')).map((item) => item.sk?.S)).toEqual([`${run.runId}#0001#00000003#0002`]);
    expect(Items.filter((item) => item.gsi1pk !== undefined || item.gsi1sk !== undefined)).toEqual([]);

    await store.recordEvent({ eventId: 'e1', key: 'order:paid', payload: '{"a":1}', time: 1_700_000_000_000, seq: 42 });
    expect(await get('EVT#order:paid', 'S#0000000000000042#e1')).toBeDefined();
    const seq = await store.takeEventSequence('order:paid');
    expect((await get('EVTSEQ#order:paid', 'SEQ'))?.seq?.N).toBe(String(seq));

    await store.updateRun(run.runId, { set: { status: 'SUCCEEDED' } });
    const finished = await get(`RUN#${run.runId}`, 'RUN');
    expect(finished?.gsi2pk).toBeUndefined();
    expect(finished?.gsi2sk).toBeUndefined();
  });

  test('the sweep index holds keys only; sweepCandidates reads the runs it names with one BatchGetItem', async () => {
    const counter = new InMemoryRequestCounter();
    const { tableName } = await freshStore();
    const store = new DynamoRunStore({ client: dynamoClient(dynalite.endpoint), tableName, counter });
    const { Table } = await dynalite.client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.Projection])).toEqual([
      ['gsi2', { ProjectionType: 'KEYS_ONLY' }],
      ['gsi3', { ProjectionType: 'KEYS_ONLY' }], // the listing indexes (runs.list), keys only too
      ['gsi4', { ProjectionType: 'KEYS_ONLY' }],
    ]);
    const run = makeRun({ input: JSON.stringify('i'.repeat(10_000)), metadata: { a: 1 }, error: { name: 'E', message: 'm' }, runningMs: 5 });
    await store.createRun(run);
    const { Items = [] } = await dynalite.client.send(
      new QueryCommand({ TableName: tableName, IndexName: 'gsi2', KeyConditionExpression: 'gsi2pk = :pk', ExpressionAttributeValues: { ':pk': { S: sweepPk(run.runId) } } }),
    );
    expect(Items).toHaveLength(1);
    for (const item of Items) expect(Object.keys(item).sort()).toEqual(['gsi2pk', 'gsi2sk', 'pk', 'sk']);
    counter.reset();
    const [candidate] = await store.sweepCandidates(Date.now(), 10);
    expect(counter.snapshot()).toEqual({ 'DynamoDB.Query': 4, 'DynamoDB.BatchGetItem': 1 });
    const { input: _i, metadata: _m, error: _e, runningMs: _r, ...read } = run;
    expect(Object.keys(read).every((k) => (SWEEP_READ_ATTRIBUTES as readonly string[]).includes(k))).toBe(true);
    expect(candidate).toEqual(read);
  });

  test('sweepCandidates pages its reads: 250 due runs take 3 BatchGetItems per shard at most, most overdue first', async () => {
    const counter = new InMemoryRequestCounter();
    const { tableName } = await freshStore();
    const store = new DynamoRunStore({ client: dynamoClient(dynalite.endpoint), tableName, counter });
    const now = Date.now();
    const runs = Array.from({ length: 250 }, (_, i) => makeRun({ status: 'WAITING', wakeAt: now - 10_000 + i, runId: `r-${String(i).padStart(3, '0')}` }));
    for (const run of runs) await store.createRun(run);
    counter.reset();
    const found = await store.sweepCandidates(now, 1_000);
    expect(found.map((r) => r.runId)).toEqual(runs.map((r) => r.runId));
    expect(counter.snapshot()['DynamoDB.BatchGetItem']).toBeLessThanOrEqual(4 * 3);
    expect((await store.sweepCandidates(now, 7)).map((r) => r.runId)).toEqual(runs.slice(0, 7).map((r) => r.runId));
  });

  test('a lease, a heartbeat and a replay-again leave the sweep index alone; suspend, wake and finish move the run in it', async () => {
    const counter = new InMemoryRequestCounter();
    const { tableName } = await freshStore();
    const store = new DynamoRunStore({ client: dynamoClient(dynalite.endpoint), tableName, counter });
    const sweepAttributes = async () => {
      const { Item } = await dynalite.client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: `RUN#${run.runId}` }, sk: { S: 'RUN' } }, ConsistentRead: true }));
      return { gsi2pk: Item?.gsi2pk?.S, gsi2sk: Item?.gsi2sk?.N === undefined ? undefined : Number(Item.gsi2sk.N) };
    };
    const lease = (at: number) => store.lease(run.runId, { owner: 'w', until: at + 60_000, now: at });
    const suspend = async (at: number, wakeAt?: number) =>
      store.suspend(run.runId, { owner: 'w', wake: (await store.getRun(run.runId))!.wake, ...(wakeAt !== undefined ? { wakeAt } : {}), now: at, ranMs: 1, parked: [] });
    const now = Date.now();
    const run = makeRun();
    await store.createRun(run);
    const queued = await sweepAttributes();
    expect(queued).toEqual({ gsi2pk: expect.stringMatching(/^SWEEP#[0-3]$/), gsi2sk: 0 });

    counter.reset();
    expect(await lease(now)).toBeDefined();
    expect(counter.snapshot()).toEqual({ 'DynamoDB.UpdateItem': 1 });
    expect(await sweepAttributes()).toEqual(queued);
    await store.heartbeat(run.runId, { owner: 'w', until: now + 120_000 });
    expect(await sweepAttributes()).toEqual(queued);
    expect((await store.sweepCandidates(now + 60_001, 10)).map((r) => r.runId)).toEqual([]);
    expect((await store.sweepCandidates(now + 120_001, 10)).map((r) => r.runId)).toEqual([run.runId]);

    // A timer due within the hold keeps the (past) key: no index write; the sweeper reads it and waits.
    await suspend(now + 1, now + 5_000);
    expect(await sweepAttributes()).toEqual(queued);
    expect((await store.sweepCandidates(now + 4_999, 10)).map((r) => r.runId)).toEqual([]);
    expect((await store.sweepCandidates(now + 5_000, 10)).map((r) => r.runId)).toEqual([run.runId]);
    await lease(now + 5_000);
    // One due later than the hold moves the key to the timer.
    await suspend(now + 5_000, now + 5_000 + SWEEP_HOLD_MS + 1);
    expect(await sweepAttributes()).toEqual({ ...queued, gsi2sk: now + 5_000 + SWEEP_HOLD_MS + 1 });
    // Leased from a due timer: the key (the timer's time) is already in the past and stays.
    const due = now + 5_000 + SWEEP_HOLD_MS + 1;
    counter.reset();
    expect(await lease(due)).toBeDefined();
    expect(counter.snapshot()).toEqual({ 'DynamoDB.UpdateItem': 1 });
    expect(await sweepAttributes()).toEqual({ ...queued, gsi2sk: due });
    // Parked on events only: out of the index (one index delete), until a wake puts it back at 0 (one put).
    await suspend(due + 1);
    expect(await sweepAttributes()).toEqual({ gsi2pk: undefined, gsi2sk: undefined });
    expect((await store.sweepCandidates(Number.MAX_SAFE_INTEGER, 10)).map((r) => r.runId)).toEqual([]);
    counter.reset();
    await store.wake(run.runId);
    expect(counter.snapshot()).toEqual({ 'DynamoDB.UpdateItem': 1 });
    expect(await sweepAttributes()).toEqual({ ...queued, gsi2sk: 0 });
    // A re-lease after a failed suspend (a wake arrived during the replay) keeps it too.
    expect(await lease(now + 6_000)).toBeDefined();
    await store.wake(run.runId);
    counter.reset();
    await store.replayAgain(run.runId, { owner: 'w', until: now + 70_000, ranMs: 1 });
    expect(counter.snapshot()).toEqual({ 'DynamoDB.UpdateItem': 1 });
    expect(await sweepAttributes()).toEqual({ ...queued, gsi2sk: 0 });
    await store.finish(run.runId, { owner: 'w', outcome: { status: 'SUCCEEDED', output: '1' }, now: now + 7_000, ranMs: 1, parked: [] });
    expect(await sweepAttributes()).toEqual({ gsi2pk: undefined, gsi2sk: undefined });
  });

  test('a RUNNING run indexed later than its lease is repaired (a lease never leaves it unswept)', async () => {
    const counter = new InMemoryRequestCounter();
    const { tableName } = await freshStore();
    const store = new DynamoRunStore({ client: dynamoClient(dynalite.endpoint), tableName, counter });
    const now = Date.now();
    // WAITING with a pending wake but indexed far in the future: a key a failed repair could have left.
    const run = makeRun({ status: 'WAITING', wake: 1, seen: 0 });
    await store.createRun(run);
    await dynalite.client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: { S: `RUN#${run.runId}` }, sk: { S: 'RUN' } },
        UpdateExpression: 'SET gsi2sk = :never',
        ExpressionAttributeValues: { ':never': { N: String(8_640_000_000_000_000) } },
      }),
    );
    counter.reset();
    await store.lease(run.runId, { owner: 'w', until: now + 100, now });
    expect(counter.snapshot()).toEqual({ 'DynamoDB.UpdateItem': 2 });
    expect((await store.sweepCandidates(now + 101, 10)).map((r) => r.runId)).toEqual([run.runId]);
  });

  test('loadRun follows LastEvaluatedKey: a > 1 MB partition takes more than one Query', async () => {
    const counter = new InMemoryRequestCounter();
    const { tableName } = await freshStore();
    const store = new DynamoRunStore({ client: dynamoClient(dynalite.endpoint), tableName, counter });
    const run = makeRun();
    await store.createRun(run);
    const text = JSON.stringify('y'.repeat(8192));
    await Promise.all(Array.from({ length: 200 }, (_, p) => store.recordEntry(run.runId, makeEntry(p, { result: text }))));
    counter.reset();
    const loaded = await store.loadRun(run.runId);
    expect(loaded?.entries).toHaveLength(200);
    expect(counter.snapshot()['DynamoDB.Query']).toBeGreaterThanOrEqual(2);
  });

  test('a forged low-level write that leaves the sweep key wrong is repaired with one conditional request', async () => {
    const counter = new InMemoryRequestCounter();
    const { tableName } = await freshStore();
    const store = new DynamoRunStore({ client: dynamoClient(dynalite.endpoint), tableName, counter });
    const run = makeRun({ status: 'RUNNING', leaseOwner: 'w', leaseUntil: Date.now() + 60_000, wake: 2, seen: 1, wakeAt: Date.now() + 600_000 });
    await store.createRun(run);
    counter.reset();
    // Parks without a wake condition while a resolution is pending (no intent does this): the run must stay due.
    await store.updateRun(run.runId, { set: { status: 'WAITING' }, remove: ['leaseOwner', 'leaseUntil'] });
    expect(counter.snapshot()).toEqual({ 'DynamoDB.UpdateItem': 2 });
    expect((await store.sweepCandidates(Date.now(), 10)).map((r) => r.runId)).toEqual([run.runId]);
  });
});
