/**
 * What every part of the RunStore contract shares: the store under test, and runs, entries and waiters to put in it.
 * Times are real epoch milliseconds (TTL checks compare with the store's clock, Date.now by default).
 */
import { randomUUID } from 'node:crypto';
import type { RunClause, RunCondition, RunPatch } from '../../../sdk/adapters/shared/run-patch.ts';
import type { JournalEntry, RunRecord, RunStore, Waiter } from '../../../sdk/ports.ts';

/** A bundled store: the port, plus the low-level write its intents are made of (tests forge states with it). */
export type RawRunStore = RunStore & { updateRun(runId: string, patch: RunPatch, condition?: RunCondition): Promise<RunRecord | undefined> };

export interface StoreUnderTest {
  store: RawRunStore;
  close(): Promise<void>;
}

export const T0 = Date.now();
export const expiredTtl = () => Math.floor(Date.now() / 1000) - 60;
export const liveTtl = () => Math.floor(Date.now() / 1000) + 3600;

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

export const ids = (runs: readonly { runId: string }[]) => runs.map((r) => r.runId).sort();

/** The engine's lease condition (sdk/core/executor.ts `leaseCondition`), spelled out: the store must not depend on core. */
export const leaseClauses = (now: number): RunClause[] => [
  { status: ['QUEUED'] },
  { status: ['WAITING'], wakePending: true },
  { status: ['WAITING'], wakeDueBy: now },
  { status: ['RUNNING'], leaseExpiredBefore: now },
];

/** The store of the test that is running (the contract's beforeEach sets it). */
export interface CurrentStore {
  store: RawRunStore;
}

/** Whether the sweeper at time `at` is given the run `runId` (one page of up to 100 candidates). */
export async function isSwept(store: RunStore, runId: string, at: number): Promise<boolean> {
  return (await store.sweepCandidates(at, 100)).some((r) => r.runId === runId);
}
