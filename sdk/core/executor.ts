/**
 * Processes one "replay this run" message: lease the run (fenced, conditional), replay it, and record
 * the outcome with a write conditional on still holding the lease and on no resolution having arrived
 * meanwhile (the wake counter). A resolution that lands during the replay makes the suspend fail, and
 * the run is replayed again at once: no wake-up is lost.
 */
import { randomUUID } from 'node:crypto';
import type { Backend, JournalEntry, LoadedRun, RunRecord } from '../ports.ts';
import { TERMINAL_STATUSES } from '../ports.ts';
import { backoffDelayMs, type TaskSpec } from './definitions.ts';
import { PayloadTooLargeError, RunCancelledError, TaskNotFoundError, serializeError } from './errors.ts';
import { entryTimerIds, pendingTimerIds } from './pending-timers.ts';
import { replay, timerId, type ReplayOutcome, type ReplayServices } from './replay.ts';
import { scopeOf } from './run-scope.ts';
import { recordChildOutcome, type ChildOutcome } from './operations/journal-writer.ts';
import { traceReplay, withTraceparent } from './tracing.ts';
import { LeaseLostError, releaseLease, watchLease } from './lease.ts';

/** `queued`: flow control keeps the run QUEUED (a full concurrency key, a spent rate limit). */
export type ProcessResult = 'skipped' | 'completed' | 'failed' | 'suspended' | 'cancelled' | 'retrying' | 'lost-lease' | 'queued';

export interface ExecutorDeps {
  backend: Backend;
  /**
   * Who holds the lease (`leaseOwner`). `processRun` replaces it with a token of its own for each lease it
   * takes (`<workerId>/<random>`), so two replays of one run in one process fence each other too.
   */
  workerId: string;
  /** How long a lease lasts without renewal. */
  leaseMs: number;
  /** Seconds finished runs are kept (TTL), or undefined to keep forever. */
  retentionSeconds?: number;
  /** The task spec for a run, or undefined when this worker lacks it. */
  resolveSpec(run: RunRecord): TaskSpec | undefined;
  services(run: RunRecord): Promise<ReplayServices>;
  /**
   * Workflow (DAG) runs are orchestrated elsewhere; returns undefined when `run` is not a workflow run.
   * `deps` carry the lease this process took (its owner token).
   */
  processWorkflow?(run: RunRecord, deps: ExecutorDeps): Promise<ProcessResult | undefined>;
  /** Called after a run reached a terminal status (this process wrote it). */
  onFinished(run: RunRecord): Promise<void>;
  /**
   * Flow control (sdk/core/flow/gate.ts): takes the run's rate-limit units and concurrency slot before it runs,
   * or keeps it QUEUED (`done`). Called on every lease; a run already admitted goes on without a request.
   */
  admit?(run: RunRecord, deps: ExecutorDeps): Promise<{ type: 'go'; run: RunRecord } | { type: 'done'; result: ProcessResult }>;
  /**
   * Aborting it abandons the processing (a Lambda invocation near its deadline): the replay stops (`ctx.signal`
   * aborts), the lease is released and `processRun` rejects with a ProcessingAbandonedError.
   */
  signal?: AbortSignal;
}

export async function processRun(runId: string, workerDeps: ExecutorDeps): Promise<ProcessResult> {
  // Every write below is conditional on this lease's own token, not only on the worker's id.
  const deps: ExecutorDeps = { ...workerDeps, workerId: `${workerDeps.workerId}/${randomUUID().slice(0, 8)}` };
  const { store, clock } = deps.backend;
  const now = clock.now();
  let run = await store.lease(runId, { owner: deps.workerId, until: now + deps.leaseMs, now });
  if (!run) return 'skipped';
  if (run.cancelRequested) return finalizeCancelled(run, deps);
  if (deps.admit) {
    const gate = await deps.admit(run, deps);
    if (gate.type === 'done') return gate.result;
    run = gate.run;
  }

  const leasedRun = run;
  const workflowResult = await withTraceparent<ProcessResult | undefined>(run.traceparent, () => Promise.resolve(deps.processWorkflow?.(leasedRun, deps)));
  if (workflowResult) return workflowResult;

  const spec = deps.resolveSpec(run);
  if (!spec) {
    return finish(run, deps, { status: 'FAILED', error: serializeError(new TaskNotFoundError(run.name)) });
  }

  const lease = watchLease(run.runId, deps.workerId, run.leaseUntil ?? now + deps.leaseMs, deps, deps.signal);
  try {
    for (;;) {
      if (lease.signal.aborted) throw lease.signal.reason;
      const loaded = await store.loadRun(runId);
      if (!loaded) return 'skipped';
      // Left behind by an earlier attempt whose processing died between its retry write and its cleanup.
      const attempt = run.attempt;
      if (loaded.waiters.some((w) => w.attempt < attempt)) await removeAttemptLeftovers(runId, attempt, deps);
      const started = performance.now();
      const services = { ...(await deps.services(run)), stop: lease.signal };
      const current: LoadedRun = { ...loaded, run };
      const outcome: ReplayOutcome = await traceReplay<ReplayOutcome>(current, clock.now(), () => replay(spec, current, services));
      const ranMs = Math.round(performance.now() - started);
      const leased: RunRecord = run;
      const next: Awaited<ReturnType<typeof applyOutcome>> = await applyOutcome(leased, spec, outcome, ranMs, deps).catch((error: unknown) =>
        failTooLarge(error, leased, ranMs, deps),
      );
      if (next.type === 'done') return next.result;
      run = next.run;
    }
  } catch (error) {
    // Another worker owns the run now: nothing to give back, and nothing for this message to retry.
    if (error instanceof LeaseLostError) return 'lost-lease';
    // Abandoned (a backing service failed, the deadline came): give the lease back so the retried message, or the
    // sweeper, takes the run at once rather than once the lease has run out.
    await releaseLease(runId, deps.workerId, deps.backend);
    throw error;
  } finally {
    lease.stop();
  }
}

