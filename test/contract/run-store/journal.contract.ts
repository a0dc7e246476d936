/** The RunStore contract, journals: first-wins entries, parked and carried entries, retrying steps, loadRun. */
import { beforeEach, describe, expect, test } from 'vitest';
import type { TaskState } from '../../../sdk/ports.ts';
import { T0, makeRun, makeEntry, makeWaiter, type CurrentStore, type RawRunStore } from './fixtures.ts';

export function journalContract(current: CurrentStore): void {
  let store: RawRunStore;
  beforeEach(() => {
    store = current.store;
  });

  describe('journal entries', () => {
    test('first write wins; a later write gets the recorded entry back', async () => {
      const run = makeRun();
      await store.createRun(run);
      const first = makeEntry(0, { error: { name: 'E', message: 'm', data: { a: 1 } }, status: 'failed', result: undefined });
      expect(await store.recordEntry(run.runId, first)).toEqual({ won: true, entry: first, carried: [] });
      const second = makeEntry(0, { name: 'other', result: '"late"' });
      expect(await store.recordEntry(run.runId, second)).toEqual({ won: false, entry: first, carried: [] });
      // Same position in another attempt is another entry.
      const nextAttempt = makeEntry(0, { attempt: 1 });
      expect((await store.recordEntry(run.runId, nextAttempt)).won).toBe(true);
    });

    test('parked entries (run item) and carried entries (entry items) join the journal: an entry item wins over its copies', async () => {
      const sleep = (position: number, dueAt: number) => makeEntry(position, { kind: 'sleep', name: '', result: JSON.stringify({ durationMs: 5 }), dueAt });
      const run = makeRun({ parkedEntries: [sleep(0, 100)] });
      await store.createRun(run);
      let loaded = await store.loadRun(run.runId);
      expect(loaded?.entries).toEqual([sleep(0, 100)]);
      expect(loaded?.parked).toEqual([sleep(0, 100)]);
      // The next entry item carries the parked one: it is in an item now, no longer only parked.
      const step = makeEntry(1, { result: '"s"' });
      expect(await store.recordEntry(run.runId, step, [sleep(0, 100)])).toEqual({ won: true, entry: step, carried: [sleep(0, 100)] });
      loaded = await store.loadRun(run.runId);
      expect(loaded?.entries).toEqual([sleep(0, 100), step]);
      expect(loaded?.parked).toEqual([]);
      // A loser learns what the winner's item carries.
      expect(await store.recordEntry(run.runId, makeEntry(1, { result: '"late"' }), [sleep(0, 999)])).toEqual({ won: false, entry: step, carried: [sleep(0, 100)] });
      // Precedence: an item's own entry, then a carried copy, then the run item's.
      await store.updateRun(run.runId, { set: { parkedEntries: [sleep(0, 7), sleep(2, 300), sleep(3, 400)] } });
      await store.recordEntry(run.runId, sleep(3, 401));
      loaded = await store.loadRun(run.runId);
      expect(loaded?.entries).toEqual([sleep(0, 100), step, sleep(2, 300), sleep(3, 401)]);
      expect(loaded?.parked).toEqual([sleep(2, 300)]);
      await store.updateRun(run.runId, { remove: ['parkedEntries'] });
      expect((await store.loadRun(run.runId))?.parked).toEqual([]);
    });

    test('a retrying step moved forward keeps the entries its item carries', async () => {
      const run = makeRun();
      await store.createRun(run);
      const sleep = makeEntry(0, { kind: 'sleep', name: '', dueAt: 5, result: '{"durationMs":5}' });
      await store.recordEntry(run.runId, makeEntry(1, { status: 'retrying', stepAttempt: 1, retryAt: 10, result: undefined, error: { name: 'E', message: 'm' } }), [sleep]);
      const done = makeEntry(1, { result: '"ok"' });
      expect(await store.updateRetryingEntry(run.runId, done, 1)).toBe(true);
      expect((await store.loadRun(run.runId))?.entries).toEqual([sleep, done]);
    });

    test('20 concurrent writers race for one position: exactly one wins, all see its entry', async () => {
      const run = makeRun();
      await store.createRun(run);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.recordEntry(run.runId, makeEntry(5, { result: `{"writer":${i}}`, resolvedBy: `w${i}` }))),
      );
      expect(results.filter((r) => r.won)).toHaveLength(1);
      const winner = results.find((r) => r.won)!.entry;
      for (const r of results) expect(r.entry).toEqual(winner);
      const loaded = await store.loadRun(run.runId);
      expect(loaded?.entries).toEqual([winner]);
    });

    test('updateRetryingEntry moves a retrying step forward only from the expected stepAttempt', async () => {
      const run = makeRun();
      await store.createRun(run);
      const retrying = makeEntry(2, { status: 'retrying', stepAttempt: 1, retryAt: T0 + 1000, result: undefined });
      await store.recordEntry(run.runId, retrying);
      const next = { ...retrying, stepAttempt: 2, retryAt: T0 + 2000 };
      expect(await store.updateRetryingEntry(run.runId, next, 2)).toBe(false);
      expect(await store.updateRetryingEntry(run.runId, next, 1)).toBe(true);
      expect(await store.updateRetryingEntry(run.runId, { ...next, stepAttempt: 3 }, 1)).toBe(false);
      const done = makeEntry(2, { result: '"ok"' });
      expect(await store.updateRetryingEntry(run.runId, done, 2)).toBe(true);
      expect(await store.updateRetryingEntry(run.runId, makeEntry(2, { result: '"again"' }), 2)).toBe(false);
      expect(await store.updateRetryingEntry(run.runId, makeEntry(9, { status: 'retrying', stepAttempt: 1 }), 0)).toBe(false);
      expect((await store.loadRun(run.runId))?.entries).toEqual([done]);
    });
  });

  describe('loadRun', () => {
    test('the run with its journal (by attempt, then position), waiters and task states', async () => {
      const run = makeRun({ status: 'WAITING' });
      await store.createRun(run);
      const entries = [makeEntry(10), makeEntry(2), makeEntry(0, { attempt: 1 }), makeEntry(0), makeEntry(100_000)];
      for (const e of entries) await store.recordEntry(run.runId, e);
      const waiter = makeWaiter(run.runId);
      await store.registerWaiters([waiter]);
      const task: TaskState = { workflowRunId: run.runId, task: 't', status: 'QUEUED', updatedAt: T0 };
      await store.putTaskState(task);
      const loaded = await store.loadRun(run.runId);
      expect(loaded?.run).toEqual(run);
      expect(loaded?.entries.map((e) => [e.attempt, e.position])).toEqual([
        [0, 0],
        [0, 2],
        [0, 10],
        [0, 100_000],
        [1, 0],
      ]);
      expect(loaded?.waiters).toEqual([waiter]);
      expect(loaded?.tasks).toEqual([task]);
    });

    test('reads a partition larger than one page (400 entries of 4 KB: > 1 MB)', async () => {
      const run = makeRun();
      await store.createRun(run);
      const text = JSON.stringify('x'.repeat(4096));
      const positions = Array.from({ length: 400 }, (_, i) => i);
      for (let i = 0; i < positions.length; i += 50) {
        await Promise.all(positions.slice(i, i + 50).map((p) => store.recordEntry(run.runId, makeEntry(p, { result: text }))));
      }
      await store.registerWaiters([makeWaiter(run.runId)]);
      const loaded = await store.loadRun(run.runId);
      expect(loaded?.entries).toHaveLength(400);
      expect(loaded?.entries.map((e) => e.position)).toEqual(positions);
      expect(loaded?.entries.every((e) => e.result === text)).toBe(true);
      expect(loaded?.waiters).toHaveLength(1);
      expect(loaded?.run.runId).toBe(run.runId);
    });
  });
}
