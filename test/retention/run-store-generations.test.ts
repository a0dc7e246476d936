/**
 * The RunStore side of run incarnations, on memory and on DynamoDB (dynalite): items carry the generation of
 * the run that wrote them, a load keeps only the run item's generation (and unexpired items), the same journal
 * position is first-wins within a generation and free in another, and an expired run item is replaced.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { DynamoRunStore } from '../../sdk/adapters/aws/dynamo-store.ts';
import { ensureTable } from '../../sdk/adapters/aws/table-setup.ts';
import { MemoryRunStore } from '../../sdk/adapters/memory/memory-store.ts';
import type { RunStore } from '../../sdk/ports.ts';
import { dynamoClient, startDynalite, type LocalServer } from '../support/servers.ts';
import { makeEntry, makeRun, makeWaiter } from '../contract/run-store.contract.ts';

let dynalite: Promise<LocalServer> | undefined;
afterAll(async () => (dynalite ? (await dynalite).stop() : undefined));

let now = Date.UTC(2030, 0, 1);
const stores: [string, () => Promise<RunStore>][] = [
  ['memory', async () => new MemoryRunStore(undefined, () => now)],
  [
    'DynamoDB (dynalite)',
    async () => {
      const server = await (dynalite ??= startDynalite());
      const client = dynamoClient(server.endpoint);
      const tableName = `t-${randomUUID().slice(0, 8)}`;
      await ensureTable(client, tableName);
      return new DynamoRunStore({ client, tableName, now: () => now });
    },
  ],
];

describe.each(stores)('run incarnations in the %s store', (_name, make) => {
  test('a load keeps the run item generation’s entries, waiters and task states only; positions are per generation', async () => {
    const store = await make();
    const run = makeRun({ generation: 'g1' });
    await store.createRun(run);
    const old = { generation: 'g0' };
    await store.recordEntry(run.runId, makeEntry(0, { ...old, result: '"old"' }));
    await store.registerWaiters([makeWaiter(run.runId, { ...old, position: 1 })]);
    await store.putTaskState({ workflowRunId: run.runId, task: 't', status: 'SUCCEEDED', updatedAt: 0, ...old });
    // The same position in the current generation is free, and first-wins there.
    expect((await store.recordEntry(run.runId, makeEntry(0, { generation: 'g1', result: '"new"' }))).won).toBe(true);
    expect((await store.recordEntry(run.runId, makeEntry(0, { generation: 'g1', result: '"late"' }))).won).toBe(false);
    await store.registerWaiters([makeWaiter(run.runId, { generation: 'g1', position: 2 })]);
    await store.putTaskState({ workflowRunId: run.runId, task: 't', status: 'RUNNING', updatedAt: 0, generation: 'g1' });
    const loaded = (await store.loadRun(run.runId))!;
    expect(loaded.entries.map((e) => e.result)).toEqual(['"new"']);
    expect(loaded.waiters.map((w) => [w.generation, w.position])).toEqual([['g1', 2]]);
    expect(loaded.tasks.map((t) => [t.generation, t.status])).toEqual([['g1', 'RUNNING']]);
    // Deleting a waiter of one generation leaves the other's.
    await store.deleteWaiters([{ runId: run.runId, attempt: 0, position: 1, index: 0, generation: 'g0' }]);
    expect((await store.findWaiters('order:paid')).map((w) => w.generation)).toEqual(['g1']);
  });

  test('expired items are ignored, and an expired run item is replaced by a new run with the same id', async () => {
    const store = await make();
    const ttl = Math.floor(now / 1000) + 60;
    const first = makeRun({ generation: 'g1', status: 'SUCCEEDED', ttl });
    await store.createRun(first);
    await store.recordEntry(first.runId, makeEntry(0, { generation: 'g1', ttl: ttl + 3600 }));
    await store.recordEntry(first.runId, makeEntry(1, { generation: 'g1', ttl }));
    expect(await store.createRun({ ...first, generation: 'g2', status: 'QUEUED' })).toBe(false);
    now += 61_000;
    expect((await store.loadRun(first.runId))).toBeUndefined();
    expect(await store.createRun(makeRun({ runId: first.runId, generation: 'g2' }))).toBe(true);
    const loaded = (await store.loadRun(first.runId))!;
    expect(loaded.run.generation).toBe('g2');
    expect(loaded.run.status).toBe('QUEUED');
    expect(loaded.entries).toEqual([]);
  });
});
