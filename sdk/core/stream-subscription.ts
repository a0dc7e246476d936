/**
 * `durable.runs.subscribeToStream(runId)`: the chunks a run put with `ctx.putStream`, in order, from the first;
 * then the live ones; it ends once the run is terminal and every chunk has been yielded.
 *
 * Each round reads the run item (one GetItem on AWS), then the chunks after the last `seq` seen (one Query per
 * `pageSize` chunks, from that sort key). Chunks are written before the run turns terminal (the replay drains its
 * writes first), so a round that saw the run terminal and then read the chunks has them all. Between rounds it
 * waits `pollMs`, or less: a replay in this process that records a chunk, or a run finishing here, wakes it at once
 * (the engine's in-process notifications), so the test environment and single-process local mode never wait.
 */
import type { RunStore } from '../ports.ts';
import { RunNotFoundError } from './errors.ts';
import { isTerminal } from './executor.ts';
import { decodePayload } from './json.ts';

/** Options of `durable.runs.subscribeToStream`. */
export interface SubscribeOptions {
  /** How often to look for new chunks when nothing in this process announced one. @default 1000 ms */
  pollMs?: number;
  /** Ends the subscription (the loop finishes; nothing is left waiting). */
  signal?: AbortSignal;
}

/** Chunks read per request. */
const PAGE_SIZE = 100;
export const DEFAULT_STREAM_POLL_MS = 1_000;

/** What the subscription needs from the engine. */
export interface StreamSource {
  store: Pick<RunStore, 'getRun' | 'readStream'>;
  /** In-process notifications for `runId` (a chunk recorded, the run finished); returns the unsubscribe function. */
  watch(runId: string, listener: () => void): () => void;
}

export async function* subscribe(source: StreamSource, runId: string, options: SubscribeOptions = {}): AsyncGenerator<unknown, void, undefined> {
  const pollMs = options.pollMs ?? DEFAULT_STREAM_POLL_MS;
  const signal = options.signal;
  let signalled = false;
  let wake: (() => void) | undefined;
  const unwatch = source.watch(runId, () => {
    signalled = true;
    wake?.();
  });
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    let after = 0;
    let generation: string | undefined;
    let first = true;
    while (!signal?.aborted) {
      signalled = false;
      const run = await source.store.getRun(runId);
      if (!run) {
        if (first) throw new RunNotFoundError(runId);
        return; // deleted (retention) while subscribed: nothing more will come
      }
      // A run id used again after its run expired is another run: this subscription was to the old one.
      if (!first && run.generation !== generation) return;
      first = false;
      generation = run.generation;
      const terminal = isTerminal(run);
      for (;;) {
        const page = await source.store.readStream(runId, generation, after, PAGE_SIZE);
        for (const chunk of page) {
          after = chunk.seq!;
          yield decodePayload(chunk.result);
        }
        if (page.length < PAGE_SIZE) break;
      }
      if (terminal) return;
      if (signalled || signal?.aborted) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    }
  } finally {
    unwatch();
    signal?.removeEventListener('abort', onAbort);
  }
}
