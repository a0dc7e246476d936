/**
 * The RunStore contract: one suite, run against every implementation (memory, DynamoDB on dynalite), so
 * they cannot drift. Each test gets a fresh, empty store. Times are real epoch milliseconds (TTL checks
 * compare with the store's clock, Date.now by default).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { holds } from '../../sdk/adapters/memory/memory-store.ts';
import type { JournalEntry, RunClause, RunCondition, RunRecord, RunStore, StoredEvent, TaskState, Waiter } from '../../sdk/ports.ts';

export interface StoreUnderTest {
  store: RunStore;
  close(): Promise<void>;
}

const T0 = Date.now();
const expiredTtl = () => Math.floor(Date.now() / 1000) - 60;
const liveTtl = () => Math.floor(Date.now() / 1000) + 3600;

export function makeRun(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    runId: `run-${randomUUID()}`,
    name: 'task',
    status: 'QUEUED',
    input: '{"id":1}',
    createdAt: T0,
    updatedAt: T0,
    attempt: 0,
    wake: 0,
    seen: 0,
    runningMs: 0,
    ...overrides,
  };
}

export function makeEntry(position: number, overrides: Partial<JournalEntry> = {}): JournalEntry {
  return { attempt: 0, position, kind: 'step', name: `step-${position}`, status: 'done', result: `{"n":${position}}`, createdAt: T0, ...overrides };
}

export function makeWaiter(runId: string, overrides: Partial<Waiter> = {}): Waiter {
  return {
    runId,
    attempt: 0,
    position: 1,
    index: 0,
    opKind: 'wait',
    opName: 'order:paid',
    conditions: '{"type":"leaf","index":0}',
    type: 'event',
    readableDataKey: 'paid',
    eventKey: 'order:paid',
    expression: 'input.amount > 100',
    since: T0,
    createdAt: T0,
    ...overrides,
  };
}

const ids = (runs: readonly { runId: string }[]) => runs.map((r) => r.runId).sort();

/** The engine's lease condition (sdk/core/executor.ts `leaseCondition`), spelled out: the store must not depend on core. */
const leaseClauses = (now: number): RunClause[] => [
  { status: ['QUEUED'] },
  { status: ['WAITING'], wakePending: true },
  { status: ['WAITING'], wakeDueBy: now },
  { status: ['RUNNING'], leaseExpiredBefore: now },
];

