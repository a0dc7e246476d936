/**
 * `GET /api/runs/:id/stream`: Server-Sent Events with a run's details. The store is polled (every 250 ms by
 * default) and an `event: run` is sent whenever the details change; the last message is `event: end`, sent
 * once the run is terminal, then the stream closes. Polling works the same for every backend and process.
 * Each `ctx.putStream` chunk is also sent once, in `seq` order, as `event: chunk` with
 * `{ seq, chunk, attempt, position }` (before the `run` or `end` message whose details first hold it).
 */
import type { ServerResponse } from 'node:http';
import type { Durable } from '../../sdk/index.ts';
import { isTerminalStatus } from '../api/types.ts';

export interface RunStreamOptions {
  pollMs: number;
  /** A comment line every so often keeps proxies and idle timeouts from closing the stream. */
  heartbeatMs?: number;
  /** Aborted when the server closes. */
  signal: AbortSignal;
}

/** Streams a run. Rejects (before writing anything) when the run does not exist. */
export async function streamRun(durable: Durable, runId: string, res: ServerResponse, options: RunStreamOptions): Promise<void> {
  let details = await durable.runs.get(runId);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(': durable-tasks run stream\n\n');
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal.addEventListener('abort', onAbort);
  // The response closes when the client goes away (or the stream ends).
  res.on('close', onAbort);
  const heartbeat = setInterval(() => res.write(': ping\n\n'), options.heartbeatMs ?? 15_000);
  try {
    let last = '';
    let lastSeq = 0;
    while (!stop.signal.aborted) {
      const text = JSON.stringify(details);
      const ended = isTerminalStatus(details.status);
      const chunks = details.operations.filter((op) => op.kind === 'stream' && op.seq !== undefined && op.seq > lastSeq).sort((a, b) => a.seq! - b.seq!);
      for (const op of chunks) {
        lastSeq = op.seq!;
        res.write(`event: chunk\ndata: ${JSON.stringify({ seq: op.seq, chunk: op.result, attempt: op.attempt, position: op.position })}\n\n`);
      }
      if (text !== last || ended) {
        last = text;
        res.write(`event: ${ended ? 'end' : 'run'}\ndata: ${text}\n\n`);
      }
      if (ended) break;
      await sleep(options.pollMs, stop.signal);
      if (stop.signal.aborted) break;
      try {
        details = await durable.runs.get(runId);
      } catch (error) {
        // A store hiccup: report it on the stream and keep polling.
        res.write(`event: error\ndata: ${JSON.stringify({ error: { name: (error as Error).name, message: (error as Error).message } })}\n\n`);
      }
    }
  } finally {
    clearInterval(heartbeat);
    options.signal.removeEventListener('abort', onAbort);
    res.off('close', onAbort);
    res.end();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
