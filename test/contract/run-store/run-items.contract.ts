/** The RunStore contract, run items: create, read, list, and the low-level conditional write every intent is made of. */
import { beforeEach, describe, expect, test } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { RunRecord } from '../../../sdk/ports.ts';
import type { RunCondition } from '../../../sdk/adapters/shared/run-patch.ts';
import { holds } from '../../../sdk/adapters/shared/run-patch.ts';
import { T0, isSwept, expiredTtl, liveTtl, makeRun, type CurrentStore, type RawRunStore } from './fixtures.ts';

export function runItemsContract(current: CurrentStore): void {
  let store: RawRunStore;
  beforeEach(() => {
    store = current.store;
  });

  describe('createRun / getRun', () => {
    test('creates a run once; a second create with the same id is refused and changes nothing', async () => {
      const run = makeRun();
      expect(await store.createRun(run)).toBe(true);
      expect(await store.createRun({ ...run, name: 'other', input: '{"id":2}' })).toBe(false);
      expect(await store.getRun(run.runId)).toEqual(run);
    });

    test('an unknown run reads as undefined', async () => {
      expect(await store.getRun('nope')).toBeUndefined();
      expect(await store.loadRun('nope')).toBeUndefined();
    });

    test('round-trips every field, nested objects included', async () => {
      const run = makeRun({
        status: 'WAITING',
        output: '{"ok":true}',
        error: { name: 'NonDeterminismError', message: 'boom', data: { position: 3, expected: 'step a', actual: 'step b' }, stack: 'at x' },
        leaseOwner: 'w1',
        leaseUntil: T0 + 1000,
        wakeAt: T0 + 5000,
        cancelRequested: false,
        parent: { runId: 'p', attempt: 1, position: 4 },
        workflowRunId: 'wf',
        metadata: { eventId: 'e1', key: 'k', nested: { list: [1, 'two', null] } },
        ttl: liveTtl(),
        runningMs: 12,
        attempt: 2,
        wake: 3,
        seen: 2,
      });
      await store.createRun(run);
      expect(await store.getRun(run.runId)).toEqual(run);
    });

    test('a run past its TTL reads as absent and cannot be updated', async () => {
      const run = makeRun({ ttl: expiredTtl(), name: `ttl-${randomUUID()}` });
      await store.createRun(run);
      expect(await store.getRun(run.runId)).toBeUndefined();
      expect(await store.loadRun(run.runId)).toBeUndefined();
      expect(await store.listRuns({ name: run.name })).toEqual([]);
      expect(await store.updateRun(run.runId, { set: { status: 'RUNNING' } })).toBeUndefined();
    });
  });

  describe('listRuns', () => {
    test('newest first, filtered by status and name, limited', async () => {
      const name = `list-${randomUUID()}`;
      const a = makeRun({ name, createdAt: T0 + 1 });
      const b = makeRun({ name, createdAt: T0 + 3, status: 'SUCCEEDED' });
      const c = makeRun({ name, createdAt: T0 + 2 });
      const other = makeRun({ name: `${name}-other`, createdAt: T0 + 4 });
      for (const r of [a, b, c, other]) await store.createRun(r);
      expect((await store.listRuns({ name })).map((r) => r.runId)).toEqual([b.runId, c.runId, a.runId]);
      expect((await store.listRuns({ name, status: 'QUEUED' })).map((r) => r.runId)).toEqual([c.runId, a.runId]);
      expect((await store.listRuns({ name, limit: 1 })).map((r) => r.runId)).toEqual([b.runId]);
      expect((await store.listRuns({ status: 'SUCCEEDED' })).map((r) => r.runId)).toContain(b.runId);
    });
  });

  describe('updateRun conditions', () => {
    const states: Record<string, Partial<RunRecord>> = {
      queued: { status: 'QUEUED' },
      leased: { status: 'RUNNING', leaseOwner: 'w1', leaseUntil: T0 + 1000 },
      leaseNoUntil: { status: 'RUNNING', leaseOwner: 'w1' },
      waitingDue: { status: 'WAITING', wakeAt: T0 + 500, wake: 2, seen: 2, attempt: 1 },
      waitingPending: { status: 'WAITING', wake: 3, seen: 2 },
      cancelling: { status: 'RUNNING', leaseOwner: 'w2', leaseUntil: T0 - 1, cancelRequested: true },
      notCancelled: { status: 'WAITING', cancelRequested: false, wakeAt: T0 + 2000 },
    };
    const clauses: Record<string, RunCondition> = {
      empty: {},
      'status queued': { status: ['QUEUED'] },
      'status running|waiting': { status: ['RUNNING', 'WAITING'] },
      'status none': { status: [] },
      'owner w1': { leaseOwner: 'w1' },
      'owner w2': { leaseOwner: 'w2' },
      'lease expired before T0+1000': { leaseExpiredBefore: T0 + 1000 },
      'lease expired before T0+1001': { leaseExpiredBefore: T0 + 1001 },
      'lease expired before T0': { leaseExpiredBefore: T0 },
      'wake 2': { wake: 2 },
      'wake 0': { wake: 0 },
      'wake pending': { wakePending: true },
      'due by T0+499': { wakeDueBy: T0 + 499 },
      'due by T0+500': { wakeDueBy: T0 + 500 },
      'attempt 1': { attempt: 1 },
      'attempt 0': { attempt: 0 },
      'not cancel requested': { notCancelRequested: true },
      'owner w1 and not cancelled': { leaseOwner: 'w1', notCancelRequested: true, status: ['RUNNING'] },
      'everything at once': {
        status: ['WAITING'],
        wake: 2,
        wakeDueBy: T0 + 600,
        attempt: 1,
        notCancelRequested: true,
        leaseExpiredBefore: T0,
      },
      'or: lease conditions': [
        { status: ['QUEUED'] },
        { status: ['WAITING'], wakePending: true },
        { status: ['WAITING'], wakeDueBy: T0 + 500 },
        { status: ['RUNNING'], leaseExpiredBefore: T0 + 500 },
      ],
      'or: none': [],
      'or: one impossible, one empty': [{ status: [] }, {}],
    };

    test.each(Object.keys(states))('state %s: every clause decides exactly as holds()', async (state) => {
      for (const [label, condition] of Object.entries(clauses)) {
        const run = makeRun(states[state]);
        await store.createRun(run);
        const updated = await store.updateRun(run.runId, { set: { updatedAt: T0 + 7 } }, condition);
        const expected = holds(run, condition);
        expect({ label, applied: updated !== undefined }).toEqual({ label, applied: expected });
        expect((await store.getRun(run.runId))?.updatedAt, label).toBe(expected ? T0 + 7 : T0);
      }
    });

    test('a missing run is undefined, with or without a condition', async () => {
      expect(await store.updateRun('missing', { set: { status: 'RUNNING' } })).toBeUndefined();
      expect(await store.updateRun('missing', { incrementWake: true }, { status: ['QUEUED'] })).toBeUndefined();
      expect(await store.getRun('missing')).toBeUndefined();
    });

    test('a failed condition leaves the run unchanged', async () => {
      const run = makeRun();
      await store.createRun(run);
      expect(await store.updateRun(run.runId, { set: { status: 'RUNNING' }, incrementWake: true, addRunningMs: 5 }, { status: ['WAITING'] })).toBeUndefined();
      expect(await store.getRun(run.runId)).toEqual(run);
    });
  });

  describe('updateRun patches', () => {
    test('set overwrites fields (nested objects too) and returns the updated run', async () => {
      const run = makeRun({ metadata: { a: 1 } });
      await store.createRun(run);
      const error = { name: 'Error', message: 'x', data: { deep: { list: [1, 2] } } };
      const ttl = liveTtl();
      const updated = await store.updateRun(run.runId, {
        set: { status: 'FAILED', error, metadata: { b: 2 }, output: '"out"', updatedAt: T0 + 1, cancelRequested: true, ttl },
      });
      const expected = { ...run, status: 'FAILED', error, metadata: { b: 2 }, output: '"out"', updatedAt: T0 + 1, cancelRequested: true, ttl };
      expect(updated).toEqual(expected);
      expect(await store.getRun(run.runId)).toEqual(expected);
    });

    test('remove deletes fields; a field both set and removed ends removed', async () => {
      const run = makeRun({ status: 'RUNNING', leaseOwner: 'w', leaseUntil: T0 + 10, wakeAt: T0 + 5, error: { name: 'E', message: 'm' } });
      await store.createRun(run);
      const updated = await store.updateRun(run.runId, { set: { leaseOwner: 'w2', status: 'WAITING' }, remove: ['leaseOwner', 'leaseUntil', 'error'] });
      expect(updated).toBeDefined();
      expect(updated!.leaseOwner).toBeUndefined();
      expect(updated!.leaseUntil).toBeUndefined();
      expect(updated!.error).toBeUndefined();
      expect(updated!.wakeAt).toBe(T0 + 5);
      expect(updated!.status).toBe('WAITING');
      const read = await store.getRun(run.runId);
      expect(read && 'leaseOwner' in read ? read.leaseOwner : undefined).toBeUndefined();
      expect(read).toEqual(updated);
    });

    test('a set field given as undefined reads as absent', async () => {
      const run = makeRun({ leaseOwner: 'w' });
      await store.createRun(run);
      const updated = await store.updateRun(run.runId, { set: { leaseOwner: undefined } });
      expect(updated?.leaseOwner).toBeUndefined();
      expect((await store.getRun(run.runId))?.leaseOwner).toBeUndefined();
    });

    test('incrementWake adds one; markSeen alone copies wake to seen', async () => {
      const run = makeRun({ wake: 4, seen: 1 });
      await store.createRun(run);
      const woken = await store.updateRun(run.runId, { incrementWake: true });
      expect([woken?.wake, woken?.seen]).toEqual([5, 1]);
      const seen = await store.updateRun(run.runId, { markSeen: true });
      expect([seen?.wake, seen?.seen]).toEqual([5, 5]);
    });

    test('incrementWake with markSeen: seen ends equal to the new wake', async () => {
      const run = makeRun({ wake: 2, seen: 1 });
      await store.createRun(run);
      const updated = await store.updateRun(run.runId, { incrementWake: true, markSeen: true, set: { seen: 99 } });
      expect([updated?.wake, updated?.seen]).toEqual([3, 3]);
    });

    test('addRunningMs adds (after a set of runningMs, to the set value)', async () => {
      const run = makeRun({ runningMs: 10 });
      await store.createRun(run);
      expect((await store.updateRun(run.runId, { addRunningMs: 15 }))?.runningMs).toBe(25);
      expect((await store.updateRun(run.runId, { addRunningMs: 0 }))?.runningMs).toBe(25);
      expect((await store.updateRun(run.runId, { set: { runningMs: 0 }, addRunningMs: 7 }))?.runningMs).toBe(7);
    });

    test('a 256 KiB output next to a 256 KiB input (over 400 KB together) is stored whole and read back everywhere', async () => {
      const big = (c: string) => JSON.stringify(c.repeat(256 * 1024 - 2));
      const run = makeRun({ input: big('i'), name: `big-${randomUUID()}` });
      await store.createRun(run);
      const done = await store.updateRun(run.runId, { set: { status: 'SUCCEEDED', output: big('o'), updatedAt: T0 + 1 } }, { status: ['QUEUED'] });
      const expected = { ...run, status: 'SUCCEEDED', output: big('o'), updatedAt: T0 + 1 };
      expect(done).toEqual(expected);
      expect(await store.getRun(run.runId)).toEqual(expected);
      expect((await store.loadRun(run.runId))?.run).toEqual(expected);
      expect(await store.listRuns({ name: run.name })).toEqual([expected]);
      // A losing writer's output never replaces the recorded one.
      expect(await store.updateRun(run.runId, { set: { output: big('x') } }, { status: ['RUNNING'] })).toBeUndefined();
      expect((await store.getRun(run.runId))?.output).toBe(big('o'));
      expect((await store.updateRun(run.runId, { set: { updatedAt: T0 + 2 } }))?.output).toBe(big('o'));
      expect((await store.updateRun(run.runId, { set: { output: '"small"' } }))?.output).toBe('"small"');
      expect((await store.loadRun(run.runId))?.run.output).toBe('"small"');
      await store.updateRun(run.runId, { set: { output: big('p') } });
      expect((await store.updateRun(run.runId, { remove: ['output'] }))?.output).toBeUndefined();
      expect((await store.getRun(run.runId))?.output).toBeUndefined();
      const created = makeRun({ input: big('j'), output: big('q') });
      await store.createRun(created);
      expect(await store.getRun(created.runId)).toEqual(created);
    });

    test('an empty patch returns the run when the condition holds', async () => {
      const run = makeRun();
      await store.createRun(run);
      expect(await store.updateRun(run.runId, {}, { status: ['QUEUED'] })).toEqual(run);
      expect(await store.updateRun(run.runId, {}, { status: ['RUNNING'] })).toBeUndefined();
    });

  });

  describe('the low-level write and the sweep index', () => {
    const now = T0 + 10_000;
    test('whatever a forged patch changes, the sweeper sees the run as its fields say (the write repairs the index)', async () => {
      const run = makeRun();
      await store.createRun(run);
      const swept = (at: number) => isSwept(store, run.runId, at);
      expect(await swept(now)).toBe(true);
      // lease
      await store.updateRun(run.runId, { set: { status: 'RUNNING', leaseOwner: 'w', leaseUntil: now + 100 }, markSeen: true, remove: ['wakeAt'] });
      expect(await swept(now)).toBe(false);
      expect(await swept(now + 101)).toBe(true);
      // heartbeat (status pinned by the condition)
      await store.updateRun(run.runId, { set: { leaseUntil: now + 500 } }, { leaseOwner: 'w', status: ['RUNNING'] });
      expect(await swept(now + 101)).toBe(false);
      expect(await swept(now + 501)).toBe(true);
      // suspend on a timer
      await store.updateRun(run.runId, { set: { status: 'WAITING', wakeAt: now + 1000 }, remove: ['leaseOwner', 'leaseUntil'] }, { wake: 0 });
      expect(await swept(now + 999)).toBe(false);
      expect(await swept(now + 1000)).toBe(true);
      // suspend on an event only
      await store.updateRun(run.runId, { set: { status: 'WAITING' }, remove: ['wakeAt'] });
      expect(await swept(now + 10_000_000)).toBe(false);
      // a resolution arrives (status ambiguous in the condition)
      await store.updateRun(run.runId, { incrementWake: true }, { status: ['QUEUED', 'RUNNING', 'WAITING'] });
      expect(await swept(now)).toBe(true);
      // re-lease, then a wake lands while it runs, then the suspend fails and it re-leases itself
      await store.updateRun(run.runId, { set: { status: 'RUNNING', leaseOwner: 'w', leaseUntil: now + 100 }, markSeen: true });
      expect(await swept(now)).toBe(false);
      await store.updateRun(run.runId, { incrementWake: true }, { status: ['QUEUED', 'RUNNING', 'WAITING'] });
      expect(await swept(now + 101)).toBe(true);
      await store.updateRun(run.runId, { markSeen: true, set: { leaseUntil: now + 300 } }, { leaseOwner: 'w' });
      expect(await swept(now + 101)).toBe(false);
      expect(await swept(now + 301)).toBe(true);
      // suspend without markSeen while a wake is pending (ambiguous patch): must stay visible
      await store.updateRun(run.runId, { incrementWake: true });
      await store.updateRun(run.runId, { set: { status: 'WAITING', wakeAt: now + 5000 }, remove: ['leaseOwner', 'leaseUntil'] });
      expect(await swept(now)).toBe(true);
      // markSeen alone on a waiting run: now only its timer makes it due
      await store.updateRun(run.runId, { markSeen: true });
      expect(await swept(now)).toBe(false);
      expect(await swept(now + 5000)).toBe(true);
      // retry backoff without a status in the patch
      await store.updateRun(run.runId, { set: { wakeAt: now + 7000 } });
      expect(await swept(now + 6999)).toBe(false);
      expect(await swept(now + 7000)).toBe(true);
      // requeue, then finish
      await store.updateRun(run.runId, { set: { status: 'QUEUED' }, remove: ['wakeAt'] });
      expect(await swept(now)).toBe(true);
      await store.updateRun(run.runId, { set: { status: 'SUCCEEDED' } });
      expect(await swept(now + 10_000_000)).toBe(false);
      // a late wake on a finished run does not bring it back
      await store.updateRun(run.runId, { incrementWake: true });
      expect(await swept(now + 10_000_000)).toBe(false);
      // a terminal run requeued (whole-run retry) is swept again
      await store.updateRun(run.runId, { set: { status: 'QUEUED' } });
      expect(await swept(now)).toBe(true);
    });
  });

}
