/**
 * The sweep index (`gsi2`, keys only): every run the sweeper may have to look at carries
 * `gsi2pk = SWEEP#<shard>` and `gsi2sk` = a time (epoch ms) from which the sweeper must look at it, so
 * `sweepCandidates(now)` reads the keys with `gsi2sk <= now`, reads those runs (BatchGetItem) and keeps
 * the ones the exact predicate accepts (`isSweepCandidate`). Terminal runs, and runs parked on events
 * alone, carry neither attribute and stay out of the index.
 *
 * Why keys only: an index write is paid on every change of an indexed key **or projected attribute**. With
 * the run's status and lease projected, every lease cost an index write; keys only, a lease costs nothing
 * there, and the sweeper pays one eventually consistent read (0.5 RRU, $0.06 per million) per run it
 * looks at, which is only the runs whose key is already due.
 *
 * What the key must be: never later than the moment the run becomes a candidate (or a run whose worker died
 * would be stranded); as late as possible otherwise (each sweep reads every indexed run with a key <= now).
 * - QUEUED: 0.
 * - WAITING: 0 with a pending wake (`wake <> seen`); else its `wakeAt` (a timer); else not indexed: a run
 *   parked on events only needs the sweeper again only once it is woken, and the wake (one UpdateItem that
 *   sets the key to 0) puts it back. Rather than a far-future key: leaving the index costs one index write (a
 *   delete), moving to a far-future key two (a delete and a put), and the wake pays the same again.
 *   A timer due soon (within `holdMs`, see {@link SWEEP_HOLD_MS}) keeps the key the run had while running
 *   (always in the past, see RUNNING): moving it costs two index writes, holding it costs a read per sweep
 *   until the timer fires, cheaper for waits shorter than a few sweeps.
 * - RUNNING: any time <= its lease's end. A lease is taken only from a key already <= now (QUEUED: 0; WAITING
 *   pending: 0, or due: key <= `wakeAt` <= now; RUNNING with an expired lease: <= that lease's end, < now), and
 *   lease renewals only push the end later, so **a lease leaves the key as it is**: the sweeper sees the
 *   RUNNING run, and skips it until its lease expires.
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
import { TERMINAL_STATUSES, clausesOf } from '../../ports.ts';
import { SWEEP_INDEX_SORT_KEY } from './table-schema.ts';

/**
 * How long before its timer a parked run may keep an earlier sweep key (see the file comment). Holding
 * costs one sweep read per minute (0.5 RRU, $0.0625 per million); moving the key costs an index delete and
 * put (2 WRU, $1.25 per million): holding is cheaper for any wait under 20 one-minute sweeps. But every
 * held run is read by every sweep, so the hold also bounds the sweeper's work (runs parked per minute ×
 * the hold): 5 minutes keeps the short waits (backoffs, polling, rate limits) cheap and the sweeper light.
 */
export const SWEEP_HOLD_MS = 5 * 60_000;

/**
 * Where the sweep index should hold `run`: a sort key, or `undefined` when it must not be indexed. For a
 * RUNNING run any key up to this one is right too (see the file comment), and for a WAITING run whose
 * timer is due within the hold, any key up to its `wakeAt` ({@link acceptableSweepKey}).
 */
export function sweepKey(run: RunRecord): number | undefined {
  switch (run.status) {
    case 'QUEUED':
      return 0;
    case 'RUNNING':
      return run.leaseUntil ?? 0;
    case 'WAITING':
      return run.wake !== run.seen ? 0 : run.wakeAt;
    default:
      return undefined;
  }
}

/**
 * Whether the index key `actual` (undefined: not indexed) is right for `run` at `now`: the wanted key, or an
 * earlier one where that is allowed (a RUNNING run; a WAITING run whose timer is due within `holdMs`).
 */
export function acceptableSweepKey(run: RunRecord, actual: number | undefined, now: number, holdMs: number): boolean {
  const wanted = sweepKey(run);
  if (wanted === actual) return true;
  if (actual === undefined || wanted === undefined) return false;
  if (run.status === 'RUNNING') return actual <= Math.max(wanted, now);
  return run.status === 'WAITING' && run.wake === run.seen && actual <= wanted && wanted - now <= holdMs;
}

/** The sweeper's predicate, identical to the memory store's. */
export function isSweepCandidate(run: RunRecord, now: number): boolean {
  return (
    run.status === 'QUEUED' ||
    (run.status === 'RUNNING' && (run.leaseUntil ?? 0) < now) ||
    (run.status === 'WAITING' && (run.wake !== run.seen || (run.wakeAt !== undefined && run.wakeAt <= now)))
  );
}

/**
 * A sort-key value computed by DynamoDB: a literal, or an attribute of the item with a fallback (`wakeAt`
 * when the patch leaves it alone; the key itself when an earlier key may be held).
 */
export type SweepOperand = { value: number } | { attribute: 'wakeAt' | 'gsi2sk'; fallback: number };

