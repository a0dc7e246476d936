/**
 * What each intent of the run store (sdk/ports/run-intents.ts) writes, as the patch and condition both bundled
 * stores apply (memory: `MemoryRunStore.updateRun`; DynamoDB: one UpdateItem, with the sweep-index change the
 * intent implies, dynamo-sweep.ts). {@link RunItemWrites} gives a store the port's intent methods from one
 * `applyIntent`.
 */
import type {
  CancelledIntent,
  FinishIntent,
  FlowIntent,
  HeartbeatIntent,
  JournalEntry,
  LeaseIntent,
  QueueIntent,
  ReleaseLeaseIntent,
  ReplayAgainIntent,
  RetryIntent,
  RunIntent,
  RunRecord,
  RunStatus,
  SuspendIntent,
} from '../../ports.ts';
import { holds, type RunClause, type RunCondition, type RunPatch } from './run-patch.ts';

const NON_TERMINAL: readonly RunStatus[] = ['QUEUED', 'RUNNING', 'WAITING'];

/** The condition under which a worker may take a run at `now`. */
export function leaseCondition(now: number): RunClause[] {
  return [
    { status: ['QUEUED'] },
    { status: ['WAITING'], wakePending: true },
    { status: ['WAITING'], wakeDueBy: now },
    { status: ['RUNNING'], leaseExpiredBefore: now },
  ];
}

/**
 * The sweeper's predicate: the runs a worker may take at `now` (the lease's own condition), so both stores sweep
 * exactly the runs a redispatch can lease.
 */
export function isSweepCandidate(run: RunRecord, now: number): boolean {
  return holds(run, leaseCondition(now));
}

/** The run item's parked journal entries become `parked` (none: the attribute goes). */
function parkedFields(parked: readonly JournalEntry[] | undefined): { set: Pick<RunRecord, 'parkedEntries'>; remove: (keyof RunRecord)[] } {
  if (parked === undefined) return { set: {}, remove: [] };
  return parked.length ? { set: { parkedEntries: [...parked] }, remove: [] } : { set: {}, remove: ['parkedEntries'] };
}

