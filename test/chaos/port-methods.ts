/**
 * Every store method name the chaos suite knows, in one place: which RunStore and FlowStore methods the fault
 * wrappers intercept, which of them are faulted as writes, which take an event key rather than a run id, and what
 * a completed store call tells the ledger (a run turned terminal, a journal position won, a retry state updated).
 * When a port method is renamed or replaced, this file is the one to change.
 */
import type { JournalEntry, RunRecord } from '../../sdk/ports.ts';

/** The run store's writes of the run item, one per intent (sdk/ports/run-intents.ts). */
export const RUN_INTENTS = ['lease', 'heartbeat', 'releaseLease', 'expireLease', 'replayAgain', 'suspend', 'retry', 'finish', 'finishCancelled', 'wake', 'requestCancel', 'setFlow', 'queue'];

/** The RunStore methods the wrapper intercepts (faults, crashes, call counting); any other passes through. */
export const STORE_METHODS = [
  'createRun',
  'getRun',
  'listRuns',
  ...RUN_INTENTS,
  'loadRun',
  'recordEntry',
  'putStreamChunk',
  'updateRetryingEntry',
  'registerWaiters',
  'deleteWaiters',
  'findWaiters',
  'takeEventSequence',
  'eventSequence',
  'recordEvent',
  'findEvents',
  'findEventsPage',
  'putTaskState',
  'sweepCandidates',
];

/** Faulted as writes (they may also fail after applying, or stall past the lease); the others as reads. */
export const STORE_WRITES = new Set(['createRun', ...RUN_INTENTS, 'recordEntry', 'updateRetryingEntry', 'registerWaiters', 'deleteWaiters', 'takeEventSequence', 'recordEvent', 'putTaskState']);

/** Store methods whose first argument is an event key, not a run id. */
export const KEYED_BY_EVENT_KEY = new Set(['findWaiters', 'findEvents', 'findEventsPage', 'takeEventSequence', 'eventSequence']);

/** The read that loads a run with its journal: a replay's view of the journal is its operation's latest one. */
export const LOAD_RUN = 'loadRun';

/** Reads: every other intercepted store call counts as a write in the ledger's figures. */
const LEDGER_READS = new Set(['getRun', 'loadRun', 'listRuns', 'findWaiters', 'findEvents', 'findEventsPage', 'eventSequence', 'sweepCandidates']);

/** Flow-control counters (sdk/ports.ts FlowStore): every method but `queueHead` writes. */
export const FLOW_METHODS = [
  'acquireSlot',
  'readSlot',
  'releaseSlot',
  'transferSlot',
  'markSlotChecked',
  'enqueue',
  'dequeue',
  'queueHead',
  'consumeUnits',
  'upsertRateLimit',
  'enqueueRateWaiter',
  'dequeueRateWaiter',
  'rateWaitersAhead',
  'markRateChecked',
];
/** The flow store's reads (faulted as reads: they can fail or lag, never half-apply). */
export const FLOW_READS = new Set(['readSlot', 'queueHead', 'rateWaitersAhead']);

/** What one completed store call means to the ledger. */
export type StoreCallEffect =
  | { kind: 'run-updated'; run: RunRecord | undefined }
  /** A first-writer-wins journal write: `won` says whether this call's entry is the one stored. */
  | { kind: 'entry-put'; runId: string; entry: JournalEntry; won: boolean }
  /** A retrying step's entry moved to its next attempt (`applied`: the condition held). */
  | { kind: 'retry-updated'; runId: string; entry: JournalEntry; applied: boolean }
  | { kind: 'other' };

export function storeCallEffect(method: string, args: unknown[], result: unknown): StoreCallEffect {
  if (RUN_INTENTS.includes(method)) return { kind: 'run-updated', run: result as RunRecord | undefined };
  switch (method) {
    case 'recordEntry': {
      const [runId, entry] = args as [string, JournalEntry];
      return { kind: 'entry-put', runId, entry, won: (result as { won: boolean }).won };
    }
    case 'updateRetryingEntry': {
      const [runId, entry] = args as [string, JournalEntry];
      return { kind: 'retry-updated', runId, entry, applied: result === true };
    }
    default:
      return { kind: 'other' };
  }
}

/** Whether the ledger counts the call as a store write. */
export function isLedgerWrite(method: string): boolean {
  return !LEDGER_READS.has(method);
}
