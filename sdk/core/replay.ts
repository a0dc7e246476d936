/**
 * The replay engine: runs a task's fn against its journal. Each durable call takes the next position;
 * a recorded position answers from the journal, a new one does the work and records it first-wins.
 * When the run must wait, the durable call never resolves and the replay reports `suspended`.
 * See ARCHITECTURE.md in this folder.
 */
import type { Backend, JournalEntry, LoadedRun, OperationKind, RunRecord, Waiter } from '../ports.ts';
import { compileExpression } from './cel.ts';
import { evaluate, leaves, toConditionNode, assertEventKey, type Condition, type ConditionNode, type LeafNode } from './conditions.ts';
import type { DurableContext, FanOutOptions, Jsonified, Logger, StepOptions, WaitForEventOptions } from './context-types.ts';
import { backoffDelayMs, normaliseBackoff, assertName, TaskDefinition, WorkflowDefinition, type RunRef, type TaskSpec } from './definitions.ts';
import { parseDuration, type Duration } from './duration.ts';
import {
  DurableError,
  ExecutionTimeoutError,
  InvalidDefinitionError,
  NonDeterminismError,
  NonRetryableError,
  RunCancelledError,
  WaitTimeoutError,
  deserializeError,
  serializeError,
} from './errors.ts';
import { PAYLOAD_LIMIT_BYTES, decodePayload, encodePayload } from './json.ts';
import { isPayloadRef, readPayload, resolvePayload } from './payloads.ts';
import { MAX_PARKED_ENTRIES } from './journal.ts';
import { assertPatchId, decidePatch, isMarkerOf, patchMarker } from './operations/patched.ts';
import { NO_OPERATION_TRACE, traceOperation, type OperationTrace } from './tracing.ts';
import { eventWaiter, eventsFor, stampEventOrder } from './event-order.ts';
import { runInDurableContext } from './durable-scope.ts';
import { JournalScope, placeOf } from './operations/fan-out.ts';
import { mapBranches, runFanOut, type FanOutHost } from './operations/fan-out-run.ts';
import { BranchContext, type ScopedContext } from './operations/branch-context.ts';
import { StreamWriter, encodeChunk } from './operations/stream.ts';

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

const PARK: unique symbol = Symbol('park');
/**
 * What a parked (or ended) durable call returns: a promise that never settles. A fresh one each time, held by
 * nothing but the awaiting code's own promise chain, so an abandoned replay (its replayer, journal, input, the
 * user's locals) is garbage once the engine lets go of it. One shared never-settling promise would be reachable
 * from this module for ever, and every continuation registered on it with it (see ARCHITECTURE.md, "Parking").
 */
function never(): Promise<never> {
  return new Promise<never>(() => {});
}
/** Reserved readableDataKey of the timeout leaf of `waitForEvent`. */
const TIMEOUT_KEY = '__timeout';

