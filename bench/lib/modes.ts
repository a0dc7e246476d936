/**
 * The two places a workload runs: the test environment (memory adapters, virtual clock) and the embedded
 * default (`Durable.local`: the AWS adapters against dynalite + fauxqs in this process). Each workload gets
 * a fresh client, so task names never clash and request counts start from zero.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Durable } from 'durable-tasks';
import { createTestEnvironment, type TestEnvironment } from 'durable-tasks/testing';
import { CapacityMeter } from '../cost/capacity-meter.ts';

export type Mode = 'test' | 'local';

/** A client to run a workload on, and what the workload may need from its mode. */
export interface BenchClient {
  mode: Mode;
  durable: Durable;
  /** Test environment only: the virtual clock. */
  env?: TestEnvironment;
  /** Embedded default only: DynamoDB capacity units by operation, measured from the requests themselves. */
  meter?: CapacityMeter;
  /**
   * Embedded default only: how long before its timer a parked run keeps its sweep-index key
   * (`DynamoRunStore` option `sweepHoldMs`). W2 sets 0 to measure what a sleep longer than the hold costs
   * (the key moves) without sleeping for minutes.
   */
  setSweepHoldMs?(ms: number): void;
  /** Resolves once no run is being processed (test env) — a no-op elsewhere. */
  settle(): Promise<void>;
  /**
   * Dispatches fully handled so far (embedded default: counted in-process, so this costs no request; a status
   * poll would, and would pollute the counts).
   */
  handled(): number;
  /** Resolves once `handled()` reaches `target` (embedded), or once nothing is being processed (test env). */
  waitHandled(target: number, what: string): Promise<void>;
  /**
   * Resolves once every run in `runIds` is parked (WAITING, no resolution pending) or, with `terminal`,
   * finished. Embedded: read from the run items as the worker last wrote them (no request); test env:
   * once nothing is being processed. Unlike `waitHandled`, a duplicate dispatch (the sweeper re-sends a
   * run it finds QUEUED for a while) cannot make it return early.
   */
  waitRuns(runIds: readonly string[], state: 'parked' | 'terminal', what: string): Promise<void>;
  close(): Promise<void>;
}

/** Dispatches and handled dispatches of an embedded-default client (see `openClient`). */
const dispatchCounts = new WeakMap<Durable, { dispatched: number; handled: number }>();

/**
 * Request counts by `Service.Operation` so far. On the embedded default most dispatches never reach SQS (the
 * worker of the same process takes them: sdk/local/local-dispatcher.ts), so SQS's SendMessage and DeleteMessage
 * are the dispatches and the handled dispatches, as on AWS, where each dispatch is one SendMessage and each
 * handled message is deleted by the event source mapping.
 */
export function requests(durable: Durable): Record<string, number> {
  const counts = { ...durable.metrics().requests };
  const dispatches = dispatchCounts.get(durable);
  if (dispatches) {
    counts['SQS.SendMessage'] = dispatches.dispatched;
    counts['SQS.DeleteMessage'] = dispatches.handled;
  }
  return counts;
}

/** `after - before` per operation, dropping zeros. */
export function diffRequests(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, n] of Object.entries(after)) {
    const d = n - (before[op] ?? 0);
    if (d !== 0) out[op] = d;
  }
  return out;
}

export function totalRequests(counts: Record<string, number>, filter: (op: string) => boolean = () => true): number {
  return Object.entries(counts).reduce((sum, [op, n]) => sum + (filter(op) ? n : 0), 0);
}

/**
 * Requests that the engine's work costs, without the worker's idle long polls: an SQS ReceiveMessage that
 * returned nothing is a function of wall time, not of the workload (on Lambda, the event source mapping's
 * polling is billed the same way and is modelled per message in the cost model instead).
 */
export function engineRequests(counts: Record<string, number>): Record<string, number> {
  const out = { ...counts };
  delete out['SQS.ReceiveMessage'];
  return out;
}

export async function openClient(mode: Mode): Promise<BenchClient> {
  if (mode === 'test') {
    const env = await createTestEnvironment();
    return {
      mode,
      durable: env.durable,
      env,
      settle: () => env.settle(),
      handled: () => 0,
      waitHandled: () => env.settle(),
      waitRuns: () => env.settle(),
      close: () => env.close(),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'durable-bench-'));
  const durable = Durable.local({ dir, log: () => undefined });
  // result() resolves on the in-process "finished" signal; its fallback poll (a GetItem every 250 ms) would
  // only add wall-time-dependent reads to the counts, so it is slowed down here.
  durable.engine.options.resultPollMs = 60_000;
  const backend = await durable.engine.backend();
  const meter = CapacityMeter.attach(backend.store);
  // Every dispatch (to SQS or handed to the worker in-process) and every dispatch handled to the end, counted
  // without a request (a status poll would add to the counts).
  const counts = { dispatched: 0, handled: 0 };
  dispatchCounts.set(durable, counts);
  const dispatch = backend.dispatcher.dispatch.bind(backend.dispatcher);
  backend.dispatcher.dispatch = (message, options) => {
    counts.dispatched++;
    return dispatch(message, options);
  };
  const process = durable.engine.process.bind(durable.engine);
  durable.engine.process = async (runId, allowed) => {
    const result = await process(runId, allowed);
    counts.handled++;
    return result;
  };
  const handled = () => counts.handled;
  return {
    mode,
    durable,
    meter,
    // Reaches into the store at run time (benchmarks only), as CapacityMeter.attach does: the option is fixed at construction.
    setSweepHoldMs: (ms) => void ((backend.store as unknown as { holdMs: number }).holdMs = ms),
    settle: async () => undefined,
    handled,
    waitHandled: (target, what) => until(what, () => handled() >= target, 600_000, 1),
    waitRuns: (runIds, state, what) =>
      until(
        what,
        () =>
          runIds.every((runId) => {
            const item = meter.item(`RUN#${runId}`, 'RUN');
            const status = item?.status?.S;
            if (state === 'terminal') return status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELLED';
            return status === 'WAITING' && item?.wake?.N === item?.seen?.N;
          }),
        900_000,
        2,
      ),
    close: async () => {
      await durable.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Opens a client, runs `fn`, always closes. */
export async function withClient<T>(mode: Mode, fn: (client: BenchClient) => Promise<T>): Promise<T> {
  const client = await openClient(mode);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes. @throws {Error} on timeout, saying what was awaited. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000, everyMs = 2): Promise<void> {
  const started = performance.now();
  let nextNote = started + 10_000;
  while (!(await check())) {
    const now = performance.now();
    if (now > started + timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    if (now > nextNote) {
      process.stderr.write(`  … still waiting for ${what} (${Math.round((now - started) / 1000)} s)\n`);
      nextNote = now + 10_000;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
