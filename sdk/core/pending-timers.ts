/**
 * The timers a parked run may still have armed, so cancelling it can delete them: on AWS a timer more than
 * 15 minutes away is an EventBridge Scheduler schedule, which would otherwise fire after the run ended (a wasted
 * dispatch and invocation, and a schedule left in the group until then). Timer ids are deterministic
 * (`timerId`), so they are derived from the journal and the run item alone.
 */
import type { JournalEntry, LoadedRun } from '../ports.ts';
import { timerId } from './replay.ts';

/**
 * Ids of the timers `loaded` may have pending at `now`: sleeps not yet due, steps waiting for a retry, a task
 * retry's backoff, a scheduled start. Waiter timers (wait timeouts, sleep conditions) are not included: removing
 * the waiters cancels them.
 *
 * @example
 * for (const id of pendingTimerIds(loaded, clock.now())) await timers.cancel(id);
 */
export function pendingTimerIds(loaded: LoadedRun, now: number): string[] {
  const { run } = loaded;
  const ids = new Set(entryTimerIds(run.runId, loaded.entries.filter((entry) => entry.attempt === run.attempt), now));
  if (run.wakeAt !== undefined && run.wakeAt > now) {
    if (run.attempt === 0 && loaded.entries.length === 0) ids.add(`${run.runId}-start`);
    if (run.attempt > 0) ids.add(timerId(run.runId, run.attempt, -1, 0, run.wakeAt));
  }
  return [...ids];
}

/** Ids of the timers `entries` armed that are still pending at `now`: sleeps not yet due, steps waiting for a retry. */
export function entryTimerIds(runId: string, entries: readonly JournalEntry[], now: number): string[] {
  const ids: string[] = [];
  for (const entry of entries) {
    if (entry.kind === 'sleep' && (entry.dueAt ?? 0) > now) ids.push(timerId(runId, entry.attempt, entry.position, 0, entry.dueAt!));
    if (entry.status === 'retrying' && (entry.retryAt ?? 0) > now) ids.push(timerId(runId, entry.attempt, entry.position, entry.stepAttempt ?? 0, entry.retryAt!));
  }
  return ids;
}
