/** The RunStore contract, the sweeper's read: which runs it is given, after every intent the engine writes. */
import { beforeEach, describe, expect, test } from 'vitest';
import type { RunRecord } from '../../../sdk/ports.ts';
import { T0, isSwept, expiredTtl, liveTtl, makeRun, ids, type CurrentStore, type RawRunStore } from './fixtures.ts';

export function sweepContract(current: CurrentStore): void {
  let store: RawRunStore;
  beforeEach(() => {
    store = current.store;
  });

  describe('sweepCandidates', () => {
    const now = T0 + 10_000;
    test('QUEUED, RUNNING with an expired (or no) lease, WAITING due or with a pending wake; nothing else', async () => {
      const due = [
        makeRun({ status: 'QUEUED', createdAt: now + 60_000 }),
        makeRun({ status: 'RUNNING', leaseOwner: 'w', leaseUntil: now - 1 }),
        makeRun({ status: 'RUNNING' }),
        makeRun({ status: 'WAITING', wakeAt: now }),
        makeRun({ status: 'WAITING', wake: 2, seen: 1 }),
        makeRun({ status: 'WAITING', wake: 2, seen: 1, wakeAt: now + 60_000 }),
      ];
      const notDue = [
        makeRun({ status: 'RUNNING', leaseOwner: 'w', leaseUntil: now }),
        makeRun({ status: 'WAITING', wakeAt: now + 1 }),
        makeRun({ status: 'WAITING' }),
        makeRun({ status: 'SUCCEEDED' }),
        makeRun({ status: 'FAILED', wake: 1 }),
        makeRun({ status: 'CANCELLED' }),
        makeRun({ status: 'QUEUED', ttl: expiredTtl() }),
      ];
      for (const r of [...due, ...notDue]) await store.createRun(r);
      expect(ids(await store.sweepCandidates(now, 100))).toEqual(ids(due));
      expect(await store.sweepCandidates(now, 3)).toHaveLength(3);
      expect(await store.sweepCandidates(now, 0)).toEqual([]);
    });

    test('a leased run is skipped while its lease holds (heartbeats extend it) and returned once it has expired', async () => {
      const run = makeRun();
      await store.createRun(run);
      const swept = (at: number) => isSwept(store, run.runId, at);
      const lease = (at: number, owner: string) => store.lease(run.runId, { owner, until: at + 100, now: at });
      // from QUEUED
      expect(await lease(now, 'w1')).toBeDefined();
      expect(await swept(now)).toBe(false);
      expect(await swept(now + 100)).toBe(false);
      expect(await swept(now + 101)).toBe(true);
      // a heartbeat
      await store.heartbeat(run.runId, { owner: 'w1', until: now + 500 });
      expect(await swept(now + 101)).toBe(false);
      expect(await swept(now + 501)).toBe(true);
      // taken over once expired (RUNNING with an expired lease)
      expect(await lease(now + 600, 'w2')).toBeDefined();
      expect(await swept(now + 600)).toBe(false);
      expect(await swept(now + 701)).toBe(true);
      // from a due timer
      expect(await store.suspend(run.runId, { owner: 'w2', wake: 0, wakeAt: now + 1000, now: now + 700, ranMs: 1, parked: [] })).toBeDefined();
      expect(await swept(now + 999)).toBe(false);
      expect(await lease(now + 1000, 'w3')).toBeDefined();
      expect(await swept(now + 1000)).toBe(false);
      expect(await swept(now + 1101)).toBe(true);
      // from a pending wake
      expect(await store.suspend(run.runId, { owner: 'w3', wake: 0, now: now + 1100, ranMs: 1, parked: [] })).toBeDefined();
      expect(await swept(now + 1_000_000)).toBe(false);
      await store.wake(run.runId);
      expect(await lease(now + 2000, 'w4')).toBeDefined();
      expect(await swept(now + 2000)).toBe(false);
      expect(await swept(now + 2101)).toBe(true);
      // a lease broken on purpose (recover): due at once
      await store.expireLease(run.runId);
      expect(await swept(now + 2000)).toBe(true);
    });

    test('each candidate carries what the sweeper and recover() read', async () => {
      const waiting = makeRun({ name: 'waits', status: 'WAITING', wake: 3, seen: 2, wakeAt: now - 5, attempt: 2, updatedAt: T0 + 7, ttl: liveTtl() });
      const running = makeRun({ name: 'runs', status: 'RUNNING', leaseOwner: 'w', leaseUntil: now - 1, updatedAt: T0 + 8, metadata: { m: 1 } });
      for (const r of [waiting, running]) await store.createRun(r);
      const fields = ['runId', 'name', 'status', 'createdAt', 'updatedAt', 'attempt', 'wake', 'seen', 'leaseUntil', 'wakeAt', 'ttl'] as const;
      const expected = (r: RunRecord) => Object.fromEntries(fields.filter((f) => r[f] !== undefined).map((f) => [f, r[f]]));
      const candidates = await store.sweepCandidates(now, 100);
      expect(candidates.find((c) => c.runId === waiting.runId)).toMatchObject(expected(waiting));
      expect(candidates.find((c) => c.runId === running.runId)).toMatchObject(expected(running));
    });

    test('follows every intent the engine writes', async () => {
      const run = makeRun();
      await store.createRun(run);
      const swept = (at: number) => isSwept(store, run.runId, at);
      expect(await swept(now)).toBe(true);
      expect(await store.lease(run.runId, { owner: 'w', until: now + 100, now })).toBeDefined();
      expect(await swept(now)).toBe(false);
      expect(await swept(now + 101)).toBe(true);
      await store.heartbeat(run.runId, { owner: 'w', until: now + 500 });
      expect(await swept(now + 101)).toBe(false);
      expect(await swept(now + 501)).toBe(true);
      // suspend on a timer far off (beyond the DynamoDB store's 5-minute hold), then on events only
      const far = now + 3_600_000;
      expect(await store.suspend(run.runId, { owner: 'w', wake: 0, wakeAt: far, now, ranMs: 5, parked: [] })).toBeDefined();
      expect(await swept(far - 1)).toBe(false);
      expect(await swept(far)).toBe(true);
      expect(await store.lease(run.runId, { owner: 'w', until: far + 100, now: far })).toBeDefined();
      expect(await store.suspend(run.runId, { owner: 'w', wake: 0, now: far, ranMs: 5, parked: [] })).toBeDefined();
      expect(await swept(now + 10_000_000)).toBe(false);
      // a resolution arrives: due at once
      expect(await store.wake(run.runId)).toMatchObject({ wake: 1, seen: 0 });
      expect(await swept(now)).toBe(true);
      // re-lease; a wake lands while it runs; the suspend fails on the wake counter and it replays again
      expect(await store.lease(run.runId, { owner: 'w', until: now + 100, now })).toMatchObject({ wake: 1, seen: 1 });
      expect(await swept(now)).toBe(false);
      await store.wake(run.runId);
      expect(await swept(now + 101)).toBe(true);
      expect(await store.suspend(run.runId, { owner: 'w', wake: 1, now, ranMs: 1, parked: [] })).toBeUndefined();
      expect(await store.replayAgain(run.runId, { owner: 'w', until: now + 300, ranMs: 1 })).toMatchObject({ wake: 2, seen: 2 });
      expect(await swept(now + 101)).toBe(false);
      expect(await swept(now + 301)).toBe(true);
      // a retry parked on its backoff while a resolution of the failed attempt is pending: the backoff decides
      await store.wake(run.runId);
      const error = { name: 'Error', message: 'boom' };
      expect(await store.retry(run.runId, { owner: 'w', attempt: 1, error, now, wakeAt: now + 7000 })).toMatchObject({ status: 'WAITING', wake: 3, seen: 3 });
      expect(await swept(now + 6999)).toBe(false);
      expect(await swept(now + 7000)).toBe(true);
      // a retry without backoff: QUEUED
      expect(await store.lease(run.runId, { owner: 'w', until: now + 8000, now: now + 7000 })).toBeDefined();
      expect(await store.retry(run.runId, { owner: 'w', attempt: 2, error, now: now + 7000 })).toMatchObject({ status: 'QUEUED' });
      expect(await swept(now)).toBe(true);
      // back to QUEUED for flow control, then finish
      expect(await store.lease(run.runId, { owner: 'w', until: now + 100, now })).toBeDefined();
      expect(await store.queue(run.runId, { owner: 'w', wake: 3, flow: { slot: 'k', queued: true }, now })).toMatchObject({ status: 'QUEUED' });
      expect(await swept(now)).toBe(true);
      expect(await store.lease(run.runId, { owner: 'w', until: now + 100, now })).toBeDefined();
      expect(await store.finish(run.runId, { owner: 'w', outcome: { status: 'SUCCEEDED', output: '1' }, now, ranMs: 1, parked: [] })).toMatchObject({ status: 'SUCCEEDED' });
      expect(await swept(now + 10_000_000)).toBe(false);
      // a late wake or cancel request on a finished run neither changes it nor brings it back
      expect(await store.wake(run.runId)).toBeUndefined();
      expect(await store.requestCancel(run.runId)).toBeUndefined();
      expect(await swept(now + 10_000_000)).toBe(false);
    });

    test('a cancel request makes a parked run due; the cancelled run leaves the sweeper', async () => {
      const run = makeRun();
      await store.createRun(run);
      await store.lease(run.runId, { owner: 'w', until: now + 100, now });
      await store.suspend(run.runId, { owner: 'w', wake: 0, now, ranMs: 1, parked: [] });
      expect(await isSwept(store, run.runId, now)).toBe(false);
      expect(await store.requestCancel(run.runId)).toMatchObject({ cancelRequested: true, wake: 1 });
      expect(await isSwept(store, run.runId, now)).toBe(true);
      const error = { name: 'RunCancelledError', message: 'cancelled' };
      expect(await store.finishCancelled(run.runId, { error, now })).toMatchObject({ status: 'CANCELLED', error });
      expect(await isSwept(store, run.runId, now + 10_000_000)).toBe(false);
      expect(await store.finishCancelled(run.runId, { error, now })).toBeUndefined();
    });
  });
}