async function applyOutcome(
  run: RunRecord,
  spec: TaskSpec,
  outcome: ReplayOutcome,
  ranMs: number,
  deps: ExecutorDeps,
): Promise<{ type: 'done'; result: ProcessResult } | { type: 'again'; run: RunRecord }> {
  const { store, clock, timers, dispatcher } = deps.backend;
  switch (outcome.type) {
    case 'completed': {
      const result = await finish(run, deps, { status: 'SUCCEEDED', ...(outcome.output !== undefined ? { output: outcome.output } : {}) }, ranMs, outcome.parked);
      return { type: 'done', result };
    }
    case 'cancelled':
      return { type: 'done', result: await finalizeCancelled(run, deps) };
    case 'aborted':
      // Leave the run leased: the message is retried, or the sweeper finds the expired lease.
      throw outcome.error;
    case 'failed': {
      const error = serializeError(outcome.error);
      if (outcome.retryable && run.attempt < spec.retries) {
        const delay = backoffDelayMs(spec.backoff, run.attempt + 1);
        const now = clock.now();
        // The backoff timer exists before the run parks; a stale one (lost lease) finds nothing to do.
        if (delay > 0) await timers.schedule(timerId(run.runId, run.attempt + 1, -1, 0, now + delay), now + delay, { runId: run.runId });
        const updated = await store.retry(run.runId, { owner: deps.workerId, attempt: run.attempt + 1, error, now, ...(delay > 0 ? { wakeAt: now + delay } : {}) });
        if (!updated) return settleConflict(run, deps);
        // The failed attempt's waits and timers must not outlive it: a waiter resolved now would wake the run
        // before its backoff is due, and a long sleep's schedule would fire for nothing.
        await removeAttemptLeftovers(run.runId, run.attempt + 1, deps, outcome.parked).catch(() => undefined);
        if (delay === 0) await dispatcher.dispatch({ runId: run.runId });
        return { type: 'done', result: 'retrying' };
      }
      return { type: 'done', result: await finish(run, deps, { status: 'FAILED', error }, ranMs, outcome.parked) };
    }
    case 'suspended': {
      // A timer that fell due while the replay ran (a sleep beside a slow step) already fired, and its message found
      // the run leased and was dropped: replay again at once instead of parking on a due time nobody will act on.
      if (outcome.wakeAt !== undefined && outcome.wakeAt <= clock.now()) return keepLease(run, ranMs, deps, outcome.parked);
      const next = await suspendRun(run, outcome.wakeAt, ranMs, deps, outcome.parked);
      // It fell due between the decision and the park: its message may have come and gone meanwhile.
      if (next.type === 'done' && next.result === 'suspended' && outcome.wakeAt !== undefined && outcome.wakeAt <= clock.now()) {
        await dispatcher.dispatch({ runId: run.runId });
      }
      return next;
    }
  }
}

/**
 * An outcome the store rejects for its size (a run item over DynamoDB's 400 KB) would be rejected again on every
 * retry of the message, by the DLQ's redrive and by the sweeper: the run fails with that error instead.
 */
async function failTooLarge(error: unknown, run: RunRecord, ranMs: number, deps: ExecutorDeps): Promise<{ type: 'done'; result: ProcessResult }> {
  if (!(error instanceof PayloadTooLargeError)) throw error;
  return { type: 'done', result: await finish(run, deps, { status: 'FAILED', error: serializeError(error) }, ranMs) };
}

