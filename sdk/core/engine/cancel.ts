/** `runs.cancel`: a run and its children, finished here when nobody runs them, flagged when a worker does. */
import type { Backend } from '../../ports.ts';
import type { Engine } from '../engine.ts';
import { RunNotFoundError } from '../errors.ts';
import { finalizeCancelled, isTerminal } from '../executor.ts';

/** What the engine knows of the replays in progress in its process. */
export interface ReplaysHere {
  /** Runs cancelled by this process while a replay of theirs runs here (the replay checks it at each durable call). */
  readonly cancelledHere: Set<string>;
  isProcessing(runId: string): boolean;
}

export async function cancelRun(engine: Engine, here: ReplaysHere, runId: string): Promise<void> {
  const backend = await engine.backend();
  const run = await backend.store.getRun(runId);
  if (!run) throw new RunNotFoundError(runId);
  if (isTerminal(run)) return;
  here.cancelledHere.add(runId);
  const children = await childrenOf(backend, runId);
  // Parked or queued: nobody runs it, finish it here. Running: flag it; the worker stops at its next durable call.
  const flagged = await backend.store.requestCancel(runId);
  // Kept only for a replay of this run in progress here (whose end drops it); added before the flag is written so
  // a replay that starts and ends meanwhile drops it too.
  if (!here.isProcessing(runId)) here.cancelledHere.delete(runId);
  if (!flagged) return;
  if (flagged.status !== 'RUNNING') {
    // A flow-controlled run is finished by a worker (it passes its concurrency slot on, with a worker's grants).
    if (engine.flowSpecFor(flagged.name)?.concurrency) await backend.dispatcher.dispatch({ runId });
    else await finalizeCancelled(flagged, await engine.executorDeps());
  }
  for (const child of children) await engine.cancel(child).catch(() => undefined);
}

async function childrenOf(backend: Backend, runId: string): Promise<string[]> {
  const loaded = await backend.store.loadRun(runId);
  return (loaded?.waiters ?? []).filter((w) => w.type === 'child' && w.childRunId).map((w) => w.childRunId!);
}