/** The patch and condition of `intent`. */
export function planIntent(intent: RunIntent): { patch: RunPatch; condition: RunCondition } {
  switch (intent.type) {
    case 'lease':
      return {
        patch: { set: { status: 'RUNNING', leaseOwner: intent.owner, leaseUntil: intent.until, updatedAt: intent.now }, markSeen: true, remove: ['wakeAt'] },
        condition: leaseCondition(intent.now),
      };
    case 'heartbeat':
      return { patch: { set: { leaseUntil: intent.until } }, condition: { leaseOwner: intent.owner, status: ['RUNNING'] } };
    case 'releaseLease':
      return { patch: { set: { leaseUntil: intent.now - 1 }, remove: ['leaseOwner'] }, condition: { leaseOwner: intent.owner, status: ['RUNNING'] } };
    case 'expireLease':
      return { patch: { set: { leaseUntil: 0 } }, condition: { status: ['RUNNING'] } };
    case 'replayAgain': {
      const parked = parkedFields(intent.parked);
      return {
        patch: {
          markSeen: true,
          ...(intent.ranMs ? { addRunningMs: intent.ranMs } : {}),
          set: { leaseUntil: intent.until, ...parked.set, ...(intent.flow ? { flow: intent.flow } : {}) },
          ...(parked.remove.length ? { remove: parked.remove } : {}),
        },
        condition: { leaseOwner: intent.owner, status: ['RUNNING'] },
      };
    }
    case 'suspend': {
      const parked = parkedFields(intent.parked);
      return {
        patch: {
          set: { status: 'WAITING', updatedAt: intent.now, ...(intent.wakeAt !== undefined ? { wakeAt: intent.wakeAt } : {}), ...parked.set },
          remove: [...(intent.wakeAt !== undefined ? (['leaseOwner', 'leaseUntil'] as const) : (['leaseOwner', 'leaseUntil', 'wakeAt'] as const)), ...parked.remove],
          addRunningMs: intent.ranMs,
        },
        condition: { leaseOwner: intent.owner, notCancelRequested: true, wake: intent.wake },
      };
    }
    case 'retry':
      return {
        patch: {
          set: {
            attempt: intent.attempt,
            runningMs: 0,
            error: intent.error,
            updatedAt: intent.now,
            status: intent.wakeAt !== undefined ? 'WAITING' : 'QUEUED',
            ...(intent.wakeAt !== undefined ? { wakeAt: intent.wakeAt } : {}),
          },
          remove: ['leaseOwner', 'leaseUntil'],
          markSeen: true,
        },
        condition: { leaseOwner: intent.owner, notCancelRequested: true },
      };
    case 'finish': {
      const parked = parkedFields(intent.parked);
      const { outcome } = intent;
      const set: RunPatch['set'] = { status: outcome.status, updatedAt: intent.now, ...(intent.ttl !== undefined ? { ttl: intent.ttl } : {}), ...parked.set };
      if (outcome.status === 'SUCCEEDED' && outcome.output !== undefined) set.output = outcome.output;
      if (outcome.status === 'FAILED') set.error = outcome.error;
      const remove: (keyof RunRecord)[] = ['leaseOwner', 'leaseUntil', 'wakeAt', ...parked.remove];
      if (outcome.status === 'SUCCEEDED') remove.push('error');
      return { patch: { set, remove, addRunningMs: intent.ranMs }, condition: { leaseOwner: intent.owner, notCancelRequested: true } };
    }
    case 'cancelled':
      return {
        patch: {
          set: { status: 'CANCELLED', error: intent.error, updatedAt: intent.now, cancelRequested: true, ...(intent.ttl !== undefined ? { ttl: intent.ttl } : {}) },
          remove: ['leaseOwner', 'leaseUntil', 'wakeAt'],
        },
        condition: { status: NON_TERMINAL },
      };
    case 'wake':
      return { patch: { incrementWake: true }, condition: { status: NON_TERMINAL } };
    case 'requestCancel':
      return { patch: { set: { cancelRequested: true }, incrementWake: true }, condition: { status: NON_TERMINAL } };
    case 'setFlow':
      return { patch: { set: { flow: intent.flow } }, condition: { leaseOwner: intent.owner, notCancelRequested: true } };
    case 'queue':
      return {
        patch: {
          set: { status: 'QUEUED', flow: intent.flow, updatedAt: intent.now, ...(intent.wakeAt !== undefined ? { wakeAt: intent.wakeAt } : {}) },
          remove: intent.wakeAt !== undefined ? ['leaseOwner', 'leaseUntil'] : ['leaseOwner', 'leaseUntil', 'wakeAt'],
        },
        condition: { leaseOwner: intent.owner, notCancelRequested: true, wake: intent.wake },
      };
  }
}

/** The run store's intent methods, each one `applyIntent` call: a store extends this and writes the intent its way. */
export abstract class RunItemWrites {
  protected abstract applyIntent(runId: string, intent: RunIntent): Promise<RunRecord | undefined>;

  lease(runId: string, intent: LeaseIntent) {
    return this.applyIntent(runId, { type: 'lease', ...intent });
  }
  heartbeat(runId: string, intent: HeartbeatIntent) {
    return this.applyIntent(runId, { type: 'heartbeat', ...intent });
  }
  releaseLease(runId: string, intent: ReleaseLeaseIntent) {
    return this.applyIntent(runId, { type: 'releaseLease', ...intent });
  }
  expireLease(runId: string) {
    return this.applyIntent(runId, { type: 'expireLease' });
  }
  replayAgain(runId: string, intent: ReplayAgainIntent) {
    return this.applyIntent(runId, { type: 'replayAgain', ...intent });
  }
  suspend(runId: string, intent: SuspendIntent) {
    return this.applyIntent(runId, { type: 'suspend', ...intent });
  }
  retry(runId: string, intent: RetryIntent) {
    return this.applyIntent(runId, { type: 'retry', ...intent });
  }
  finish(runId: string, intent: FinishIntent) {
    return this.applyIntent(runId, { type: 'finish', ...intent });
  }
  finishCancelled(runId: string, intent: CancelledIntent) {
    return this.applyIntent(runId, { type: 'cancelled', ...intent });
  }
  wake(runId: string) {
    return this.applyIntent(runId, { type: 'wake' });
  }
  requestCancel(runId: string) {
    return this.applyIntent(runId, { type: 'requestCancel' });
  }
  setFlow(runId: string, intent: FlowIntent) {
    return this.applyIntent(runId, { type: 'setFlow', ...intent });
  }
  queue(runId: string, intent: QueueIntent) {
    return this.applyIntent(runId, { type: 'queue', ...intent });
  }
}