/**
 * Parks a leased run (WAITING, until `wakeAt` if given), conditional on still holding the lease and on no
 * resolution having arrived since the lease (the wake counter). When one did, the lease is kept and the
 * caller goes again with the returned run: no wake-up is lost. Also used by the DAG orchestrator.
 * `parked`: the replay's journal entries that ride on this write (a sleep's, see sdk/core/journal.ts).
 */
export async function suspendRun(
  run: RunRecord,
  wakeAt: number | undefined,
  ranMs: number,
  deps: ExecutorDeps,
  parked?: readonly JournalEntry[],
): Promise<{ type: 'done'; result: ProcessResult } | { type: 'again'; run: RunRecord }> {
  const { store, clock } = deps.backend;
  const updated = await store.suspend(run.runId, {
    owner: deps.workerId,
    wake: run.wake,
    ...(wakeAt !== undefined ? { wakeAt } : {}),
    now: clock.now(),
    ranMs,
    parked: parked ?? [],
  });
  if (updated) return { type: 'done', result: 'suspended' };
  // Either a resolution arrived while we replayed (wake moved), a cancel, or we lost the lease.
  const current = await store.getRun(run.runId);
  if (!current || current.leaseOwner !== deps.workerId || current.status !== 'RUNNING') return lostLease(current, deps);
  if (current.cancelRequested) return { type: 'done', result: await finalizeCancelled(current, deps) };
  return keepLease(current, ranMs, deps, parked);
}

/**
 * Keeps a leased run for another replay at once (a resolution arrived, or a timer fell due): renews the lease and
 * marks the pending wakes seen. The replay's parked entries are recorded here too: the next replay must find the
 * sleeps this one decided.
 */
async function keepLease(
  run: RunRecord,
  ranMs: number,
  deps: ExecutorDeps,
  parked?: readonly JournalEntry[],
): Promise<{ type: 'done'; result: ProcessResult } | { type: 'again'; run: RunRecord }> {
  const { store, clock } = deps.backend;
  const again = await store.replayAgain(run.runId, { owner: deps.workerId, until: clock.now() + deps.leaseMs, ranMs, parked: parked ?? [] });
  if (!again) return settleConflict(run, deps);
  if (again.cancelRequested) return { type: 'done', result: await finalizeCancelled(again, deps) };
  return { type: 'again', run: again };
}

async function settleConflict(run: RunRecord, deps: ExecutorDeps): Promise<{ type: 'done'; result: ProcessResult }> {
  const current = await deps.backend.store.getRun(run.runId);
  if (current?.cancelRequested && current.leaseOwner === deps.workerId) return { type: 'done', result: await finalizeCancelled(current, deps) };
  return lostLease(current, deps);
}

/**
 * This replay was stale (its lease was taken over). If the run has finished meanwhile, waiters this replay
 * registered after the finisher cleaned up would be left behind: remove them (a finished run needs none).
 */
async function lostLease(current: RunRecord | undefined, deps: ExecutorDeps): Promise<{ type: 'done'; result: ProcessResult }> {
  if (current && isTerminal(current)) await removeWaiters(current.runId, deps);
  return { type: 'done', result: 'lost-lease' };
}

/**
 * Records a terminal outcome. A child notifies its parent *before* its own item turns terminal, so a crash
 * in between is repaired by replaying the child (its journal gives the same outcome), never lost.
 */
export async function finish(
  run: RunRecord,
  deps: ExecutorDeps,
  outcome: { status: 'SUCCEEDED'; output?: string } | { status: 'FAILED'; error: ReturnType<typeof serializeError> },
  ranMs = 0,
  parked?: readonly JournalEntry[],
): Promise<ProcessResult> {
  const { store, clock } = deps.backend;
  const now = clock.now();
  if (run.parent) await notifyParent(run, outcome, deps);
  const updated = await store.finish(run.runId, { owner: deps.workerId, outcome, now, ...retention(deps, now), ranMs, parked: parked ?? [] });
  if (!updated) {
    const { result } = await settleConflict(run, deps);
    return result;
  }
  // A run can end with waits still registered (a failure while a parallel branch waits, a lost Promise.race):
  // left behind, they would resolve into a finished journal and hold timers.
  await removeWaiters(run.runId, deps);
  await deps.onFinished(updated);
  return outcome.status === 'SUCCEEDED' ? 'completed' : 'failed';
}

function retention(deps: ExecutorDeps, now: number): { ttl?: number } {
  return deps.retentionSeconds === undefined ? {} : { ttl: Math.floor(now / 1000) + deps.retentionSeconds };
}

