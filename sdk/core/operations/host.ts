/**
 * What a durable operation (step.ts, sleep.ts, wait.ts, child.ts, now.ts, patched.ts, stream.ts, fan-out-run.ts)
 * needs of the replay that runs it: the `OperationHost` (replay.ts's Replayer implements it), and what every
 * operation shares: the determinism check (`expect`), the recorded answer (`answer`), a new entry (`newEntry`), the
 * `PARK` answer, the `Fatal` wrapper, the never-settling promise and the guarded backend. Each operation holds its
 * replay answer, its new-ground work and its recording (through journal-writer.ts); the Replayer keeps the
 * lifecycle, the positions, the calls in flight and the suspend decision.
 */
import type { Backend, JournalEntry, OperationKind, RunRecord, Waiter } from '../../ports.ts';
import type { Logger } from '../context-types.ts';
import type { RunRef, TaskDefinition, WorkflowDefinition } from '../definitions.ts';
import { DurableError, NonDeterminismError, deserializeError } from '../errors.ts';
import { decodePayload } from '../json.ts';
import { isPayloadRef, readPayload } from '../payloads.ts';
import { placeOf, type JournalScope } from './fan-out.ts';
import type { JournalWriter } from './journal-writer.ts';

/** How a replay ended. */
export type ReplayOutcome =
  | { type: 'completed'; output: string | undefined; parked?: JournalEntry[] }
  /** A backing service failed (throttling, network): the run is left as it is, to be retried. */
  | { type: 'aborted'; error: unknown }
  | { type: 'failed'; error: unknown; retryable: boolean; parked?: JournalEntry[] }
  | { type: 'suspended'; wakeAt: number | undefined; parked?: JournalEntry[] }
  | { type: 'cancelled' };

/** What the replay needs from the engine beyond the ports. */
export interface ReplayServices {
  backend: Backend;
  /** Creates a run item for a child and returns its id (idempotent per childRunId). */
  createChildRun(parent: RunRecord, position: number, target: TaskDefinition<any, any> | WorkflowDefinition<any>, input: string, childRunId: string): Promise<void>;
  /** A reference to an existing run, for spawnChild. */
  runRef(runId: string): RunRef<unknown>;
  /** True once `runs.cancel` was called for the run in this process, or the store says so. */
  isCancelled(runId: string): boolean;
  /** How often (ms) a replay re-reads the run item to notice a cancel from another process; 0 = never. */
  cancelPollMs: number;
  logger(run: RunRecord, isReplaying: () => boolean): Logger;
  /**
   * Stops the replay from outside (sdk/core/lease.ts: the lease was lost, the run cancelled, the invocation's
   * deadline came): `ctx.signal` aborts with its reason, and nothing more is recorded. A RunCancelledError reason
   * ends the replay `cancelled`; any other, `aborted`.
   */
  stop?: AbortSignal;
  /** Called after a `ctx.putStream` chunk is recorded (in-process subscribers read it at once). */
  streamed?(runId: string): void;
  /** The DAG context (parent outputs, triggers) for workflow task runs. */
  dag?: { parentOutput(name: string): unknown; triggers(): Record<string, unknown>; workflowInput(): unknown };
  /** The largest payload (bytes) an output, step result or child input may be (`maxPayloadBytes`). @default 256 KiB */
  payloadLimit?: number;
}

/** What an operation's body returns when its call must wait: the call never resolves in this replay. */
export const PARK: unique symbol = Symbol('park');
export type Park = typeof PARK;

/**
 * What a parked (or ended) durable call returns: a promise that never settles. A fresh one each time, held by
 * nothing but the awaiting code's own promise chain, so an abandoned replay (its replayer, journal, input, the
 * user's locals) is garbage once the engine lets go of it. One shared never-settling promise would be reachable
 * from this module for ever, and every continuation registered on it with it (see ARCHITECTURE.md, "Parking").
 */
export function never(): Promise<never> {
  return new Promise<never>(() => {});
}

/** An error that fails the run whatever user code does with it (it is re-raised past user try/catch). */
export class Fatal {
  constructor(
    readonly error: unknown,
    readonly cancelled = false,
    readonly infrastructure = false,
  ) {}
}

/**
 * The backend as the replay sees it: a failing request to a backing service is not the user's error, so it
 * must not reach user code (which could catch it) nor fail the run; it aborts the replay instead.
 */
export function guardBackend(backend: Backend, ended: () => boolean): Backend {
  const guard = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(obj, prop, receiver) {
        const value = Reflect.get(obj, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          // An ended replay (stopped from outside, or a branch still running after the outcome) records nothing more.
          if (ended()) return Promise.reject(new Fatal(new DurableError('this replay has already ended'), false, true));
          const result = value.apply(obj, args);
          return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(new Fatal(error, false, !isTooLarge(error)))) : result;
        };
      },
    });
  const guarded: Backend = { ...backend, store: guard(backend.store), timers: guard(backend.timers), dispatcher: guard(backend.dispatcher) };
  if (backend.payloads) guarded.payloads = guard(backend.payloads);
  return guarded;
}

/**
 * An item the store rejects for its size is the run's data, not an outage: retrying writes it again and
 * fails again, so it fails the run (PayloadTooLargeError is deterministic) instead of aborting the replay.
 */
function isTooLarge(error: unknown): boolean {
  return error instanceof DurableError && error.name === 'PayloadTooLargeError';
}

