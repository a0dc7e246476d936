/**
 * The RunStore contract, run-item intents: each method the engine writes through (sdk/ports/run-intents.ts), what
 * it changes and under which condition it applies.
 */
import { beforeEach, describe, expect, test } from 'vitest';
import type { JournalEntry, RunRecord } from '../../../sdk/ports.ts';
import { T0, makeEntry, makeRun, type CurrentStore, type RawRunStore } from './fixtures.ts';

const error = { name: 'Error', message: 'boom' };
const sleepEntry = (position: number): JournalEntry => makeEntry(position, { kind: 'sleep', dueAt: T0 + 1000 });

export function intentsContract(current: CurrentStore): void {
  let store: RawRunStore;
  beforeEach(() => {
    store = current.store;
  });

  /** A run created in `status` (with `fields`), returned as stored. */
  async function given(fields: Partial<RunRecord> = {}): Promise<RunRecord> {
    const run = makeRun(fields);
    expect(await store.createRun(run)).toBe(true);
    return run;
  }

  describe('run-item intents', () => {
    test('the engine lifecycle: lease, suspend, wake, re-lease, finish', async () => {
      const run = await given();
      const leased = await store.lease(run.runId, { owner: 'w1', until: T0 + 100, now: T0 });
      expect(leased).toMatchObject({ status: 'RUNNING', leaseOwner: 'w1', leaseUntil: T0 + 100, updatedAt: T0, wake: 0, seen: 0 });
      // A second worker cannot lease while the lease holds.
      expect(await store.lease(run.runId, { owner: 'w2', until: T0 + 150, now: T0 + 50 })).toBeUndefined();
      const suspended = await store.suspend(run.runId, { owner: 'w1', wake: 0, now: T0 + 10, ranMs: 10, parked: [] });
      expect(suspended).toMatchObject({ status: 'WAITING', runningMs: 10, updatedAt: T0 + 10 });
      expect(suspended?.leaseOwner).toBeUndefined();
      expect(await store.lease(run.runId, { owner: 'w2', until: T0 + 200, now: T0 + 20 })).toBeUndefined();
      expect(await store.wake(run.runId)).toMatchObject({ wake: 1, seen: 0 });
      expect(await store.lease(run.runId, { owner: 'w2', until: T0 + 200, now: T0 + 20 })).toMatchObject({ status: 'RUNNING', leaseOwner: 'w2', wake: 1, seen: 1 });
      const done = await store.finish(run.runId, { owner: 'w2', outcome: { status: 'SUCCEEDED', output: '1' }, now: T0 + 30, ranMs: 5, parked: [] });
      expect(done).toMatchObject({ status: 'SUCCEEDED', output: '1', runningMs: 15, updatedAt: T0 + 30 });
      expect(done?.leaseOwner).toBeUndefined();
    });

    test('lease: from QUEUED, WAITING with a pending wake or a due timer, RUNNING with an expired lease; never otherwise', async () => {
      const now = T0 + 1000;
      const takes = [
        { status: 'QUEUED' },
        { status: 'WAITING', wake: 1, seen: 0 },
        { status: 'WAITING', wakeAt: now },
        { status: 'RUNNING', leaseOwner: 'old', leaseUntil: now - 1 },
      ] as const;
      const refuses = [
        { status: 'WAITING' },
        { status: 'WAITING', wakeAt: now + 1 },
        { status: 'RUNNING', leaseOwner: 'old', leaseUntil: now },
        { status: 'SUCCEEDED' },
        { status: 'CANCELLED', wake: 1, seen: 0 },
      ] as const;
      for (const fields of takes) {
        const run = await given({ ...fields, wakeAt: 'wakeAt' in fields ? fields.wakeAt : undefined });
        const leased = await store.lease(run.runId, { owner: 'w', until: now + 100, now });
        expect(leased, JSON.stringify(fields)).toMatchObject({ status: 'RUNNING', leaseOwner: 'w', leaseUntil: now + 100, seen: leased!.wake });
        expect(leased!.wakeAt).toBeUndefined();
      }
      for (const fields of refuses) {
        const run = await given({ ...fields });
        expect(await store.lease(run.runId, { owner: 'w', until: now + 100, now }), JSON.stringify(fields)).toBeUndefined();
        expect(await store.getRun(run.runId)).toEqual(run);
      }
    });

    test('heartbeat and releaseLease: only by the owner of a RUNNING run', async () => {
      const run = await given({ status: 'RUNNING', leaseOwner: 'w', leaseUntil: T0 + 100 });
      expect(await store.heartbeat(run.runId, { owner: 'x', until: T0 + 500 })).toBeUndefined();
      expect(await store.heartbeat(run.runId, { owner: 'w', until: T0 + 500 })).toMatchObject({ leaseUntil: T0 + 500 });
      expect(await store.releaseLease(run.runId, { owner: 'x', now: T0 + 10 })).toBeUndefined();
      const released = await store.releaseLease(run.runId, { owner: 'w', now: T0 + 10 });
      expect(released).toMatchObject({ status: 'RUNNING', leaseUntil: T0 + 9 });
      expect(released?.leaseOwner).toBeUndefined();
      // Anybody may now take it.
      expect(await store.lease(run.runId, { owner: 'y', until: T0 + 200, now: T0 + 10 })).toMatchObject({ leaseOwner: 'y' });
      expect(await store.expireLease(run.runId)).toMatchObject({ leaseOwner: 'y', leaseUntil: 0 });
      const idle = await given({ status: 'WAITING' });
      expect(await store.expireLease(idle.runId)).toBeUndefined();
    });

    test('suspend: only by the owner, with no cancel request, and only while no resolution arrived since the lease', async () => {
      const run = await given({ status: 'RUNNING', leaseOwner: 'w', leaseUntil: T0 + 100, wake: 2, seen: 2 });
      expect(await store.suspend(run.runId, { owner: 'x', wake: 2, now: T0, ranMs: 1, parked: [] })).toBeUndefined();
      expect(await store.suspend(run.runId, { owner: 'w', wake: 1, now: T0, ranMs: 1, parked: [] })).toBeUndefined();
      const cancelled = await given({ status: 'RUNNING', leaseOwner: 'w', leaseUntil: T0 + 100, cancelRequested: true });
      expect(await store.suspend(cancelled.runId, { owner: 'w', wake: 0, now: T0, ranMs: 1, parked: [] })).toBeUndefined();
      const parked = [sleepEntry(3)];
      const suspended = await store.suspend(run.runId, { owner: 'w', wake: 2, wakeAt: T0 + 1000, now: T0 + 5, ranMs: 7, parked });
      expect(suspended).toMatchObject({ status: 'WAITING', wakeAt: T0 + 1000, runningMs: 7, updatedAt: T0 + 5, parkedEntries: parked });
      expect(suspended?.leaseUntil).toBeUndefined();
      // The next park without parked entries lets go of them; without wakeAt it removes the timer.
      await store.wake(run.runId);
      await store.lease(run.runId, { owner: 'w', until: T0 + 100, now: T0 + 10 });
      const again = await store.suspend(run.runId, { owner: 'w', wake: 3, now: T0 + 20, ranMs: 1, parked: [] });
      expect(again).toMatchObject({ status: 'WAITING', runningMs: 8 });
      expect(again?.parkedEntries).toBeUndefined();
      expect(again?.wakeAt).toBeUndefined();
    });

    test('replayAgain: the owner keeps the run, every resolution so far is seen; parked entries and flow state are written when given', async () => {
      const run = await given({ status: 'RUNNING', leaseOwner: 'w', leaseUntil: T0 + 100, wake: 3, seen: 1, parkedEntries: [sleepEntry(1)] });
      expect(await store.replayAgain(run.runId, { owner: 'x', until: T0 + 500 })).toBeUndefined();
      const kept = await store.replayAgain(run.runId, { owner: 'w', until: T0 + 500, flow: { slot: 's', admitted: true } });
      expect(kept).toMatchObject({ status: 'RUNNING', leaseUntil: T0 + 500, wake: 3, seen: 3, flow: { slot: 's', admitted: true }, parkedEntries: [sleepEntry(1)] });
      const replaced = await store.replayAgain(run.runId, { owner: 'w', until: T0 + 600, ranMs: 4, parked: [] });
      expect(replaced).toMatchObject({ leaseUntil: T0 + 600, runningMs: 4 });
      expect(replaced?.parkedEntries).toBeUndefined();
    });

    test('retry: the next attempt starts afresh (QUEUED, or WAITING on its backoff); the failed attempt\'s resolutions are spent', async () => {
      const run = await given({ status: 'RUNNING', leaseOwner: 'w', leaseUntil: T0 + 100, runningMs: 50, wake: 4, seen: 3 });
      expect(await store.retry(run.runId, { owner: 'x', attempt: 1, error, now: T0 })).toBeUndefined();
      const waiting = await store.retry(run.runId, { owner: 'w', attempt: 1, error, now: T0 + 1, wakeAt: T0 + 500 });
      expect(waiting).toMatchObject({ status: 'WAITING', attempt: 1, runningMs: 0, error, wakeAt: T0 + 500, wake: 4, seen: 4, updatedAt: T0 + 1 });
      expect(waiting?.leaseOwner).toBeUndefined();
      // Not before its backoff.
      expect(await store.lease(run.runId, { owner: 'w', until: T0 + 600, now: T0 + 499 })).toBeUndefined();
      expect(await store.lease(run.runId, { owner: 'w', until: T0 + 600, now: T0 + 500 })).toBeDefined();
      expect(await store.retry(run.runId, { owner: 'w', attempt: 2, error, now: T0 + 501 })).toMatchObject({ status: 'QUEUED', attempt: 2 });
    });

    test('finish: SUCCEEDED drops an earlier attempt\'s error; FAILED records its error; both keep the retention given', async () => {
      const ok = await given({ status: 'RUNNING', leaseOwner: 'w', leaseUntil: T0 + 100, error, wakeAt: T0 + 50 });
      const ttl = Math.floor(T0 / 1000) + 3600;
      const done = await store.finish(ok.runId, { owner: 'w', outcome: { status: 'SUCCEEDED' }, now: T0, ttl, ranMs: 2, parked: [] });
      expect(done).toMatchObject({ status: 'SUCCEEDED', ttl, runningMs: 2 });
      expect(done?.error).toBeUndefined();
      expect(done?.output).toBeUndefined();
      expect(done?.wakeAt).toBeUndefined();
      const bad = await given({ status: 'RUNNING', leaseOwner: 'w', leaseUntil: T0 + 100 });
      expect(await store.finish(bad.runId, { owner: 'x', outcome: { status: 'FAILED', error }, now: T0, ranMs: 1, parked: [] })).toBeUndefined();
      expect(await store.finish(bad.runId, { owner: 'w', outcome: { status: 'FAILED', error }, now: T0, ranMs: 1, parked: [sleepEntry(2)] })).toMatchObject({
        status: 'FAILED',
        error,
        parkedEntries: [sleepEntry(2)],
      });
      const flagged = await given({ status: 'RUNNING', leaseOwner: 'w', leaseUntil: T0 + 100, cancelRequested: true });
      expect(await store.finish(flagged.runId, { owner: 'w', outcome: { status: 'SUCCEEDED', output: '1' }, now: T0, ranMs: 1, parked: [] })).toBeUndefined();
    });

    test('requestCancel and finishCancelled: any run that is not terminal, whoever holds it', async () => {
      for (const status of ['QUEUED', 'RUNNING', 'WAITING'] as const) {
        const run = await given({ status, leaseOwner: status === 'RUNNING' ? 'w' : undefined, leaseUntil: status === 'RUNNING' ? T0 + 100 : undefined });
        expect(await store.requestCancel(run.runId)).toMatchObject({ status, cancelRequested: true, wake: 1 });
        const ended = await store.finishCancelled(run.runId, { error, now: T0 + 1 });
        expect(ended).toMatchObject({ status: 'CANCELLED', cancelRequested: true, error, updatedAt: T0 + 1 });
        expect(ended?.leaseOwner).toBeUndefined();
      }
      const done = await given({ status: 'SUCCEEDED' });
      expect(await store.requestCancel(done.runId)).toBeUndefined();
      expect(await store.finishCancelled(done.runId, { error, now: T0 })).toBeUndefined();
      expect(await store.getRun(done.runId)).toEqual(done);
    });

    test('setFlow and queue: the owner records flow state, or goes back to QUEUED unless a resolution arrived', async () => {
      const run = await given({ status: 'RUNNING', leaseOwner: 'w', leaseUntil: T0 + 100, wake: 1, seen: 1 });
      expect(await store.setFlow(run.runId, { owner: 'x', flow: { slot: 's' } })).toBeUndefined();
      expect(await store.setFlow(run.runId, { owner: 'w', flow: { slot: 's' } })).toMatchObject({ status: 'RUNNING', flow: { slot: 's' } });
      expect(await store.queue(run.runId, { owner: 'w', wake: 0, flow: { slot: 's', queued: true }, now: T0 })).toBeUndefined();
      const queued = await store.queue(run.runId, { owner: 'w', wake: 1, flow: { slot: 's', queued: true }, now: T0 + 3, wakeAt: T0 + 900 });
      expect(queued).toMatchObject({ status: 'QUEUED', flow: { slot: 's', queued: true }, wakeAt: T0 + 900, updatedAt: T0 + 3 });
      expect(queued?.leaseOwner).toBeUndefined();
    });

    test('an intent on a missing run is undefined', async () => {
      expect(await store.wake('nope')).toBeUndefined();
      expect(await store.lease('nope', { owner: 'w', until: T0, now: T0 })).toBeUndefined();
      expect(await store.finishCancelled('nope', { error, now: T0 })).toBeUndefined();
    });
  });
}
