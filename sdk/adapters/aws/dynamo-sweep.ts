/**
 * The sweep index (`gsi2`): every non-terminal run carries `gsi2pk = SWEEP#<shard>` and `gsi2sk` = a time
 * (epoch ms) from which the sweeper must look at it, so `sweepCandidates(now)` reads `gsi2sk <= now` and
 * post-filters with the exact predicate (`isSweepCandidate`). Terminal runs carry neither attribute and drop
 * out of the index. The index projects only `SWEEP_PROJECTED_ATTRIBUTES` (table-schema.ts).
 *
 * What the key must be: never later than the moment the run becomes a candidate (or a run whose worker died
 * would be stranded); as late as possible otherwise (each sweep reads every indexed run with a key <= now).
 * - QUEUED: 0.
 * - WAITING: 0 with a pending wake (`wake <> seen`), else `wakeAt`, else NEVER (events only).
 * - RUNNING: any time <= its lease's end. A lease is taken only from a key already <= now (QUEUED: 0; WAITING
 *   pending: 0, or due: `wakeAt <= now`; RUNNING with an expired lease: <= that lease's end, < now), and lease
 *   renewals only push the end later, so **a lease leaves the key as it is**: the sweeper sees the RUNNING run,
 *   and skips it until its lease expires. That saves moving the key (an index delete + put) on every lease
 *   and every heartbeat; the only cost is that each sweep also reads the running runs.
 *
 * Why the key is kept right from a single `UpdateItem`: a patch does not say what the item holds, yet most
 * patches determine the key anyway (a suspend sets status and `wakeAt`; a finish sets a terminal status; a
 * wake makes a resolution pending). `planSweepUpdate` derives it from the patch (and from the condition,
 * which pins the status when every clause names the same one), using `if_not_exists(attr, ...)` to copy an
 * attribute the patch leaves alone. When the patch leaves it ambiguous, it guesses; the store then checks the
 * returned item against `sweepKey` and, only on a mismatch, repairs the key with a second, conditional
 * request (see `DynamoRunStore.updateRun`). Of the engine's own patches only one ever needs it, rarely: a
 * retry parked on its backoff while a resolution arrived (the key must then be 0, not the backoff's end).
 */
import type { RunCondition, RunPatch, RunRecord, RunStatus } from '../../ports.ts';
import { TERMINAL_STATUSES } from '../../ports.ts';

/** Sort key of a run that is indexed but never due by time (WAITING on events only). */
export const NEVER = 8_640_000_000_000_000;

/**
 * Where the sweep index should hold `run`: a sort key, or `undefined` when it must not be indexed. For a
 * RUNNING run any key up to this one is right too (see the file comment).
 */
export function sweepKey(run: RunRecord): number | undefined {
  switch (run.status) {
    case 'QUEUED':
      return 0;
    case 'RUNNING':
      return run.leaseUntil ?? 0;
    case 'WAITING':
      return run.wake !== run.seen ? 0 : (run.wakeAt ?? NEVER);
    default:
      return undefined;
  }
}

/** The sweeper's predicate, identical to the memory store's. */
export function isSweepCandidate(run: RunRecord, now: number): boolean {
  return (
    run.status === 'QUEUED' ||
    (run.status === 'RUNNING' && (run.leaseUntil ?? 0) < now) ||
    (run.status === 'WAITING' && (run.wake !== run.seen || (run.wakeAt !== undefined && run.wakeAt <= now)))
  );
}

/** A sort-key value computed by DynamoDB: a literal, or an attribute of the item with a fallback. */
export type SweepOperand = { value: number } | { attribute: 'wakeAt'; fallback: number };

/** How one `updateRun` moves the run in the sweep index. */
export type SweepPlan =
  | { type: 'keep' }
  | { type: 'remove' }
  /** `withPartition`: also (re)write `gsi2pk`, needed when the status is set (it may leave a terminal one). */
  | { type: 'set'; key: SweepOperand; withPartition: boolean };

/** Derives the sweep-index change of `patch`; exact whenever the patch (and condition) determine it. */
export function planSweepUpdate(patch: RunPatch, condition: RunCondition | undefined): SweepPlan {
  const set = patch.set ?? {};
  const removed = removedFields(patch);
  const touches = (field: 'wakeAt' | 'seen') => removed.has(field) || set[field] !== undefined;
  const setStatus = removed.has('status') ? undefined : set.status;
  // The lease (`leaseUntil`, `leaseOwner`) never moves the key: see the file comment.
  const relevant = setStatus !== undefined || touches('wakeAt') || touches('seen') || patch.incrementWake === true || patch.markSeen === true;
  if (!relevant) return { type: 'keep' };

  const status = setStatus ?? statusPinnedBy(condition);
  if (status !== undefined && TERMINAL_STATUSES.includes(status)) return { type: 'remove' };
  const withPartition = setStatus !== undefined;

  const wakeAt = operandFor(set.wakeAt, removed.has('wakeAt'), 'wakeAt', NEVER);
  // After the patch, is a resolution pending (wake <> seen)? markSeen settles it; incrementWake alone makes it so.
  const pending = patch.markSeen ? false : patch.incrementWake && !touches('seen') ? true : undefined;

  switch (status) {
    case 'QUEUED':
      return { type: 'set', key: { value: 0 }, withPartition };
    case 'RUNNING':
      // A lease, a heartbeat, a lease break: the key is already early enough (file comment).
      return { type: 'keep' };
    case 'WAITING':
      // Unknown pendency: guess "not pending" (a suspend is conditional on `wake`); verified afterwards.
      return { type: 'set', key: pending ? { value: 0 } : wakeAt, withPartition };
    default:
      // Status unknown (a wake, a re-lease after a failed suspend, a patch without a condition).
      if (pending) return { type: 'set', key: { value: 0 }, withPartition };
      if (touches('wakeAt')) return { type: 'set', key: wakeAt, withPartition };
      return { type: 'keep' };
  }
}

/** Fields the patch deletes: `remove`, plus `set` fields given as `undefined` (the memory store leaves them undefined). */
export function removedFields(patch: RunPatch): Set<string> {
  const removed = new Set<string>(patch.remove ?? []);
  for (const [field, value] of Object.entries(patch.set ?? {})) if (value === undefined) removed.add(field);
  return removed;
}

function operandFor(value: number | undefined, removed: boolean, attribute: 'wakeAt', fallback: number): SweepOperand {
  if (removed) return { value: fallback };
  if (value !== undefined) return { value };
  return { attribute, fallback };
}

/** The status every clause of `condition` requires, when they all require the same single one. */
function statusPinnedBy(condition: RunCondition | undefined): RunStatus | undefined {
  if (condition === undefined) return undefined;
  const clauses = Array.isArray(condition) ? condition : [condition];
  let pinned: RunStatus | undefined;
  for (const clause of clauses as readonly { status?: readonly RunStatus[] }[]) {
    if (clause.status?.length !== 1) return undefined;
    const status = clause.status[0]!;
    if (pinned !== undefined && pinned !== status) return undefined;
    pinned = status;
  }
  return pinned;
}