/** How one `updateRun` moves the run in the sweep index. */
export type SweepPlan =
  | { type: 'keep' }
  | { type: 'remove' }
  /**
   * `withPartition`: also (re)write `gsi2pk`, needed when the run may be out of the index (a terminal run,
   * a run parked on events); only when the status is known to be non-terminal after the patch.
   */
  | { type: 'set'; key: SweepOperand; withPartition: boolean };

/**
 * Derives the sweep-index change of `patch`; exact whenever the patch (and condition) determine it. `now`
 * and `holdMs` decide whether a timer due soon keeps the key the run has (file comment).
 */
export function planSweepUpdate(patch: RunPatch, condition: RunCondition | undefined, now: number, holdMs = SWEEP_HOLD_MS): SweepPlan {
  const set = patch.set ?? {};
  const removed = removedFields(patch);
  const touches = (field: 'wakeAt' | 'seen') => removed.has(field) || set[field] !== undefined;
  const setStatus = removed.has('status') ? undefined : set.status;
  // The lease (`leaseUntil`, `leaseOwner`) never moves the key: see the file comment.
  const relevant = setStatus !== undefined || touches('wakeAt') || touches('seen') || patch.incrementWake === true || patch.markSeen === true;
  if (!relevant) return { type: 'keep' };

  const status = setStatus ?? statusPinnedBy(condition);
  if (status !== undefined && TERMINAL_STATUSES.includes(status)) return { type: 'remove' };
  const withPartition = setStatus !== undefined || nonTerminalBy(condition);

  const wakeAt = operandFor(set.wakeAt, removed.has('wakeAt'));
  // After the patch, is a resolution pending (wake <> seen)? markSeen settles it; incrementWake alone makes it so.
  const pending = patch.markSeen ? false : patch.incrementWake && !touches('seen') ? true : undefined;

  switch (status) {
    case 'QUEUED':
      return { type: 'set', key: { value: 0 }, withPartition };
    case 'RUNNING':
      // A lease, a heartbeat, a lease break: the key is already early enough (file comment).
      return { type: 'keep' };
    case 'WAITING': {
      // Unknown pendency: guess "not pending" (a suspend is conditional on `wake`); verified afterwards.
      if (pending) return { type: 'set', key: { value: 0 }, withPartition };
      if (wakeAt === undefined) return { type: 'remove' };
      // A suspend is conditional on the lease, so the run is RUNNING and its key is already in the past.
      if ('value' in wakeAt && wakeAt.value - now <= holdMs && condition !== undefined && heldBy(condition)) {
        return { type: 'set', key: { attribute: SWEEP_INDEX_SORT_KEY, fallback: wakeAt.value }, withPartition };
      }
      return { type: 'set', key: wakeAt, withPartition };
    }
    default:
      // Status unknown (a wake, a re-lease after a failed suspend, a patch without a condition).
      if (pending) return { type: 'set', key: { value: 0 }, withPartition };
      if (touches('wakeAt') && wakeAt !== undefined) return { type: 'set', key: wakeAt, withPartition };
      return { type: 'keep' };
  }
}

/** Fields the patch deletes: `remove`, plus `set` fields given as `undefined` (the memory store leaves them undefined). */
export function removedFields(patch: RunPatch): Set<string> {
  const removed = new Set<string>(patch.remove ?? []);
  for (const [field, value] of Object.entries(patch.set ?? {})) if (value === undefined) removed.add(field);
  return removed;
}

/** The key a timer wait wants: `wakeAt` as set, as stored (when the patch leaves it), or none (removed). */
function operandFor(value: number | undefined, removed: boolean): SweepOperand | undefined {
  if (removed) return undefined;
  if (value !== undefined) return { value };
  // Left alone: DynamoDB copies the stored `wakeAt`; a run without one is repaired afterwards.
  return { attribute: 'wakeAt', fallback: 0 };
}

/** Every clause requires a lease owner: the run is RUNNING (a lease owner exists only then). */
function heldBy(condition: RunCondition): boolean {
  const clauses = clausesOf(condition);
  return clauses.length > 0 && clauses.every((c) => c.leaseOwner !== undefined);
}

/** Every clause requires a non-terminal status (or a lease owner, which only a RUNNING run has). */
function nonTerminalBy(condition: RunCondition | undefined): boolean {
  if (condition === undefined) return false;
  const clauses = clausesOf(condition);
  return (
    clauses.length > 0 &&
    clauses.every((c) => c.leaseOwner !== undefined || (c.status !== undefined && c.status.length > 0 && c.status.every((s) => !TERMINAL_STATUSES.includes(s))))
  );
}

/** The status every clause of `condition` requires, when they all require the same single one. */
function statusPinnedBy(condition: RunCondition | undefined): RunStatus | undefined {
  if (condition === undefined) return undefined;
  let pinned: RunStatus | undefined;
  for (const clause of clausesOf(condition)) {
    if (clause.status?.length !== 1) return undefined;
    const status = clause.status[0]!;
    if (pinned !== undefined && pinned !== status) return undefined;
    pinned = status;
  }
  return pinned;
}
