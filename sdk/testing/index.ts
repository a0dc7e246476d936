/**
 * `durable-tasks/testing`: an in-process engine on a virtual clock. Timers fire when you advance time;
 * global `setTimeout` and `Date` are never patched.
 *
 * @example
 * const env = await createTestEnvironment();
 * const task = env.durable.durableTask({ name: 'nap', fn: async (_: {}, ctx) => ctx.sleepFor('1h') });
 * const ref = await task.runNoWait({});
 * await env.advanceTime('1h');
 * await ref.result(); // { durationMs: 3_600_000 }
 * await env.close();
 */
import { Durable } from '../durable.ts';
import { parseDuration, type Duration } from '../core/duration.ts';
import type { LogSink } from '../core/engine.ts';
import { createMemoryBackend, VirtualClock, type MemoryBackend } from '../adapters/memory/index.ts';
import { advanceVirtualTime } from '../adapters/memory/virtual-clock.ts';

export interface TestEnvironmentOptions {
  /** Virtual start time. @default 2030-01-01T00:00:00Z */
  startTime?: Date;
  /** Where `ctx.log` goes. @default discarded */
  log?: LogSink;
  /** Largest input, output or step result (bytes); above 256 KiB they are kept in memory as blobs. @default 32 MiB */
  maxPayloadBytes?: number;
  /** Days finished runs are kept (their items and blobs expire then, on the virtual clock). @default forever */
  retentionDays?: number;
}

export interface TestEnvironment {
  readonly durable: Durable;
  /** Current virtual time. */
  now(): Date;
  /**
   * Moves virtual time forward by `duration`, firing every timer due at or before the new time in order,
   * and resolves once the runs they woke have settled (parked, finished or failed).
   */
  advanceTime(duration: Duration): Promise<void>;
  /** Resolves once no run is being processed. */
  settle(): Promise<void>;
  /** @internal the in-memory ports, for the project's own tests and benchmarks */
  readonly backend: MemoryBackend;
  close(): Promise<void>;
}

export async function createTestEnvironment(options: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
  const clock = new VirtualClock(options.startTime?.getTime());
  const backend = createMemoryBackend(clock);
  const durable = new Durable({
    backend,
    embeddedWorker: 'listen',
    cancelPollMs: 0,
    leaseMs: 60_000,
    log: options.log ?? (() => undefined),
    ...(options.maxPayloadBytes !== undefined ? { maxPayloadBytes: options.maxPayloadBytes } : {}),
    ...(options.retentionDays !== undefined ? { retentionDays: options.retentionDays } : {}),
  });
  const settle = () => durable.idle();
  return {
    durable,
    backend,
    now: () => new Date(clock.now()),
    settle,
    advanceTime: (duration: Duration) => advanceVirtualTime(clock, parseDuration(duration), settle),
    close: () => durable.close(),
  };
}

export { replayHistory } from '../core/history/replay-history.ts';
export { InvalidHistoryError } from '../core/history/invalid-history-error.ts';
export type { RunHistory, HistoryEntry, HistoryError } from '../core/history/format.ts';