/** Writes the child's outcome at the parent's journal position (first wins), then wakes the parent. */
export async function notifyParent(
  child: RunRecord,
  outcome: ChildOutcome,
  deps: Pick<ExecutorDeps, 'backend' | 'retentionSeconds'>,
): Promise<void> {
  const parent = child.parent;
  if (!parent || parent.position < 0) return;
  const { store, clock } = deps.backend;
  const now = clock.now();
  // Into the journal of the parent's incarnation the child was started by (sdk/core/run-scope.ts).
  await recordChildOutcome(store, child, parent, outcome, now, scopeOf(parent.generation, deps.retentionSeconds, now));
  await wakeRun(parent.runId, deps);
}

/**
 * Tells a parked run that something it waits for happened: bump the wake counter, then dispatch. False when the
 * run has finished (or does not exist): nothing to wake. `claim`: the caller may take the run itself instead of
 * dispatching it (the event router resuming it inline); it then owns processing it, and the sweeper still
 * finds it (a woken run is a sweep candidate) if the caller dies first.
 */
export async function wakeRun(runId: string, deps: Pick<ExecutorDeps, 'backend'>, claim?: (woken: RunRecord) => boolean): Promise<boolean> {
  const woken = await deps.backend.store.wake(runId);
  if (woken && woken.status !== 'RUNNING' && !claim?.(woken)) await deps.backend.dispatcher.dispatch({ runId });
  return woken !== undefined;
}

/** Marks a run CANCELLED (whatever its lease), removes its waiters and timers, and tells its parent. */
export async function finalizeCancelled(run: RunRecord, deps: ExecutorDeps, reason?: string): Promise<ProcessResult> {
  const { store, clock } = deps.backend;
  const now = clock.now();
  const error = serializeError(new RunCancelledError(run.runId, reason));
  if (run.parent) await notifyParent(run, { status: 'CANCELLED', error }, deps);
  // Waiters go first: a failure here leaves the run flagged and not terminal, so it is finalized again (a retried
  // cancel, the sweeper); the other way round, a failure would leave them behind a finished run for good.
  const loaded = await store.loadRun(run.runId);
  // A pending long timer is a Scheduler schedule that would fire after the run ended: delete it (best effort).
  if (loaded) for (const id of pendingTimerIds(loaded, now)) await deps.backend.timers.cancel(id).catch(() => undefined);
  await removeWaiters(run.runId, deps, loaded);
  const updated = await store.finishCancelled(run.runId, { error, now, ...retention(deps, now) });
  if (updated) await deps.onFinished(updated);
  return 'cancelled';
}

export async function removeWaiters(runId: string, deps: Pick<ExecutorDeps, 'backend'>, preloaded?: LoadedRun | undefined): Promise<void> {
  const { store, timers, clock } = deps.backend;
  const loaded = preloaded ?? (await store.loadRun(runId));
  if (!loaded || loaded.waiters.length === 0) return;
  const now = clock.now();
  for (const w of loaded.waiters) {
    // Best effort (Timers contract): a timer that fires anyway finds nothing to do; the waiters must still go.
    if (w.type === 'sleep' && (w.dueAt ?? 0) > now) await timers.cancel(timerId(runId, w.attempt, w.position, w.index, w.dueAt!)).catch(() => undefined);
  }
  await store.deleteWaiters(loaded.waiters);
}

/**
 * Removes what attempts before `attempt` left behind: their waiters, and the timers of their pending sleeps, waits
 * and step retries (deleting a long sleep's schedule; a short one's SQS message cannot be deleted, and finds the
 * run's lease condition unmet when it comes). `parked`: the failed replay's sleeps only the run item would hold.
 */
export async function removeAttemptLeftovers(runId: string, attempt: number, deps: Pick<ExecutorDeps, 'backend'>, parked: readonly JournalEntry[] = []): Promise<void> {
  const { store, timers, clock } = deps.backend;
  const loaded = await store.loadRun(runId);
  if (!loaded) return;
  const now = clock.now();
  const ids = new Set(entryTimerIds(runId, [...loaded.entries, ...parked].filter((e) => e.attempt < attempt), now));
  const stale = loaded.waiters.filter((w) => w.attempt < attempt);
  for (const w of stale) if (w.type === 'sleep' && (w.dueAt ?? 0) > now) ids.add(timerId(runId, w.attempt, w.position, w.index, w.dueAt!));
  // Best effort (Timers contract): a timer that fires anyway finds nothing to do.
  for (const id of ids) await timers.cancel(id).catch(() => undefined);
  if (stale.length) await store.deleteWaiters(stale);
}

export function isTerminal(run: RunRecord): boolean {
  return TERMINAL_STATUSES.includes(run.status);
}
