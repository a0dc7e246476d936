/** The RunStore contract: event waiters, recorded events and their sequences, DAG task states. */
import { beforeEach, describe, expect, test } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { RunRecord, StoredEvent, TaskState, Waiter } from '../../../sdk/ports.ts';
import { T0, expiredTtl, liveTtl, makeRun, makeWaiter, ids, type CurrentStore, type RawRunStore } from './fixtures.ts';

export function waitersEventsContract(current: CurrentStore): void {
  let store: RawRunStore;
  beforeEach(() => {
    store = current.store;
  });

  describe('waiters', () => {
    test('put, load (sorted), overwrite idempotently, delete', async () => {
      const run = makeRun({ status: 'WAITING' });
      await store.createRun(run);
      const sleep = makeWaiter(run.runId, { position: 10, index: 1, type: 'sleep', dueAt: T0 + 60_000, eventKey: undefined, expression: undefined, readableDataKey: 'sleep' });
      const event = makeWaiter(run.runId, { position: 10, index: 0, scope: 'tenant-a' });
      const earlier = makeWaiter(run.runId, { position: 2, index: 3 });
      await store.registerWaiters([sleep, event, earlier]);
      expect((await store.loadRun(run.runId))?.waiters).toEqual([earlier, event, sleep]);
      const satisfied = { ...event, satisfiedAt: T0 + 5, data: '{"amount":120}' };
      await store.registerWaiters([satisfied]);
      expect((await store.loadRun(run.runId))?.waiters).toEqual([earlier, satisfied, sleep]);
      await store.deleteWaiters([{ runId: run.runId, attempt: 0, position: 10, index: 0 }, { runId: run.runId, attempt: 0, position: 99, index: 0 }]);
      expect((await store.loadRun(run.runId))?.waiters).toEqual([earlier, sleep]);
      await store.registerWaiters([]);
      await store.deleteWaiters([]);
    });

    test('findWaiters finds every event waiter of a key across runs (all shards), and nothing else', async () => {
      const key = `key-${randomUUID()}`;
      const runs = Array.from({ length: 16 }, () => makeRun({ status: 'WAITING' }));
      for (const run of runs) await store.createRun(run);
      const wanted = runs.map((run, i) => makeWaiter(run.runId, { eventKey: key, position: i % 3, createdAt: T0 + i }));
      await store.registerWaiters(wanted);
      await store.registerWaiters([
        makeWaiter(runs[0]!.runId, { eventKey: `${key}-other`, position: 7 }),
        makeWaiter(runs[1]!.runId, { type: 'sleep', eventKey: key, dueAt: T0, position: 8 }),
        makeWaiter(runs[2]!.runId, { type: 'child', eventKey: key, childRunId: 'c', position: 9 }),
        makeWaiter(runs[3]!.runId, { eventKey: key, position: 10, ttl: expiredTtl() }),
      ]);
      const found = await store.findWaiters(key);
      const sortKey = (w: Waiter) => `${w.runId}|${w.position}|${w.index}`;
      expect([...found].sort((a, b) => sortKey(a).localeCompare(sortKey(b)))).toEqual(
        [...wanted].sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
      );
      expect(await store.findWaiters(`${key}-none`)).toEqual([]);
      await store.deleteWaiters(wanted.slice(0, 10));
      expect((await store.findWaiters(key)).length).toBe(6);
    });

    test('a TTL-expired waiter is ignored by loadRun and findWaiters', async () => {
      const run = makeRun({ status: 'WAITING' });
      await store.createRun(run);
      const key = `key-${randomUUID()}`;
      const live = makeWaiter(run.runId, { eventKey: key, position: 1, ttl: liveTtl() });
      const dead = makeWaiter(run.runId, { eventKey: key, position: 2, ttl: expiredTtl() });
      await store.registerWaiters([live, dead]);
      expect(await store.findWaiters(key)).toEqual([live]);
      expect((await store.loadRun(run.runId))?.waiters).toEqual([live]);
    });

    test('findWaiters sees a waiter as soon as registerWaiters returns, and not once deleteWaiters returns', async () => {
      // The router records an event, then looks for waiters; a wait registers its waiters, then looks for
      // events. Whichever comes second must see the first: both reads must follow the writes before them.
      const run = makeRun({ status: 'WAITING' });
      await store.createRun(run);
      const key = `key-${randomUUID()}`;
      for (let i = 0; i < 5; i++) {
        const waiter = makeWaiter(run.runId, { eventKey: key, position: i, index: 1 });
        await store.registerWaiters([waiter]);
        expect(await store.findWaiters(key)).toEqual([waiter]);
        await store.deleteWaiters([waiter]);
        expect(await store.findWaiters(key)).toEqual([]);
      }
    });

    test('a satisfied mark (the router, on one leaf of an And) is what both loadRun and findWaiters return', async () => {
      const run = makeRun({ status: 'WAITING' });
      await store.createRun(run);
      const key = `key-${randomUUID()}`;
      const waiter = makeWaiter(run.runId, { eventKey: key, conditions: '{"type":"and"}' });
      await store.registerWaiters([waiter]);
      const marked = { ...waiter, satisfiedAt: T0 + 9, data: '{"amount":150}' };
      await store.registerWaiters([marked]);
      expect(await store.findWaiters(key)).toEqual([marked]);
      expect((await store.loadRun(run.runId))?.waiters).toEqual([marked]);
      await store.deleteWaiters([marked]);
      expect(await store.findWaiters(key)).toEqual([]);
      expect((await store.loadRun(run.runId))?.waiters).toEqual([]);
    });

    test('deleteWaiters takes whole waiters or bare references (runId, attempt, position, index), across runs', async () => {
      const key = `key-${randomUUID()}`;
      const [a, b] = [makeRun({ status: 'WAITING' }), makeRun({ status: 'WAITING' })];
      for (const run of [a, b]) await store.createRun(run);
      const waiters = (run: RunRecord) => [
        makeWaiter(run.runId, { eventKey: key, position: 3, index: 0 }),
        makeWaiter(run.runId, { eventKey: `${key}-2`, position: 3, index: 1 }),
        makeWaiter(run.runId, { type: 'sleep', eventKey: undefined, expression: undefined, dueAt: T0 + 1000, position: 3, index: 2 }),
        makeWaiter(run.runId, { eventKey: key, position: 5, index: 0 }),
      ];
      const [ofA, ofB] = [waiters(a), waiters(b)];
      await store.registerWaiters([...ofA, ...ofB]);
      const bare = ({ runId, attempt, position, index }: Waiter) => ({ runId, attempt, position, index });
      await store.deleteWaiters([...ofA.slice(0, 3).map(bare), ...ofB.slice(0, 3), { runId: a.runId, attempt: 0, position: 99, index: 0 }]);
      expect(ids(await store.findWaiters(key))).toEqual(ids([ofA[3]!, ofB[3]!]));
      expect(await store.findWaiters(`${key}-2`)).toEqual([]);
      expect((await store.loadRun(a.runId))?.waiters).toEqual([ofA[3]]);
      expect((await store.loadRun(b.runId))?.waiters).toEqual([ofB[3]]);
    });

    test('more waiters than one batch (30)', async () => {
      const run = makeRun({ status: 'WAITING' });
      await store.createRun(run);
      const key = `key-${randomUUID()}`;
      const waiters = Array.from({ length: 30 }, (_, i) => makeWaiter(run.runId, { eventKey: key, index: i }));
      await store.registerWaiters(waiters);
      expect(await store.findWaiters(key)).toHaveLength(30);
      await store.deleteWaiters(waiters);
      expect(await store.findWaiters(key)).toEqual([]);
    });
  });

  describe('events', () => {
    test('findEvents: the key\'s events pushed at or after `since`, oldest first, expired ones ignored', async () => {
      const key = `evt-${randomUUID()}`;
      const event = (eventId: string, time: number, seq: number, extra: Partial<StoredEvent> = {}): StoredEvent => ({ eventId, key, payload: `{"id":"${eventId}"}`, time, seq, ...extra });
      const e1 = event('e1', T0 + 10, 1, { scope: 'tenant-a', metadata: { source: 'x', n: [1] } });
      const e2 = event('e2', T0 + 30, 2, { ttl: liveTtl() });
      const e3 = event('e3', T0 + 20, 3);
      const dead = event('e4', T0 + 40, 4, { ttl: expiredTtl() });
      for (const e of [e1, e2, e3, dead]) await store.recordEvent(e);
      await store.recordEvent({ eventId: 'x', key: `${key}-other`, payload: 'null', time: T0 + 25, seq: 5 });
      expect(await store.findEvents(key, 0)).toEqual([e1, e3, e2]);
      expect(await store.findEvents(key, T0 + 20)).toEqual([e3, e2]);
      expect(await store.findEvents(key, T0 + 21)).toEqual([e2]);
      expect(await store.findEvents(key, T0 + 50)).toEqual([]);
      expect(await store.findEvents(`${key}-none`, 0)).toEqual([]);
    });

    test('recording the same event again (a redelivery) keeps one copy', async () => {
      const key = `evt-${randomUUID()}`;
      const e: StoredEvent = { eventId: 'dup', key, payload: '1', time: T0, seq: 7 };
      await store.recordEvent(e);
      await store.recordEvent({ ...e, payload: '2' });
      expect(await store.findEvents(key, 0)).toEqual([{ ...e, payload: '2' }]);
    });

    test('event sequences: each take gives a greater number; eventSequence reads the last (0 before any)', async () => {
      const key = `seq-${randomUUID()}`;
      expect(await store.eventSequence(key)).toBe(0);
      const taken = [];
      for (let i = 0; i < 3; i++) taken.push(await store.takeEventSequence(key));
      expect(taken[0]).toBeGreaterThan(0);
      expect(taken[1]).toBe(taken[0]! + 1);
      expect(taken[2]).toBe(taken[1]! + 1);
      expect(await store.eventSequence(key)).toBe(taken[2]);
      expect(await store.eventSequence(`${key}-other`)).toBe(0);
      const concurrent = await Promise.all(Array.from({ length: 10 }, () => store.takeEventSequence(key)));
      expect(new Set(concurrent).size).toBe(10);
      expect(Math.min(...concurrent)).toBe(taken[2]! + 1);
      expect(await store.eventSequence(key)).toBe(taken[2]! + 10);
    });

    test('findEvents with afterSeq: every event with a greater number whatever its time, plus those at or after `since`', async () => {
      const key = `evt-${randomUUID()}`;
      const event = (eventId: string, time: number, seq: number): StoredEvent => ({ eventId, key, payload: 'null', time, seq });
      // e3 was pushed after e2 by a pusher whose clock is behind: order, not time, says it came later.
      const [e1, e2, e3, e4] = [event('e1', T0 + 10, 11), event('e2', T0 + 20, 12), event('e3', T0 - 5_000, 13), event('e4', T0 + 30, 14)];
      for (const e of [e1, e2, e3, e4]) await store.recordEvent(e);
      expect(await store.findEvents(key, Number.POSITIVE_INFINITY, 12)).toEqual([e3, e4]);
      expect(await store.findEvents(key, Number.POSITIVE_INFINITY, 14)).toEqual([]);
      expect(await store.findEvents(key, Number.POSITIVE_INFINITY, 0)).toEqual([e3, e1, e2, e4]);
      // lookback: pushed at or after T0 + 15 by time, or after number 13
      expect(await store.findEvents(key, T0 + 15, 13)).toEqual([e2, e4]);
      expect(await store.findEvents(key, T0 + 15, 12)).toEqual([e3, e2, e4]);
    });
  });

  describe('DAG task states', () => {
    test('written iff absent (no expected status) or in the expected status(es)', async () => {
      const wf = makeRun({ name: 'wf' });
      await store.createRun(wf);
      const state = (status: TaskState['status'], extra: Partial<TaskState> = {}): TaskState => ({ workflowRunId: wf.runId, task: 'second', status, updatedAt: T0, ...extra });
      expect(await store.putTaskState(state('WAITING'))).toBe(true);
      expect(await store.putTaskState(state('QUEUED'))).toBe(false);
      expect(await store.putTaskState(state('QUEUED'), 'RUNNING')).toBe(false);
      expect(await store.putTaskState(state('QUEUED'), ['RUNNING', 'WAITING'])).toBe(true);
      expect(await store.putTaskState(state('SKIPPED'), [])).toBe(false);
      const done = state('SUCCEEDED', { taskRunId: 'r', output: '{"a":1}', triggers: { skipIf: false, waitFor: { sleep: 1 } } });
      expect(await store.putTaskState(done, 'QUEUED')).toBe(true);
      expect(await store.putTaskState({ ...state('QUEUED'), task: 'absent' }, 'QUEUED')).toBe(false);
      const first = { ...state('RUNNING'), task: 'first', error: { name: 'E', message: 'm' } };
      expect(await store.putTaskState(first)).toBe(true);
      const tasks = (await store.loadRun(wf.runId))?.tasks ?? [];
      expect([...tasks].sort((a, b) => a.task.localeCompare(b.task))).toEqual([first, done]);
    });
  });

}
