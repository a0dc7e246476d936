/**
 * Retention: every item of a run expires with it (journal entries, waiters and their index copies, DAG task
 * states, event records), and a run id used again after its run item expired (or was deleted) starts clean:
 * its steps run again and the old journal is invisible. On memory and on DynamoDB (dynalite).
 */
import { afterAll, describe, expect, test } from 'vitest';
import { DeleteItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { RunNotFoundError } from 'durable-tasks';
import { awsHarnessFactory, memoryHarness, type Harness, type HarnessFactory } from '../contract/harness.ts';
import { IN_FLIGHT_SECONDS } from '../../sdk/core/run-scope.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

const backends: [string, HarnessFactory][] = [
  ['memory', memoryHarness],
  ['aws (dynalite + fauxqs)', (...args) => aws.factory(...args)],
];

const DAY = 86_400_000;

describe.each(backends)('retention on %s', (_name, factory) => {
  test('a run id used again after its run expired runs its step again and never sees the old journal', { timeout: 60_000 }, async () => {
    const h: Harness = await factory(undefined, { retentionDays: 1 });
    try {
      let calls = 0;
      h.durable.durableTask({
        name: 'reused',
        fn: async (_: {}, ctx) => {
          const first = await ctx.step('work', () => `call-${++calls}`);
          await ctx.sleepFor('1m');
          return first;
        },
      });
      const runId = 'wf:event-chosen-by-producer';
      const ref1 = await h.durable.engine.start('reused', {}, { runId });
      await h.settle();
      await h.advance(60_000);
      expect(await ref1.result()).toBe('call-1');

      await h.advance(2 * DAY);
      await expect(h.durable.runs.get(runId)).rejects.toBeInstanceOf(RunNotFoundError);

      const ref2 = await h.durable.engine.start('reused', {}, { runId });
      await h.settle();
      const waiting = await h.durable.runs.get(runId);
      expect(waiting.status).toBe('WAITING');
      expect(waiting.operations.map((o) => [o.position, o.kind, o.result])).toEqual([
        [0, 'step', 'call-2'],
        [1, 'sleep', { durationMs: 60_000 }],
      ]);
      await h.advance(60_000);
      expect(await ref2.result()).toBe('call-2');
      expect(calls).toBe(2);
      const done = await h.durable.runs.get(runId);
      expect(done.operations.map((o) => [o.kind, o.result])).toEqual([
        ['step', 'call-2'],
        ['sleep', { durationMs: 60_000 }],
      ]);
    } finally {
      await h.close();
    }
  });

  test('every item a run writes gets a TTL: entries, stream chunks, waiters (and index copies), task states, events; the run item at its end', { timeout: 60_000 }, async () => {
    const h: Harness = await factory(undefined, { retentionDays: 1 });
    try {
      const child = h.durable.durableTask({ name: 'child', fn: async (_: {}, ctx) => ctx.step('c', () => 'c') });
      h.durable.durableTask({
        name: 'parent',
        fn: async (_: {}, ctx) => {
          await ctx.step('a', () => 'a');
          await ctx.runChild(child, {});
          ctx.putStream({ child: 'done' }); // a stream chunk: an item of its own, with the run's item TTL
          await ctx.sleepFor('1m');
          return ctx.waitForEvent('go');
        },
      });
      const wf = h.durable.workflow({ name: 'wf' });
      const first = wf.task({ name: 'first', fn: async () => ({ n: 1 }) });
      wf.task({ name: 'gated', parents: [first], waitFor: { eventKey: 'gate' }, fn: async () => ({ ok: true }) });

      const parent = await h.durable.engine.start('parent', {}, { runId: 'p' });
      const flow = await h.durable.engine.start('wf', {}, { runId: 'w' });
      await h.settle();
      await h.advance(60_000);
      const parkedAt = h.clock.now();
      const itemTtlBound = Math.floor(parkedAt / 1000) + 86_400 + IN_FLIGHT_SECONDS;

      // Parked: the waiters (and, on DynamoDB, their index copies) exist, each with a TTL.
      const loaded = await h.backend.store.loadRun('p');
      expect(loaded!.waiters.length).toBeGreaterThan(0);
      for (const w of loaded!.waiters) expect(w.ttl).toBeGreaterThan(parkedAt / 1000 + 86_400);
      for (const e of (await h.backend.store.loadRun('p'))!.entries) if (e.kind !== 'sleep') expect(e.ttl).toBeGreaterThan(0);
      const gates = (await h.backend.store.loadRun('w'))!;
      expect(gates.tasks.length).toBe(2);
      for (const t of gates.tasks) expect(t.ttl).toBeGreaterThan(0);
      expect(gates.waiters.length).toBe(1);
      for (const w of gates.waiters) expect(w.ttl).toBeGreaterThan(0);
      if (h.dynamo) {
        const items = await scan(h);
        const withoutTtl = items.filter((i) => i.ttl === undefined && i.sk !== 'RUN');
        expect(withoutTtl.map((i) => `${i.pk} ${i.sk}`)).toEqual([]);
        expect(items.some((i) => String(i.pk).startsWith('WAITKEY#'))).toBe(true);
      }

      await h.durable.events.push('go', { v: 1 });
      await h.durable.events.push('gate', {});
      await h.settle();
      expect(await parent.result()).toEqual({ v: 1 });
      await flow.result();
      const finishedAt = h.clock.now();

      for (const runId of ['p', 'w', 'p.0.1']) {
        const all = (await h.backend.store.loadRun(runId))!;
        // The child finished first (before the sleep): its retention started then.
        const end = runId === 'p.0.1' ? finishedAt - 60_000 : finishedAt;
        expect([runId, all.run.ttl]).toEqual([runId, Math.floor(end / 1000) + 86_400]);
        for (const e of all.entries) if (e.kind !== 'sleep') expect(e.ttl).toBeLessThanOrEqual(itemTtlBound);
        for (const t of all.tasks) expect(t.ttl).toBeLessThanOrEqual(itemTtlBound);
      }
      if (h.dynamo) {
        const items = await scan(h);
        expect(items.filter((i) => i.ttl === undefined).map((i) => `${i.pk} ${i.sk}`)).toEqual([]);
        expect(items.filter((i) => String(i.pk).startsWith('EVT#')).length).toBe(2);
        // Nothing outlives the run by more than its retention plus the in-flight margin.
        for (const item of items) expect(item.ttl as number).toBeLessThanOrEqual(itemTtlBound + 7 * 86_400);
      }
    } finally {
      await h.close();
    }
  });
});

describe('a run item deleted by hand (DynamoDB)', () => {
  test('starting the same id runs the step again; the old journal, waiters and index copies are invisible to it', { timeout: 60_000 }, async () => {
    const h = await aws.factory(undefined, { retentionDays: 1 });
    try {
      let calls = 0;
      h.durable.durableTask({
        name: 'reused',
        fn: async (_: {}, ctx) => {
          const mine = await ctx.step('work', () => `call-${++calls}`);
          const event = await ctx.waitForEvent('go');
          return { mine, event };
        },
      });
      const runId = 'wf:evt-1';
      await h.durable.engine.start('reused', {}, { runId });
      await h.settle();
      expect((await h.durable.runs.get(runId)).status).toBe('WAITING');
      await h.dynamo!.client.send(new DeleteItemCommand({ TableName: h.dynamo!.tableName, Key: { pk: { S: `RUN#${runId}` }, sk: { S: 'RUN' } } }));
      await expect(h.durable.runs.get(runId)).rejects.toBeInstanceOf(RunNotFoundError);

      const ref = await h.durable.engine.start('reused', {}, { runId });
      await h.settle();
      const waiting = await h.durable.runs.get(runId);
      expect(waiting.status).toBe('WAITING');
      expect(waiting.operations.filter((o) => o.status === 'done').map((o) => [o.name, o.result])).toEqual([['work', 'call-2']]);
      // Both incarnations' waiters are stored; the old one resolves into a journal nobody reads.
      await h.durable.events.push('go', { n: 1 });
      await h.settle();
      expect(await ref.result()).toEqual({ mine: 'call-2', event: { n: 1 } });
      expect(calls).toBe(2);
      const done = await h.durable.runs.get(runId);
      expect(done.operations.map((o) => [o.kind, o.name])).toEqual([
        ['step', 'work'],
        ['event', 'go'],
      ]);
    } finally {
      await h.close();
    }
  });
});

async function scan(h: Harness): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, any> | undefined;
  do {
    const page = await h.dynamo!.client.send(new ScanCommand({ TableName: h.dynamo!.tableName, ExclusiveStartKey: start }));
    out.push(...(page.Items ?? []).map((i) => unmarshall(i)));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}
