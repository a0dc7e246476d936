/**
 * A replay's lease, kept alive while the replay runs: the heartbeat renews it, and it notices when the lease is
 * gone (another worker took the run over, or the renewals kept failing until it expired) or the run was cancelled,
 * and stops the replay then (`ctx.signal` aborts, nothing more is recorded). An abandoned processing releases the
 * lease, so the retried message (or the sweeper) takes the run at once instead of after the lease runs out.
 */
import type { Backend } from '../ports.ts';
import { DurableError, RunCancelledError } from './errors.ts';

/** Why a replay was stopped from outside (the reason `ctx.signal` aborts with). */
export class LeaseLostError extends DurableError {
  override name = 'LeaseLostError';
  constructor(readonly runId: string, why: string) {
    super(`the lease on run '${runId}' was lost (${why}): another worker carries it on, this replay stops and records nothing more`);
  }
}

/** The processing was abandoned because the caller's signal fired (a Lambda invocation near its deadline). */
export class ProcessingAbandonedError extends DurableError {
  override name = 'ProcessingAbandonedError';
  constructor(readonly runId: string, reason: unknown) {
    super(`processing run '${runId}' was abandoned: ${reason instanceof Error ? reason.message : String(reason ?? 'aborted')}; its lease is released for another worker`);
  }
}

export interface LeaseWatch {
  /** Aborted when the replay must stop: its reason is a LeaseLostError, a RunCancelledError or a ProcessingAbandonedError. */
  readonly signal: AbortSignal;
  stop(): void;
}

/**
 * Renews the lease every third of `leaseMs` (at least every second). A renewal that finds the lease taken (its
 * condition fails), or no renewal succeeding before the lease ran out, stops the replay with a LeaseLostError; a
 * renewal that sees a cancel request stops it with a RunCancelledError. `outer` (the caller's signal) stops it too.
 */
export function watchLease(runId: string, owner: string, leaseUntil: number, deps: { backend: Backend; leaseMs: number }, outer?: AbortSignal): LeaseWatch {
  const { store, clock } = deps.backend;
  const controller = new AbortController();
  let stopped = false;
  let validUntil = leaseUntil;
  const halt = (reason: unknown) => {
    if (!stopped && !controller.signal.aborted) controller.abort(reason);
  };
  const onOuter = () => halt(new ProcessingAbandonedError(runId, outer?.reason));
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  const every = Math.max(1_000, Math.floor(deps.leaseMs / 3));
  const timer = setInterval(() => {
    const until = clock.now() + deps.leaseMs;
    store.heartbeat(runId, { owner, until }).then(
      (renewed) => {
        if (stopped) return;
        if (!renewed) return halt(new LeaseLostError(runId, 'another worker holds it now, or the run is no longer running'));
        validUntil = until;
        if (renewed.cancelRequested) halt(new RunCancelledError(runId));
      },
      () => {
        if (!stopped && clock.now() >= validUntil) halt(new LeaseLostError(runId, 'it expired while every renewal failed'));
      },
    );
  }, every);
  timer.unref?.();
  return {
    signal: controller.signal,
    stop() {
      stopped = true;
      clearInterval(timer);
      outer?.removeEventListener('abort', onOuter);
    },
  };
}

/**
 * Gives the lease back (best effort): the run stays RUNNING with a lease that has run out, which any worker may
 * take (`leaseCondition`) and the sweeper finds. Conditional on still owning it: a lease already taken over is
 * left alone.
 */
export async function releaseLease(runId: string, owner: string, backend: Backend): Promise<void> {
  await backend.store.releaseLease(runId, { owner, now: backend.clock.now() }).catch(() => undefined);
}