/** How an operation reads in a `NonDeterminismError` (also used by the history replay). */
export function describeOp(kind: OperationKind, name: string): string {
  switch (kind) {
    case 'sleep':
      return 'sleep';
    case 'now':
      return 'now()';
    case 'event':
      return `waitForEvent('${name}')`;
    case 'wait':
      return `waitFor(${name})`;
    case 'child':
      return `runChild('${name}')`;
    case 'spawn':
      return `spawnChild('${name}')`;
    case 'patch':
      return `patched('${name}')`;
    case 'stream':
      return 'putStream';
    default:
      return `${kind}('${name}')`;
  }
}

/** Engine failures that a retry cannot fix. */
const DETERMINISTIC = new Set([
  'NonDeterminismError',
  'NonRetryableError',
  'RunCancelledError',
  'InvalidExpressionError',
  'InvalidDurationError',
  'InvalidDefinitionError',
  'PayloadTooLargeError',
  'TaskNotFoundError',
]);

/** Errors a new attempt would hit again (the code or its data is wrong) are not retried. */
export function isRetryable(error: unknown): boolean {
  return !(error instanceof DurableError && DETERMINISTIC.has(error.name));
}

/**
 * Deterministic timer id: the same decision names the same timer across replays (scheduling is idempotent per id).
 * The due time is part of it: a timer decided again because its first decision was never recorded (the park write
 * failed) is a new timer, due when the recorded decision says; the lost decision's timer fires, finds the run not
 * due and does nothing. Without it, the first schedule (idempotent per name) would win and fire early.
 */
export function timerId(runId: string, attempt: number, position: number, index: number, dueAt: number): string {
  return `${runId}-${attempt}-${position}-${index}-${dueAt}`;
}

/** The replay as an operation sees it (replay.ts's Replayer). */
export interface OperationHost {
  readonly runId: string;
  readonly attempt: number;
  /** The run item as loaded (a child's parent). */
  readonly runItem: RunRecord;
  /** The backend, guarded: a failing request aborts the replay instead of reaching user code. */
  readonly backend: Backend;
  readonly services: Pick<ReplayServices, 'createChildRun' | 'runRef' | 'streamed'>;
  /** The largest payload (bytes) an output, step result, child input or fan-out result may be. */
  readonly limit: number;
  /** True once the replay has an outcome. */
  readonly ended: boolean;
  /** This attempt's journal by position, as this replay knows it. */
  readonly entries: Map<number, JournalEntry>;
  /** This attempt's pending waits' waiters by position. */
  readonly waiters: Map<number, Waiter[]>;
  /** Where every operation records (journal-writer.ts). */
  readonly journal: JournalWriter;
  /** Takes `scope`'s next position and runs `body` for it, tracked in flight; a Fatal it throws ends the replay. */
  durable<T>(body: (position: number) => Promise<T | Park>, scope: JournalScope): Promise<T>;
  /** Notes a parked call; returns PARK for the body to return. */
  park(position: number, wakeAt: number | undefined): Park;
  /** Labels of this replay's fan-outs by anchor position (`map 'charge-all'`), to name a branch in errors. */
  readonly fanOutLabels: ReadonlyMap<number, string>;
  /** Ends the replay for `fatal` (failed, cancelled or aborted). */
  fail(fatal: Fatal): void;
  /** Names a call's trace span. */
  describeOperation(position: number, kind: OperationKind, name: string): void;
  /** Ends the replay (cancelled, timed out, ended) and throws the error to a synchronous caller. */
  checkLiveOrThrow(): void;
  /** Tracks a write a synchronous call started, so the replay does not end before it lands. */
  background(write: Promise<unknown>): void;
}

/** @throws a Fatal NonDeterminismError when the operation recorded at `position` is another one (naming a fan-out branch). */
export function expect(host: OperationHost, position: number, recorded: { kind: OperationKind; name: string }, kind: OperationKind, name: string): void {
  host.describeOperation(position, kind, name);
  if (recorded.kind !== kind || recorded.name !== name) {
    const place = placeOf(position);
    const where = place && `${host.fanOutLabels.get(place.anchor) ?? `fan-out at position ${place.anchor}`} branch ${place.branch}, operation ${place.n}`;
    throw new Fatal(new NonDeterminismError(position, describeOp(recorded.kind, recorded.name), describeOp(kind, name), where));
  }
}

/** `expect` for a synchronous call: ends the replay and throws the error to the caller. */
export function expectOrThrow(host: OperationHost, position: number, recorded: { kind: OperationKind; name: string }, kind: OperationKind, name: string): void {
  try {
    expect(host, position, recorded, kind, name);
  } catch (fatal) {
    host.fail(fatal as Fatal);
    throw (fatal as Fatal).error;
  }
}

/** A new entry of the host's attempt at `position`. */
export function newEntry(host: OperationHost, position: number, kind: OperationKind, name: string, fields: Partial<JournalEntry>): JournalEntry {
  host.describeOperation(position, kind, name);
  return { attempt: host.attempt, position, kind, name, status: 'done', createdAt: host.backend.clock.now(), ...fields };
}

/** The recorded outcome, or throws the recorded error: a large result is fetched from the payload store only here, when the replay reaches it. */
export function answer<T>(host: Pick<OperationHost, 'backend'>, entry: JournalEntry): T | Promise<T> {
  if (entry.status === 'failed') throw deserializeError(entry.error ?? { name: 'Error', message: 'failed' });
  return isPayloadRef(entry.result) ? readPayload<T>(host.backend.payloads, entry.result) : decodePayload<T>(entry.result);
}
