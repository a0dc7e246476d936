/** Taking up stranded runs: the periodic sweep (any deployment) and the recovery after a single-process restart. */
import type { Backend } from '../../ports.ts';
import type { EngineOptions } from '../engine.ts';
import { redispatchQueued } from '../sweep-policy.ts';

/** The engine's sweep tuning (EngineOptions). */
export type SweepOptions = Pick<EngineOptions, 'sweepQueuedAfterMs' | 'sweepPeriodMs'>;

/** Re-dispatches runs stranded by a lost message or an expired lease; remembers when it last finished. */
export class Sweeper {
  private lastSweepAt: number | undefined;

  async sweep(backend: Backend, options: SweepOptions, limit: number): Promise<number> {
    const now = backend.clock.now();
    const candidates = await backend.store.sweepCandidates(now, limit);
    // A QUEUED run is usually still on its way (or waiting in a backlog): only one untouched for a while may have
    // lost its message, and it is re-sent at doubling ages, not every sweep (sweep-policy.ts).
    const queuedAfter = options.sweepQueuedAfterMs ?? 60_000;
    const sinceLastSweep = this.lastSweepAt === undefined ? (options.sweepPeriodMs ?? 60_000) : now - this.lastSweepAt;
    const stale = candidates.filter((r) => r.status !== 'QUEUED' || redispatchQueued(now - r.updatedAt, queuedAfter, sinceLastSweep));
    for (const run of stale) await backend.dispatcher.dispatch({ runId: run.runId });
    // Only a sweep that finished counts: after a failed one, the next covers its window too.
    this.lastSweepAt = now;
    return stale.length;
  }
}

/**
 * After a restart of a single-process engine (local mode): no other process can hold a lease, so every
 * unfinished run is taken up at once (leases broken, due runs dispatched, future timers re-armed).
 */
export async function recoverRuns(backend: Backend): Promise<{ dispatched: number; rearmed: number }> {
  const now = backend.clock.now();
  let dispatched = 0;
  let rearmed = 0;
  for (const run of await backend.store.sweepCandidates(Number.MAX_SAFE_INTEGER, 100_000)) {
    if (run.status === 'RUNNING') await backend.store.expireLease(run.runId);
    if (run.status === 'WAITING' && run.wake === run.seen && run.wakeAt !== undefined && run.wakeAt > now) {
      await backend.timers.schedule(`${run.runId}-recover-${run.wakeAt}`, run.wakeAt, { runId: run.runId });
      rearmed++;
    } else {
      await backend.dispatcher.dispatch({ runId: run.runId });
      dispatched++;
    }
  }
  return { dispatched, rearmed };
}