/** An error that fails the run whatever user code does with it (it is re-raised past user try/catch). */
class Fatal {
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
function guardBackend(backend: Backend, ended: () => boolean): Backend {
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

/**
 * Replays `spec.fn` for the run in `loaded`. Never throws: every ending is an outcome.
 */
export async function replay(spec: TaskSpec, loaded: LoadedRun, services: ReplayServices): Promise<ReplayOutcome> {
  const replayer = new Replayer(spec, loaded, services);
  return replayer.run();
}

class Replayer implements ScopedContext, FanOutHost {
  readonly runId: string;
  readonly attempt: number;
  readonly log: Logger;
  readonly signal: AbortSignal;

  private readonly run0: RunRecord;
  private readonly entries = new Map<number, JournalEntry>();
  /**
   * Entries recorded on the run item only (sleeps: sdk/core/journal.ts): the next entry item carries them,
   * and whatever is left rides on the run item's next write (the outcome's `parked`).
   */
  private pending: JournalEntry[] = [];
  private readonly waiters = new Map<number, Waiter[]>();
  private readonly recordedPositions: number;
  /** The run's own journal scope; a `ctx.map` / `ctx.parallel` branch has one of its own (operations/fan-out.ts). */
  private readonly root = new JournalScope();
  /** Labels of the fan-outs of this replay by position (`map 'charge-all'`), to name a branch in errors. */
  private readonly fanOutLabels = new Map<number, string>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly parked: { position: number; wakeAt: number | undefined }[] = [];
  private readonly abort = new AbortController();
  private settle!: (outcome: ReplayOutcome) => void;
  private finished = false;
  /** Why the replay was stopped from outside (`services.stop`), if it was. */
  private stopReason: unknown;
  private readonly startedAt = performance.now();
  private lastCancelPoll = 0;
  private suspendCheckScheduled = false;
  /** The run's input as JSON text, once fetched (a large input lives in the payload store). */
  private inputText: string | undefined;
  private readonly traces = new Map<number, OperationTrace>();

  constructor(
    private readonly spec: TaskSpec,
    loaded: LoadedRun,
    private readonly services: ReplayServices,
  ) {
    this.backend = guardBackend(services.backend, () => this.finished);
    this.run0 = loaded.run;
    this.runId = loaded.run.runId;
    this.attempt = loaded.run.attempt;
    this.signal = this.abort.signal;
    for (const entry of loaded.entries) if (entry.attempt === this.attempt) this.entries.set(entry.position, entry);
    this.pending = loaded.parked.filter((entry) => entry.attempt === this.attempt);
    for (const waiter of loaded.waiters) {
      if (waiter.attempt !== this.attempt) continue;
      let list = this.waiters.get(waiter.position);
      if (!list) this.waiters.set(waiter.position, (list = []));
      list.push(waiter);
    }
    // The run's own positions (a fan-out's branch entries, operations/fan-out.ts, are not the top level's ground).
    const own = (positions: Iterable<number>) => [...positions].filter((p) => placeOf(p) === undefined).length;
    this.recordedPositions = Math.max(own(this.entries.keys()), own(this.waiters.keys()));
    this.log = services.logger(loaded.run, () => this.root.taken < this.recordedPositions);
    this.stream = new StreamWriter(this.backend.store, this.runId, loaded.entries, (chunk) => {
      // Recorded by a concurrent replay: when this one gets there, it answers from the journal.
      if (chunk.attempt === this.attempt && !this.entries.has(chunk.position)) this.entries.set(chunk.position, chunk);
    });
  }

  private readonly backend: Backend;
  private readonly stream: StreamWriter;

  async run(): Promise<ReplayOutcome> {
    const ending = new Promise<ReplayOutcome>((resolve) => (this.settle = resolve));
    const timeoutMs = this.spec.executionTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    if (timeoutMs !== undefined) {
      const remaining = timeoutMs - this.run0.runningMs;
      if (remaining <= 0) return { type: 'failed', error: new ExecutionTimeoutError(timeoutMs), retryable: true };
      timer = setTimeout(() => this.finish({ type: 'failed', error: new ExecutionTimeoutError(timeoutMs), retryable: true }), remaining);
      timer.unref?.();
    }
    const stop = this.services.stop;
    const onStop = () => {
      this.stopReason = stop!.reason;
      if (stop!.reason instanceof RunCancelledError) this.finish({ type: 'cancelled' });
      else this.finish({ type: 'aborted', error: stop!.reason });
    };
    if (stop?.aborted) onStop();
    else stop?.addEventListener('abort', onStop, { once: true });
    // A large input is fetched from the payload store first (a failed fetch aborts the replay: not the user's error).
    Promise.resolve()
      .then(() => resolvePayload(this.backend.payloads, this.run0.input))
      .then((text) => runInDurableContext(this.spec.durable ? this : undefined, () => this.spec.fn(decodePayload((this.inputText = text)), this)))
      .then(
        async (value) => {
          // A checkpoint written in the background (ctx.now) must land before the run completes.
          await this.drain();
          if (this.finished) return;
          try {
            this.finish({ type: 'completed', output: encodePayload(value, `task '${this.spec.name}' output`, this.limit) });
          } catch (error) {
            this.finish({ type: 'failed', error, retryable: false });
          }
        },
        async (error) => {
          await this.drain();
          if (error instanceof Fatal) return this.fail(error);
          this.finish({ type: 'failed', error, retryable: isRetryable(error) });
        },
      );
    try {
      return await ending;
    } finally {
      if (timer) clearTimeout(timer);
      stop?.removeEventListener('abort', onStop);
      this.finished = true;
      this.abort.abort(this.stopReason);
    }
  }

  private finish(outcome: ReplayOutcome) {
    if (this.finished) return;
    this.finished = true;
    const parked = this.pending.slice();
    if (parked.length && (outcome.type === 'completed' || outcome.type === 'failed' || outcome.type === 'suspended')) outcome = { ...outcome, parked };
    this.settle(outcome);
  }

  private fail(fatal: Fatal) {
    if (fatal.infrastructure) this.finish({ type: 'aborted', error: fatal.error });
    else if (fatal.cancelled) this.finish({ type: 'cancelled' });
    else this.finish({ type: 'failed', error: fatal.error, retryable: isRetryable(fatal.error) });
  }

  private async drain() {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Runs at every durable call before it takes a position. */
  private checkLive() {
    if (this.finished) throw new Fatal(new DurableError('this replay has already ended'));
    if (this.services.isCancelled(this.runId)) throw new Fatal(new RunCancelledError(this.runId), true);
    const timeoutMs = this.spec.executionTimeoutMs;
    if (timeoutMs !== undefined && this.run0.runningMs + (performance.now() - this.startedAt) > timeoutMs) {
      throw new Fatal(new ExecutionTimeoutError(timeoutMs));
    }
  }

  private async pollCancel() {
    const every = this.services.cancelPollMs;
    if (every <= 0) return;
    const now = performance.now();
    if (now - this.lastCancelPoll < every) return;
    this.lastCancelPoll = now;
    const run = await this.backend.store.getRun(this.runId);
    if (run?.cancelRequested) throw new Fatal(new RunCancelledError(this.runId), true);
  }

  /**
   * Takes the next journal position and runs `body` for it. A Fatal thrown by the body ends the replay
   * even if user code catches the error it surfaces.
   */
  private durable<T>(body: (position: number) => Promise<T | typeof PARK>, scope: JournalScope): Promise<T> {
    try {
      this.checkLive();
    } catch (error) {
      this.fail(error as Fatal);
      return never();
    }
    return this.runAt(scope.take(), body);
  }

  /** Runs `body` for a position already taken, tracked in flight (operations/fan-out-run.ts records its outcome so). */
  runAt<T>(position: number, body: (position: number) => Promise<T | typeof PARK>): Promise<T> {
    const trace = this.traceOperation(position);
    const tracked = trace.within(async () => {
      await this.pollCancel();
      return body(position);
    });
    this.inflight.add(tracked);
    return tracked.then(
      (value) => {
        trace.end(value === PARK ? 'parked' : 'done');
        this.inflight.delete(tracked);
        // Parked siblings wait for every in-flight call; the last one to settle triggers the suspend.
        this.scheduleSuspendCheck();
        return value === PARK ? never() : (value as T);
      },
      (error) => {
        trace.end('failed', error instanceof Fatal ? error.error : error);
        this.inflight.delete(tracked);
        if (error instanceof Fatal) {
          this.fail(error);
          return never();
        }
        this.scheduleSuspendCheck();
        throw error;
      },
    );
  }

  /** The call's span (sdk/core/tracing.ts): calls on new ground only; a no-op without OpenTelemetry. */
  private traceOperation(position: number): OperationTrace {
    const trace = traceOperation(this.runId, this.spec.name, this.attempt, position, this.entries.has(position));
    if (trace !== NO_OPERATION_TRACE) this.traces.set(position, trace);
    return trace;
  }

  /** Names a call's span; `now` and `patch` (no `durable()` of their own) get one that ends at once. */
  private describeOperation(position: number, kind: OperationKind, name: string) {
    const trace = this.traces.get(position);
    if (trace) return trace.describe(kind, name);
    if (kind !== 'now' && kind !== 'patch') return;
    const instant = this.traceOperation(position);
    instant.describe(kind, name);
    instant.end('done');
  }

  private park(position: number, wakeAt: number | undefined): typeof PARK {
    this.parked.push({ position, wakeAt });
    return PARK;
  }

  /** Suspends once something is parked and nothing else is in flight (let sibling branches record their work). */
  private scheduleSuspendCheck() {
    if (this.parked.length === 0 || this.suspendCheckScheduled) return;
    this.suspendCheckScheduled = true;
    setImmediate(() => {
      this.suspendCheckScheduled = false;
      if (this.finished || this.parked.length === 0) return;
      if (this.inflight.size > 0) return; // the last in-flight call re-checks when it settles
      const dues = this.parked.map((p) => p.wakeAt).filter((t): t is number => t !== undefined);
      this.finish({ type: 'suspended', wakeAt: dues.length ? Math.min(...dues) : undefined });
    });
  }

  expect(position: number, recorded: { kind: OperationKind; name: string }, kind: OperationKind, name: string) {
    this.describeOperation(position, kind, name);
    if (recorded.kind !== kind || recorded.name !== name) {
      const place = placeOf(position);
      const where = place && `${this.fanOutLabels.get(place.anchor) ?? `fan-out at position ${place.anchor}`} branch ${place.branch}, operation ${place.n}`;
      throw new Fatal(new NonDeterminismError(position, describeOp(recorded.kind, recorded.name), describeOp(kind, name), where));
    }
  }

  newEntry(position: number, kind: OperationKind, name: string, fields: Partial<JournalEntry>): JournalEntry {
    this.describeOperation(position, kind, name);
    return { attempt: this.attempt, position, kind, name, status: 'done', createdAt: this.backend.clock.now(), ...fields };
  }

  async record(entry: JournalEntry): Promise<JournalEntry> {
    const { entry: winner } = await this.putEntry(entry);
    // Later calls of this replay see it (e.g. which events earlier waits took).
    this.entries.set(winner.position, winner);
    return winner;
  }

  /**
   * `store.putEntry`, carrying the entries only the run item holds (`pending`). Won: they are in an entry
   * item now. Lost: the winner's item may carry some of them; a copy that differs from what this replay
   * went on with means a replay that lost its lease raced the run's owner: this one stops (aborted, so the
   * message is retried) rather than go on from a history that is not the recorded one.
   */
  private async putEntry(entry: JournalEntry): Promise<{ won: boolean; entry: JournalEntry }> {
    const carried = this.pending.filter((e) => e.position !== entry.position);
    const result = await this.backend.store.putEntry(this.runId, entry, carried);
    const held = result.won ? [result.entry, ...carried] : [result.entry, ...result.carried];
    if (!result.won) {
      for (const copy of result.carried) {
        const mine = this.entries.get(copy.position);
        if (copy.attempt === this.attempt && mine && (mine.result !== copy.result || mine.dueAt !== copy.dueAt)) {
          throw new Fatal(new DurableError(`a concurrent replay recorded position ${copy.position} of run '${this.runId}' differently; replaying again`), false, true);
        }
      }
    }
    this.pending = this.pending.filter((e) => !held.some((h) => h.attempt === e.attempt && h.position === e.position));
    return result;
  }

  /** Records `entry` on the run item only (see `pending`); past `MAX_PARKED_ENTRIES`, in an entry item after all. */
  private async defer(entry: JournalEntry): Promise<JournalEntry> {
    this.entries.set(entry.position, entry);
    this.pending.push(entry);
    if (this.pending.length > MAX_PARKED_ENTRIES) await this.putEntry(entry);
    return this.entries.get(entry.position)!;
  }

  /** The recorded outcome: a large result is fetched from the payload store only here, when the replay reaches it. */
  answer<T>(entry: JournalEntry): T | Promise<T> {
    if (entry.status === 'failed') throw deserializeError(entry.error ?? { name: 'Error', message: 'failed' });
    return isPayloadRef(entry.result) ? readPayload<T>(this.backend.payloads, entry.result) : decodePayload<T>(entry.result);
  }

  /** The largest payload (bytes) an output, step result, child input or fan-out result may be. */
  get limit(): number {
    return this.services.payloadLimit ?? PAYLOAD_LIMIT_BYTES;
  }

  // ---- Context -------------------------------------------------------------------------------------

  async parentOutput<O>(parent: TaskDefinition<unknown, O>): Promise<O | undefined> {
    if (!this.services.dag) throw new InvalidDefinitionError('ctx.parentOutput is only available in workflow (DAG) tasks');
    return this.services.dag.parentOutput(parent.name) as O | undefined;
  }

  triggers(): Record<string, unknown> {
    return this.services.dag?.triggers() ?? {};
  }

  workflowInput<I>(): I {
    return (this.services.dag ? this.services.dag.workflowInput() : decodePayload(this.inputText ?? this.run0.input)) as I;
  }

  // ---- DurableContext ------------------------------------------------------------------------------

  now(scope = this.root): Date {
    this.requireDurable('now');
    this.checkLiveOrThrow();
    const position = scope.take();
    const recorded = this.entries.get(position);
    if (recorded) {
      try {
        this.expect(position, recorded, 'now', '');
      } catch (fatal) {
        this.fail(fatal as Fatal);
        throw (fatal as Fatal).error;
      }
      return new Date(decodePayload<number>(recorded.result));
    }
    const now = this.backend.clock.now();
    const write = this.record(this.newEntry(position, 'now', '', { result: String(now) })).then(
      (winner) => {
        this.inflight.delete(write);
        this.scheduleSuspendCheck(); // a sibling may have parked while this checkpoint was in flight
        if (decodePayload<number>(winner.result) !== now) {
          // A racing replay recorded another value first; this one must not go on with a different clock.
          this.fail(new Fatal(new DurableError(`a concurrent replay recorded ctx.now() at position ${position} first; retrying`)));
        }
      },
      (error) => {
        this.inflight.delete(write);
        this.scheduleSuspendCheck();
        this.fail(error instanceof Fatal ? error : new Fatal(error, false, true));
      },
    );
    this.inflight.add(write);
    return new Date(now);
  }

  patched(id: string, scope = this.root): boolean {
    this.requireDurable('patched');
    assertPatchId(id, 'patched');
    const known = scope.patches.get(id);
    if (known !== undefined) return known;
    this.checkLiveOrThrow();
    const position = scope.peek();
    const decision = decidePatch(id, position, scope.view(this.entries, (p) => this.waiters.has(p)));
    scope.patches.set(id, decision !== 'older');
    if (decision === 'older') return false;
    scope.take();
    if (decision === 'new') {
      // No write of its own, like a sleep (sdk/core/journal.ts): the next entry item or the park carries it.
      this.describeOperation(position, 'patch', id);
      const marker = patchMarker(this.attempt, position, id, this.backend.clock.now());
      this.entries.set(position, marker);
      this.pending.push(marker);
      if (this.pending.length > MAX_PARKED_ENTRIES) this.background(this.putEntry(marker));
    }
    return true;
  }

  deprecatePatch(id: string, scope = this.root): void {
    this.requireDurable('deprecatePatch');
    assertPatchId(id, 'deprecatePatch');
    this.checkLiveOrThrow();
    if (isMarkerOf(id, scope.peek(), scope.view(this.entries, (p) => this.waiters.has(p)))) scope.take();
  }

  /** `checkLive` for a synchronous durable call: ends the replay and throws the error to the caller. */
  checkLiveOrThrow() {
    try {
      this.checkLive();
    } catch (error) {
      this.fail(error as Fatal);
      throw (error as Fatal).error;
    }
  }

  /** Tracks a write a synchronous call started, so the replay does not end before it lands. */
  private background(write: Promise<unknown>) {
    const tracked: Promise<unknown> = write.then(
      () => {
        this.inflight.delete(tracked);
        this.scheduleSuspendCheck();
      },
      (error) => {
        this.inflight.delete(tracked);
        this.scheduleSuspendCheck();
        this.fail(error instanceof Fatal ? error : new Fatal(error, false, true));
      },
    );
    this.inflight.add(tracked);
  }

  /**
   * Records a chunk for the run's subscribers (operations/stream.ts). Synchronous like `now`: the position is taken
   * at the call and the write goes on in the background (in call order), so the call need not be awaited; the
   * replay does not end before it lands. A recorded position writes nothing.
   */
  putStream(chunk: unknown, scope = this.root): Promise<void> {
    this.requireDurable('putStream');
    const text = encodeChunk(chunk);
    this.checkLiveOrThrow();
    const position = scope.take();
    const recorded = this.entries.get(position);
    if (recorded) {
      try {
        this.expect(position, recorded, 'stream', '');
      } catch (fatal) {
        this.fail(fatal as Fatal);
        throw (fatal as Fatal).error;
      }
      return Promise.resolve();
    }
    const written = this.stream.write(this.newEntry(position, 'stream', '', { result: text })).then((winner) => {
      this.entries.set(position, winner);
      this.services.streamed?.(this.runId);
    });
    this.background(written);
    return written.then(
      () => undefined,
      () => never(),
    );
  }

  sleepFor(duration: Duration, scope = this.root): Promise<{ durationMs: number }> {
    this.requireDurable('sleepFor');
    const ms = parseDuration(duration);
    return this.sleep((now) => now + ms, scope);
  }

  sleepUntil(date: Date | number, scope = this.root): Promise<{ durationMs: number }> {
    this.requireDurable('sleepUntil');
    const at = date instanceof Date ? date.getTime() : date;
    if (typeof at !== 'number' || !Number.isFinite(at)) throw new DurableError(`sleepUntil needs a valid Date or epoch milliseconds, got ${String(date)}`);
    return this.sleep(() => at, scope);
  }

  private sleep(due: (now: number) => number, scope: JournalScope): Promise<{ durationMs: number }> {
    return this.durable(async (position) => {
      let entry = this.entries.get(position);
      if (entry) {
        this.expect(position, entry, 'sleep', '');
      } else {
        const now = this.backend.clock.now();
        const dueAt = Math.max(now, due(now));
        // No write of its own: the park (or the next entry item) records it (sdk/core/journal.ts).
        entry = await this.defer(this.newEntry(position, 'sleep', '', { dueAt, result: JSON.stringify({ durationMs: dueAt - now }) }));
        this.expect(position, entry, 'sleep', '');
        if (entry.dueAt! > this.backend.clock.now()) {
          await this.backend.timers.schedule(timerId(this.runId, this.attempt, position), entry.dueAt!, { runId: this.runId });
        }
      }
      if (entry.dueAt! > this.backend.clock.now()) return this.park(position, entry.dueAt);
      return decodePayload<{ durationMs: number }>(entry.result);
    }, scope);
  }

  step<T>(name: string, fn: (attempt: number) => T | Promise<T>, options?: StepOptions, scope = this.root): Promise<Jsonified<Awaited<T>>> {
    this.requireDurable('step');
    assertName(name, 'a step');
    if (typeof fn !== 'function') throw new InvalidDefinitionError(`step '${name}': the second argument must be a function`);
    const retries = options?.retries ?? 0;
    if (!Number.isInteger(retries) || retries < 0) throw new InvalidDefinitionError(`step '${name}': retries must be a whole number ≥ 0`);
    const backoff = options?.backoff ? normaliseBackoff(options.backoff, `step '${name}'`) : undefined;
    return this.durable<Jsonified<Awaited<T>>>(async (position): Promise<Jsonified<Awaited<T>> | typeof PARK> => {
      const recorded = this.entries.get(position);
      let stepAttempt = 0;
      if (recorded) {
        this.expect(position, recorded, 'step', name);
        if (recorded.status !== 'retrying') return this.answer<Jsonified<Awaited<T>>>(recorded);
        if (recorded.retryAt! > this.backend.clock.now()) return this.park(position, recorded.retryAt);
        stepAttempt = recorded.stepAttempt!;
      }
      for (;;) {
        let value: Awaited<T>;
        try {
          // A step's body is not replayed: what it starts (task.run) is its own side effect, not a checkpointed child.
          value = await runInDurableContext(undefined, () => fn(stepAttempt));
        } catch (thrown) {
          if (this.finished) throw new Fatal(new DurableError('replay ended while the step ran'));
          const retry = stepAttempt + 1;
          if (thrown instanceof NonRetryableError || stepAttempt >= retries) {
            const failed = this.newEntry(position, 'step', name, { status: 'failed', error: serializeError(thrown), stepAttempt });
            const winner = await this.commitStep(failed, recorded ? stepAttempt : undefined);
            if (winner.status === 'retrying') throw concurrentRetry(name, position);
            return this.answer<Jsonified<Awaited<T>>>(winner);
          }
          const delay = backoffDelayMs(backoff, retry);
          if (delay === 0) {
            stepAttempt = retry;
            continue;
          }
          const retryAt = this.backend.clock.now() + delay;
          const retrying = this.newEntry(position, 'step', name, { status: 'retrying', stepAttempt: retry, retryAt, error: serializeError(thrown) });
          const winner = await this.commitStep(retrying, recorded ? stepAttempt : undefined);
          if (winner.status === 'retrying' && winner.stepAttempt !== retry) throw concurrentRetry(name, position);
          if (winner.status !== 'retrying') return this.answer<Jsonified<Awaited<T>>>(winner);
          await this.backend.timers.schedule(timerId(this.runId, this.attempt, position, retry), retryAt, { runId: this.runId });
          return this.park(position, retryAt);
        }
        const done = this.newEntry(position, 'step', name, { result: encodePayload(value, `step '${name}' result`, this.limit), stepAttempt });
        const winner = await this.commitStep(done, recorded ? stepAttempt : undefined);
        if (winner.status === 'retrying') throw concurrentRetry(name, position);
        if (winner === done) return decodePayload<Jsonified<Awaited<T>>>(done.result);
        return this.answer<Jsonified<Awaited<T>>>(winner);
      }
    }, scope);
  }

  /** Records a step outcome: first-wins for a new position, or forward from the retrying state. */
  private async commitStep(entry: JournalEntry, fromStepAttempt: number | undefined): Promise<JournalEntry> {
    if (fromStepAttempt === undefined) {
      const { won, entry: winner } = await this.putEntry(entry);
      return won ? entry : winner;
    }
    const moved = await this.backend.store.updateRetryingEntry(this.runId, entry, fromStepAttempt);
    if (moved) return entry;
    const reloaded = await this.backend.store.loadRun(this.runId);
    const current = reloaded?.entries.find((e) => e.attempt === entry.attempt && e.position === entry.position);
    if (!current) throw new Fatal(new DurableError(`journal entry ${entry.position} vanished while retrying step '${entry.name}'`));
    return current;
  }

  waitFor(condition: Condition, scope = this.root): Promise<Record<string, unknown>> {
    this.requireDurable('waitFor');
    const node = toConditionNode(condition);
    if (leaves(node).some((leaf) => leaf.type === 'parent')) {
      throw new InvalidDefinitionError('ParentCondition is only valid in a workflow task\'s waitFor/skipIf/cancelIf, not in ctx.waitFor');
    }
    const name = leaves(node)
      .map((leaf) => leaf.key)
      .join('|');
    return this.wait('wait', name, node, scope).then((result) => result.data);
  }

  waitForEvent<T = unknown>(key: string, expression = '', options: WaitForEventOptions = {}, scope = this.root): Promise<T> {
    this.requireDurable('waitForEvent');
    assertEventKey(key);
    compileExpression(expression ?? '', 'input');
    const lookbackMs = options.lookback === undefined ? undefined : parseDuration(options.lookback);
    const eventLeaf: ConditionNode = {
      type: 'event',
      eventKey: key,
      expression: expression ?? '',
      key,
      ...(options.scope !== undefined ? { scope: options.scope } : {}),
      ...(lookbackMs ? { lookbackMs } : {}),
    };
    const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout);
    const node: ConditionNode =
      timeoutMs === undefined ? eventLeaf : { type: 'or', children: [eventLeaf, { type: 'sleep', durationMs: timeoutMs, key: TIMEOUT_KEY }] };
    return this.wait('event', key, node, scope).then(({ data }) => {
      if (TIMEOUT_KEY in data) throw new WaitTimeoutError(key, timeoutMs!);
      return data[key] as T;
    });
  }

  private wait(kind: OperationKind, name: string, node: ConditionNode, scope: JournalScope): Promise<{ data: Record<string, any> }> {
    return this.durable(async (position) => {
      const recorded = this.entries.get(position);
      if (recorded) {
        this.expect(position, recorded, kind, name);
        const data = await this.answer<Record<string, unknown>>(recorded);
        const leftovers = this.waiters.get(position);
        if (leftovers) await this.cleanupWaiters(leftovers);
        return { data };
      }
      let waiters = this.waiters.get(position);
      const satisfied = new Map<number, { at: number; data: unknown; eventId?: string }>();
      const registered = !waiters;
      if (waiters) {
        this.expect(position, { kind: waiters[0]!.opKind, name: waiters[0]!.opName }, kind, name);
        node = JSON.parse(waiters[0]!.conditions) as ConditionNode;
      } else {
        waiters = await this.register(position, kind, name, node, satisfied);
      }
      const now = this.backend.clock.now();
      for (const w of waiters) {
        if (w.type === 'sleep' && w.dueAt! <= now) satisfied.set(w.index, { at: w.dueAt!, data: { durationMs: w.dueAt! - w.since } });
        if (w.satisfiedAt !== undefined && !satisfied.has(w.index)) {
          satisfied.set(w.index, { at: w.satisfiedAt, data: decodePayload(w.data), ...(w.eventId !== undefined ? { eventId: w.eventId } : {}) });
        }
      }
      const order = new Map([...satisfied].map(([i, s]) => [i, s.at]));
      const deciding = evaluate(node, order);
      if (!deciding) {
        if (registered) {
          const marked = waiters.filter((w) => w.type === 'event' && w.satisfiedAt !== undefined);
          if (marked.length) await this.backend.store.putWaiters(marked);
        }
        const dues = waiters.filter((w) => w.type === 'sleep' && !satisfied.has(w.index)).map((w) => w.dueAt!);
        return this.park(position, dues.length ? Math.min(...dues) : undefined);
      }
      const all = leaves(node);
      const data: Record<string, unknown> = {};
      for (const i of deciding) data[all[i]!.key] = satisfied.get(i)!.data;
      const eventIds = deciding.map((i) => satisfied.get(i)!.eventId).filter((id): id is string => id !== undefined);
      const entry = this.newEntry(position, kind, name, {
        result: JSON.stringify(data),
        resolvedBy: deciding.map((i) => all[i]!.key).join(','),
        ...(eventIds.length ? { eventIds } : {}),
      });
      const winner = await this.record(entry);
      // Resolved by an event found while registering: the router will not wake the run for it (it may already have
      // routed that event, or will find the waiters gone). If this replay is stale, the run's current owner may be
      // parked on this very wait: wake the run, as the router would, before removing the waiters.
      if (registered && waiters.some((w) => w.type === 'event' && w.satisfiedAt !== undefined)) await this.wakeRun();
      await this.cleanupWaiters(waiters);
      return { data: await this.answer<Record<string, unknown>>(winner) };
    }, scope);
  }

  /**
   * Registers the waiters of a new wait, then catches events pushed after it began (or within its lookback) that
   * the router may have routed before the waiters were there. See ARCHITECTURE.md, "Event order".
   */
  private async register(
    position: number,
    kind: OperationKind,
    name: string,
    node: ConditionNode,
    satisfied: Map<number, { at: number; data: unknown; eventId?: string }>,
  ): Promise<Waiter[]> {
    const since = this.backend.clock.now();
    const conditions = JSON.stringify(node);
    const waiters: Waiter[] = leaves(node).map((leaf, index) => this.waiterFor(leaf, index, position, kind, name, conditions, since));
    for (const w of waiters) if (w.type === 'event') compileExpression(w.expression ?? '', 'input');
    await stampEventOrder(this.backend, waiters);
    await this.backend.store.putWaiters(waiters);
    for (const w of waiters) {
      if (w.type === 'sleep' && w.dueAt! > since) {
        await this.backend.timers.schedule(timerId(this.runId, this.attempt, position, w.index), w.dueAt!, { runId: this.runId });
      }
    }
    const consumed = this.consumedEvents();
    for (const w of waiters) {
      if (w.type !== 'event') continue;
      const filter = compileExpression(w.expression ?? '', 'input');
      for await (const event of eventsFor(this.backend, w)) {
        if (w.scope !== undefined && event.scope !== w.scope) continue;
        if (consumed.has(event.eventId)) continue; // an earlier wait of this run already took it
        const payload = decodePayload(event.payload);
        let matched = false;
        try {
          matched = filter.matches(payload);
        } catch {
          // A payload the filter cannot evaluate (a missing key, a wrong type) does not match, as in the router:
          // someone else's event must not fail this run.
        }
        if (matched) {
          satisfied.set(w.index, { at: event.time, data: payload, eventId: event.eventId });
          w.eventId = event.eventId;
          // Kept on the waiter too, so an And that stays pending remembers it on the next replay.
          w.satisfiedAt = event.time;
          w.data = event.payload;
          break;
        }
      }
    }
    this.waiters.set(position, waiters);
    return waiters;
  }

  /** Events earlier waits of this attempt were resolved by (or are marked with). */
  private consumedEvents(): Set<string> {
    const ids = new Set<string>();
    for (const entry of this.entries.values()) for (const id of entry.eventIds ?? []) ids.add(id);
    for (const list of this.waiters.values()) for (const w of list) if (w.eventId !== undefined) ids.add(w.eventId);
    return ids;
  }

  private waiterFor(leaf: LeafNode, index: number, position: number, kind: OperationKind, name: string, conditions: string, since: number): Waiter {
    this.describeOperation(position, kind, name);
    const base: Waiter = {
      runId: this.runId,
      attempt: this.attempt,
      position,
      index,
      opKind: kind,
      opName: name,
      conditions,
      type: leaf.type,
      readableDataKey: leaf.key,
      since,
      createdAt: since,
    };
    switch (leaf.type) {
      case 'sleep':
        return { ...base, dueAt: since + leaf.durationMs };
      case 'event':
        return eventWaiter(base, leaf);
      case 'child':
        return { ...base, childRunId: leaf.childRunId };
      case 'parent':
        return { ...base };
    }
  }

  /** Bumps the run's wake counter (a parked owner replays; a replaying one replays again), dispatching a parked run. */
  private async wakeRun() {
    const woken = await this.backend.store.wake(this.runId);
    if (woken && woken.status !== 'RUNNING') await this.backend.dispatcher.dispatch({ runId: this.runId });
  }

  private async cleanupWaiters(waiters: readonly Waiter[]) {
    const now = this.backend.clock.now();
    for (const w of waiters) {
      if (w.type === 'sleep' && w.dueAt! > now) await this.backend.timers.cancel(timerId(this.runId, this.attempt, w.position, w.index));
    }
    await this.backend.store.deleteWaiters(waiters);
    this.waiters.delete(waiters[0]!.position);
  }

  runChild<I, O>(task: TaskDefinition<I, O> | WorkflowDefinition<I>, input: I, scope = this.root): Promise<O> {
    this.requireDurable('runChild');
    const name = childName(task);
    return this.durable(async (position) => {
      const recorded = this.entries.get(position);
      if (recorded) {
        this.expect(position, recorded, 'child', name);
        const leftovers = this.waiters.get(position);
        if (leftovers) await this.backend.store.deleteWaiters(leftovers);
        return this.answer<O>(recorded);
      }
      const waiting = this.waiters.get(position);
      if (waiting) {
        this.expect(position, { kind: waiting[0]!.opKind, name: waiting[0]!.opName }, 'child', name);
        return this.park(position, undefined);
      }
      const childRunId = `${this.runId}.${this.attempt}.${position}`;
      const encoded = encodePayload(input, `child '${name}' input`, this.limit) ?? 'null';
      await this.services.createChildRun(this.run0, position, task, encoded, childRunId).catch((e) => Promise.reject(new Fatal(e, false, true)));
      const node: ConditionNode = { type: 'child', childRunId, key: name };
      const waiter = this.waiterFor(node, 0, position, 'child', name, JSON.stringify(node), this.backend.clock.now());
      await this.backend.store.putWaiters([waiter]);
      this.waiters.set(position, [waiter]);
      await this.backend.dispatcher.dispatch({ runId: childRunId });
      return this.park(position, undefined);
    }, scope);
  }

  spawnChild<I, O>(task: TaskDefinition<I, O> | WorkflowDefinition<I>, input: I, scope = this.root): Promise<RunRef<O>> {
    this.requireDurable('spawnChild');
    const name = childName(task);
    return this.durable(async (position) => {
      const recorded = this.entries.get(position);
      if (recorded) {
        this.expect(position, recorded, 'spawn', name);
        return this.services.runRef((await this.answer<{ runId: string }>(recorded)).runId) as RunRef<O>;
      }
      const childRunId = `${this.runId}.${this.attempt}.${position}`;
      const encoded = encodePayload(input, `child '${name}' input`, this.limit) ?? 'null';
      await this.services.createChildRun({ ...this.run0 }, -1, task, encoded, childRunId).catch((e) => Promise.reject(new Fatal(e, false, true)));
      const { won, entry } = await this.putEntry(this.newEntry(position, 'spawn', name, { result: JSON.stringify({ runId: childRunId }) }));
      this.expect(position, entry, 'spawn', name);
      if (won) await this.backend.dispatcher.dispatch({ runId: childRunId });
      return this.services.runRef(childRunId) as RunRef<O>;
    }, scope);
  }

  // ---- Fan-out (operations/fan-out-run.ts) -----------------------------------------------------------

  map(name: string, items: readonly unknown[], fn: (item: never, ctx: DurableContext, index: number) => unknown, options?: FanOutOptions, scope = this.root): Promise<never> {
    this.requireDurable('map');
    return runFanOut(this, scope, 'map', name, mapBranches(name, items, fn), options) as Promise<never>;
  }

  parallel(name: string, branches: readonly ((ctx: DurableContext) => unknown)[], options?: FanOutOptions, scope = this.root): Promise<never> {
    this.requireDurable('parallel');
    return runFanOut(this, scope, 'parallel', name, branches, options) as Promise<never>;
  }

  /** Takes the next position of `scope` for a fan-out (the fan-out itself is not in flight: its branches are). */
  takePosition(scope: JournalScope): number | undefined {
    try {
      this.checkLive();
    } catch (error) {
      this.fail(error as Fatal);
      return undefined;
    }
    return scope.take();
  }

  entryAt(position: number): JournalEntry | undefined {
    return this.entries.get(position);
  }

  branchContext(anchor: number, index: number, label: string): DurableContext {
    this.fanOutLabels.set(anchor, label);
    return new BranchContext(this, new JournalScope({ anchor, index, label }));
  }

  private requireDurable(method: string) {
    if (!this.spec.durable) {
      throw new InvalidDefinitionError(`ctx.${method} needs a durable task: define '${this.spec.name}' with durableTask instead of task`);
    }
  }
}

/**
 * A concurrent replay moved this step's retry state on: this replay is stale. It must neither answer user code
 * with a retry state (it has no result) nor fail the run; it aborts, and the run's current owner carries on.
 */
function concurrentRetry(name: string, position: number): Fatal {
  return new Fatal(new DurableError(`step '${name}' at position ${position} is being retried by a concurrent replay`), false, true);
}

function childName(task: TaskDefinition<any, any> | WorkflowDefinition<any>): string {
  if (task instanceof TaskDefinition && task.workflow) {
    throw new InvalidDefinitionError(`task '${task.name}' belongs to workflow '${task.workflow.name}': run the workflow as the child instead`);
  }
  if (!(task instanceof TaskDefinition) && !(task instanceof WorkflowDefinition)) {
    throw new InvalidDefinitionError('runChild/spawnChild need a task or workflow definition');
  }
  return task.name;
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
function isRetryable(error: unknown): boolean {
  return !(error instanceof DurableError && DETERMINISTIC.has(error.name));
}

/** Deterministic timer id (idempotent scheduling across replays). */
export function timerId(runId: string, attempt: number, position: number, index = 0): string {
  return `${runId}-${attempt}-${position}-${index}`;
}
