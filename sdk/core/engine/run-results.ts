/**
 * Results and watching: a run's outcome once it is terminal, and the in-process notifications behind it. The engine
 * emits on `finished` when a run becomes terminal in this process (with its terminal record when it has it) and on
 * `streamed` when a replay here records a stream chunk; a run finishing in another process is found by polling.
 */
import type { EventEmitter } from 'node:events';
import type { Backend, RunRecord } from '../../ports.ts';
import { RunNotFoundError, deserializeError } from '../errors.ts';
import { isTerminal } from '../executor.ts';
import { readPayload } from '../payloads.ts';

/**
 * Resolves with a run's output once it is terminal; rejects with its error. One listener per call, removed
 * when it returns (a poll that only adds one would keep a listener per poll until the run ends). Between
 * notifications it reads the store every `pollMs`.
 */
export async function awaitResult(finished: EventEmitter, backend: Backend, runId: string, pollMs: number): Promise<unknown> {
  // A run that finishes in this process arrives with its terminal record: no read needed to return it.
  let announced: RunRecord | undefined;
  let signalled = false;
  let wake: (() => void) | undefined;
  const listener = (run?: RunRecord) => {
    if (run && isTerminal(run)) announced = run;
    signalled = true;
    wake?.();
  };
  finished.on(runId, listener);
  try {
    for (;;) {
      signalled = false;
      const run = announced ?? (await backend.store.getRun(runId));
      if (!run) throw new RunNotFoundError(runId);
      if (isTerminal(run)) {
        if (run.status === 'SUCCEEDED') return readPayload(backend.payloads, run.output);
        if (run.status === 'SKIPPED') return undefined;
        throw deserializeError(run.error ?? { name: 'DurableError', message: `run ended ${run.status}` });
      }
      if (signalled) continue; // announced while we read: read again at once
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        timer.unref?.();
        function done() {
          clearTimeout(timer);
          resolve();
        }
        wake = done;
      });
      wake = undefined;
    }
  } finally {
    finished.off(runId, listener);
  }
}

/** Calls `listener` whenever `runId` records a stream chunk or finishes here. Returns the function that removes it. */
export function watchRun(finished: EventEmitter, streamed: EventEmitter, runId: string, listener: () => void): () => void {
  finished.on(runId, listener);
  streamed.on(runId, listener);
  return () => {
    finished.off(runId, listener);
    streamed.off(runId, listener);
  };
}
