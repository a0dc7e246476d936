/**
 * The low-level write of a run item that both run stores share: a patch applied iff a condition holds. The
 * engine never writes it: it names an intent (sdk/ports/run-intents.ts) and the store translates it
 * (run-intents.ts here). Tests use `updateRun` on the bundled stores to forge states.
 */
import type { RunRecord, RunStatus } from '../../ports.ts';

/** One clause of a condition on the run item: every field given must hold. */
export interface RunClause {
  status?: readonly RunStatus[];
  leaseOwner?: string;
  /** `leaseUntil < leaseExpiredBefore` (or no lease at all). */
  leaseExpiredBefore?: number;
  wake?: number;
  /** `wake <> seen`: a resolution arrived since the last replay started. */
  wakePending?: true;
  /** `wakeAt <= wakeDueBy`. */
  wakeDueBy?: number;
  attempt?: number;
  notCancelRequested?: true;
}

/** A condition on the run item: one clause, or several meaning Or. */
export type RunCondition = RunClause | readonly RunClause[];

/** The clauses of a condition (Or'ed): one clause, or the list as given. */
export function clausesOf(condition: RunCondition): readonly RunClause[] {
  return Array.isArray(condition) ? condition : [condition as RunClause];
}

/** A change to the run item. `set` overwrites fields, `remove` deletes them, `incrementWake` adds 1 to `wake`. */
export interface RunPatch {
  set?: Partial<Omit<RunRecord, 'runId' | 'wake'>>;
  remove?: readonly (keyof RunRecord)[];
  incrementWake?: true;
  /** `seen = wake` (after `incrementWake`, when both are given): the replay about to start consumes every resolution so far. */
  markSeen?: true;
  /** Adds to `runningMs`. */
  addRunningMs?: number;
}

/** Evaluates a RunCondition against a run item, with the same meaning as the DynamoDB condition expression. */
export function holds(run: RunRecord, condition: RunCondition): boolean {
  return clausesOf(condition).some((c) => clauseHolds(run, c));
}

function clauseHolds(run: RunRecord, c: RunClause): boolean {
  if (c.status && !c.status.includes(run.status)) return false;
  if (c.leaseOwner !== undefined && run.leaseOwner !== c.leaseOwner) return false;
  if (c.leaseExpiredBefore !== undefined && run.leaseUntil !== undefined && run.leaseUntil >= c.leaseExpiredBefore) return false;
  if (c.wake !== undefined && run.wake !== c.wake) return false;
  if (c.wakePending && run.wake === run.seen) return false;
  if (c.wakeDueBy !== undefined && (run.wakeAt === undefined || run.wakeAt > c.wakeDueBy)) return false;
  if (c.attempt !== undefined && run.attempt !== c.attempt) return false;
  if (c.notCancelRequested && run.cancelRequested === true) return false;
  return true;
}

/** Fields the patch deletes: `remove`, plus `set` fields given as `undefined` (the memory store leaves them undefined). */
export function removedFields(patch: RunPatch): Set<string> {
  const removed = new Set<string>(patch.remove ?? []);
  for (const [field, value] of Object.entries(patch.set ?? {})) if (value === undefined) removed.add(field);
  return removed;
}