export function runStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`RunStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: RunStore;
    beforeEach(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.close();
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

      test('the engine lifecycle: lease, suspend, wake, re-lease, finish', async () => {
        const run = makeRun();
        await store.createRun(run);
        const lease = (now: number) => [
          { status: ['QUEUED'] },
          { status: ['WAITING'], wakePending: true },
          { status: ['WAITING'], wakeDueBy: now },
          { status: ['RUNNING'], leaseExpiredBefore: now },
        ] satisfies RunClause[];
        const leased = await store.updateRun(
          run.runId,
          { set: { status: 'RUNNING', leaseOwner: 'w1', leaseUntil: T0 + 100, updatedAt: T0 }, markSeen: true, remove: ['wakeAt'] },
          lease(T0),
        );
        expect(leased).toMatchObject({ status: 'RUNNING', leaseOwner: 'w1', wake: 0, seen: 0 });
        // A second worker cannot lease while the lease holds.
        expect(await store.updateRun(run.runId, { set: { leaseOwner: 'w2' } }, lease(T0 + 50))).toBeUndefined();
        const suspended = await store.updateRun(
          run.runId,
          { set: { status: 'WAITING', updatedAt: T0 + 10 }, remove: ['leaseOwner', 'leaseUntil', 'wakeAt'], addRunningMs: 10 },
          { leaseOwner: 'w1', notCancelRequested: true, wake: 0 },
        );
        expect(suspended).toMatchObject({ status: 'WAITING', runningMs: 10 });
        expect(await store.updateRun(run.runId, { set: { leaseOwner: 'w2' } }, lease(T0 + 20))).toBeUndefined();
        const woken = await store.updateRun(run.runId, { incrementWake: true }, { status: ['QUEUED', 'RUNNING', 'WAITING'] });
        expect(woken).toMatchObject({ wake: 1, seen: 0 });
        const again = await store.updateRun(
          run.runId,
          { set: { status: 'RUNNING', leaseOwner: 'w2', leaseUntil: T0 + 200, updatedAt: T0 + 20 }, markSeen: true, remove: ['wakeAt'] },
          lease(T0 + 20),
        );
        expect(again).toMatchObject({ status: 'RUNNING', leaseOwner: 'w2', wake: 1, seen: 1 });
        const done = await store.updateRun(
          run.runId,
          { set: { status: 'SUCCEEDED', output: '1', updatedAt: T0 + 30 }, remove: ['leaseOwner', 'leaseUntil', 'wakeAt'], addRunningMs: 5 },
          { leaseOwner: 'w2', notCancelRequested: true },
        );
        expect(done).toMatchObject({ status: 'SUCCEEDED', output: '1', runningMs: 15 });
        expect(done?.leaseOwner).toBeUndefined();
      });
    });

    describe('journal entries', () => {
      test('first write wins; a later write gets the recorded entry back', async () => {
        const run = makeRun();
        await store.createRun(run);
        const first = makeEntry(0, { error: { name: 'E', message: 'm', data: { a: 1 } }, status: 'failed', result: undefined });
        expect(await store.putEntry(run.runId, first)).toEqual({ won: true, entry: first, carried: [] });
        const second = makeEntry(0, { name: 'other', result: '"late"' });
        expect(await store.putEntry(run.runId, second)).toEqual({ won: false, entry: first, carried: [] });
        // Same position in another attempt is another entry.
        const nextAttempt = makeEntry(0, { attempt: 1 });
        expect((await store.putEntry(run.runId, nextAttempt)).won).toBe(true);
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
        expect(await store.putEntry(run.runId, step, [sleep(0, 100)])).toEqual({ won: true, entry: step, carried: [sleep(0, 100)] });
        loaded = await store.loadRun(run.runId);
        expect(loaded?.entries).toEqual([sleep(0, 100), step]);
        expect(loaded?.parked).toEqual([]);
        // A loser learns what the winner's item carries.
        expect(await store.putEntry(run.runId, makeEntry(1, { result: '"late"' }), [sleep(0, 999)])).toEqual({ won: false, entry: step, carried: [sleep(0, 100)] });
        // Precedence: an item's own entry, then a carried copy, then the run item's.
        await store.updateRun(run.runId, { set: { parkedEntries: [sleep(0, 7), sleep(2, 300), sleep(3, 400)] } });
        await store.putEntry(run.runId, sleep(3, 401));
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
        await store.putEntry(run.runId, makeEntry(1, { status: 'retrying', stepAttempt: 1, retryAt: 10, result: undefined, error: { name: 'E', message: 'm' } }), [sleep]);
        const done = makeEntry(1, { result: '"ok"' });
        expect(await store.updateRetryingEntry(run.runId, done, 1)).toBe(true);
        expect((await store.loadRun(run.runId))?.entries).toEqual([sleep, done]);
      });

      test('20 concurrent writers race for one position: exactly one wins, all see its entry', async () => {
        const run = makeRun();
        await store.createRun(run);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.putEntry(run.runId, makeEntry(5, { result: `{"writer":${i}}`, resolvedBy: `w${i}` }))),
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
        await store.putEntry(run.runId, retrying);
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

    describe('waiters', () => {
      test('put, load (sorted), overwrite idempotently, delete', async () => {
        const run = makeRun({ status: 'WAITING' });
        await store.createRun(run);
        const sleep = makeWaiter(run.runId, { position: 10, index: 1, type: 'sleep', dueAt: T0 + 60_000, eventKey: undefined, expression: undefined, readableDataKey: 'sleep' });
        const event = makeWaiter(run.runId, { position: 10, index: 0, scope: 'tenant-a' });
        const earlier = makeWaiter(run.runId, { position: 2, index: 3 });
        await store.putWaiters([sleep, event, earlier]);
        expect((await store.loadRun(run.runId))?.waiters).toEqual([earlier, event, sleep]);
        const satisfied = { ...event, satisfiedAt: T0 + 5, data: '{"amount":120}' };
        await store.putWaiters([satisfied]);
        expect((await store.loadRun(run.runId))?.waiters).toEqual([earlier, satisfied, sleep]);
        await store.deleteWaiters([{ runId: run.runId, attempt: 0, position: 10, index: 0 }, { runId: run.runId, attempt: 0, position: 99, index: 0 }]);
        expect((await store.loadRun(run.runId))?.waiters).toEqual([earlier, sleep]);
        await store.putWaiters([]);
        await store.deleteWaiters([]);
      });

      test('findWaiters finds every event waiter of a key across runs (all shards), and nothing else', async () => {
        const key = `key-${randomUUID()}`;
        const runs = Array.from({ length: 16 }, () => makeRun({ status: 'WAITING' }));
        for (const run of runs) await store.createRun(run);
        const wanted = runs.map((run, i) => makeWaiter(run.runId, { eventKey: key, position: i % 3, createdAt: T0 + i }));
        await store.putWaiters(wanted);
        await store.putWaiters([
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
        await store.putWaiters([live, dead]);
        expect(await store.findWaiters(key)).toEqual([live]);
        expect((await store.loadRun(run.runId))?.waiters).toEqual([live]);
      });

      test('findWaiters sees a waiter as soon as putWaiters returns, and not once deleteWaiters returns', async () => {
        // The router records an event, then looks for waiters; a wait registers its waiters, then looks for
        // events. Whichever comes second must see the first: both reads must follow the writes before them.
        const run = makeRun({ status: 'WAITING' });
        await store.createRun(run);
        const key = `key-${randomUUID()}`;
        for (let i = 0; i < 5; i++) {
          const waiter = makeWaiter(run.runId, { eventKey: key, position: i, index: 1 });
          await store.putWaiters([waiter]);
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
        await store.putWaiters([waiter]);
        const marked = { ...waiter, satisfiedAt: T0 + 9, data: '{"amount":150}' };
        await store.putWaiters([marked]);
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
        await store.putWaiters([...ofA, ...ofB]);
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
        await store.putWaiters(waiters);
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
        const swept = async (at: number) => (await store.sweepCandidates(at, 100)).some((r) => r.runId === run.runId);
        const lease = (at: number, owner: string) =>
          store.updateRun(run.runId, { set: { status: 'RUNNING', leaseOwner: owner, leaseUntil: at + 100, updatedAt: at }, markSeen: true, remove: ['wakeAt'] }, leaseClauses(at));
        // from QUEUED
        expect(await lease(now, 'w1')).toBeDefined();
        expect(await swept(now)).toBe(false);
        expect(await swept(now + 100)).toBe(false);
        expect(await swept(now + 101)).toBe(true);
        // a heartbeat
        await store.updateRun(run.runId, { set: { leaseUntil: now + 500 } }, { leaseOwner: 'w1', status: ['RUNNING'] });
        expect(await swept(now + 101)).toBe(false);
        expect(await swept(now + 501)).toBe(true);
        // taken over once expired (RUNNING with an expired lease)
        expect(await lease(now + 600, 'w2')).toBeDefined();
        expect(await swept(now + 600)).toBe(false);
        expect(await swept(now + 701)).toBe(true);
        // from a due timer
        await store.updateRun(run.runId, { set: { status: 'WAITING', wakeAt: now + 1000 }, remove: ['leaseOwner', 'leaseUntil'] }, { leaseOwner: 'w2', wake: 0 });
        expect(await swept(now + 999)).toBe(false);
        expect(await lease(now + 1000, 'w3')).toBeDefined();
        expect(await swept(now + 1000)).toBe(false);
        expect(await swept(now + 1101)).toBe(true);
        // from a pending wake
        await store.updateRun(run.runId, { set: { status: 'WAITING' }, remove: ['leaseOwner', 'leaseUntil', 'wakeAt'] }, { leaseOwner: 'w3', wake: 0 });
        await store.updateRun(run.runId, { incrementWake: true }, { status: ['QUEUED', 'RUNNING', 'WAITING'] });
        expect(await lease(now + 2000, 'w4')).toBeDefined();
        expect(await swept(now + 2000)).toBe(false);
        expect(await swept(now + 2101)).toBe(true);
        // a lease broken on purpose (recover): due at once
        await store.updateRun(run.runId, { set: { leaseUntil: 0 } }, { status: ['RUNNING'] });
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

      test('follows every transition the engine makes', async () => {
        const run = makeRun();
        await store.createRun(run);
        const swept = async (at: number) => (await store.sweepCandidates(at, 100)).some((r) => r.runId === run.runId);
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

    describe('loadRun', () => {
      test('the run with its journal (by attempt, then position), waiters and task states', async () => {
        const run = makeRun({ status: 'WAITING' });
        await store.createRun(run);
        const entries = [makeEntry(10), makeEntry(2), makeEntry(0, { attempt: 1 }), makeEntry(0), makeEntry(100_000)];
        for (const e of entries) await store.putEntry(run.runId, e);
        const waiter = makeWaiter(run.runId);
        await store.putWaiters([waiter]);
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
          await Promise.all(positions.slice(i, i + 50).map((p) => store.putEntry(run.runId, makeEntry(p, { result: text }))));
        }
        await store.putWaiters([makeWaiter(run.runId)]);
        const loaded = await store.loadRun(run.runId);
        expect(loaded?.entries).toHaveLength(400);
        expect(loaded?.entries.map((e) => e.position)).toEqual(positions);
        expect(loaded?.entries.every((e) => e.result === text)).toBe(true);
        expect(loaded?.waiters).toHaveLength(1);
        expect(loaded?.run.runId).toBe(run.runId);
      });
    });
  });
}
