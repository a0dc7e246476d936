/**
 * The replay engine: runs a task's fn against its journal. Each durable call takes the next position;
 * a recorded position answers from the journal, a new one does the work and records it first-wins.
 * When the run must wait, the durable call never resolves and the replay reports `suspended`.
 *
 * This file is the Replayer: the lifecycle of one replay, positions and journal scopes, the suspend decision,
 * cancellation and timeout checks, and the dispatch of each `ctx` method to its operation under operations/
 * (step.ts, sleep.ts, wait.ts, child.ts, now.ts, patched.ts, stream.ts, fan-out-run.ts), which record through
 * operations/journal-writer.ts. See ARCHITECTURE.md in this folder.
 */
import type { Backend, JournalEntry, LoadedRun, OperationKind, RunRecord, Waiter } from '../ports.ts';
import type { Condition } from './conditions.ts';
import type { DurableContext, FanOutOptions, Jsonified, Logger, StepOptions, WaitForEventOptions } from './context-types.ts';
import { TaskDefinition, WorkflowDefinition, type RunRef, type TaskSpec } from './definitions.ts';
import type { Duration } from './duration.ts';
import { DurableError, ExecutionTimeoutError, InvalidDefinitionError, RunCancelledError } from './errors.ts';
import { PAYLOAD_LIMIT_BYTES, decodePayload, encodePayload } from './json.ts';
import { resolvePayload } from './payloads.ts';
import { OperationTraces } from './tracing.ts';
import { runInDurableContext } from './durable-scope.ts';
import { BranchContext, type ScopedContext } from './operations/branch-context.ts';
import { runChild, spawnChild } from './operations/child.ts';
import { JournalScope, placeOf } from './operations/fan-out.ts';
import { mapBranches, runFanOut, type FanOutHost } from './operations/fan-out-run.ts';
import { Fatal, PARK, guardBackend, isRetryable, never, type OperationHost, type Park, type ReplayOutcome, type ReplayServices } from './operations/host.ts';
import { JournalWriter } from './operations/journal-writer.ts';
import { now } from './operations/now.ts';
import { deprecatePatch, patched } from './operations/patched.ts';
import { sleepFor, sleepUntil } from './operations/sleep.ts';
import { step } from './operations/step.ts';
import { putStream } from './operations/stream.ts';
import { waitFor, waitForEvent, waitersByPosition } from './operations/wait.ts';

export type { ReplayOutcome, ReplayServices } from './operations/host.ts';
export { describeOp, timerId } from './operations/host.ts';

/**
 * Replays `spec.fn` for the run in `loaded`. Never throws: every ending is an outcome.
 */
export async function replay(spec: TaskSpec, loaded: LoadedRun, services: ReplayServices): Promise<ReplayOutcome> {
  const replayer = new Replayer(spec, loaded, services);
  return replayer.run();
}

class Replayer implements ScopedContext, FanOutHost, OperationHost {
  readonly runId: string;
  readonly attempt: number;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly runItem: RunRecord;
  readonly backend: Backend;
  readonly entries = new Map<number, JournalEntry>();
  readonly waiters: Map<number, Waiter[]>;
  readonly journal: JournalWriter;

  private readonly recordedPositions: number;
  /** The run's own journal scope; a `ctx.map` / `ctx.parallel` branch has one of its own (operations/fan-out.ts). */
  private readonly root = new JournalScope();
  /** Labels of the fan-outs of this replay by position (`map 'charge-all'`), to name a branch in errors. */
  readonly fanOutLabels = new Map<number, string>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly parked: { position: number; wakeAt: number | undefined }[] = [];
  private readonly abort = new AbortController();
  private settle!: (outcome: ReplayOutcome) => void;
  /** True once the replay has an outcome: an ended replay records nothing more. */
  ended = false;
  /** Why the replay was stopped from outside (`services.stop`), if it was. */
  private stopReason: unknown;
  private readonly startedAt = performance.now();
  private lastCancelPoll = 0;
  private suspendCheckScheduled = false;
  /** The run's input as JSON text, once fetched (a large input lives in the payload store). */
  private inputText: string | undefined;
  private readonly traces: OperationTraces;

  constructor(
    private readonly spec: TaskSpec,
    loaded: LoadedRun,
    readonly services: ReplayServices,
  ) {
    this.backend = guardBackend(services.backend, () => this.ended);
    this.runItem = loaded.run;
    this.runId = loaded.run.runId;
    this.attempt = loaded.run.attempt;
    this.signal = this.abort.signal;
    for (const entry of loaded.entries) if (entry.attempt === this.attempt) this.entries.set(entry.position, entry);
    this.waiters = waitersByPosition(loaded.waiters, this.attempt);
    // The run's own positions (a fan-out's branch entries, operations/fan-out.ts, are not the top level's ground).
    const own = (positions: Iterable<number>) => [...positions].filter((p) => placeOf(p) === undefined).length;
    this.recordedPositions = Math.max(own(this.entries.keys()), own(this.waiters.keys()));
    this.log = services.logger(loaded.run, () => this.root.taken < this.recordedPositions);
    this.traces = new OperationTraces(this.runId, spec.name, this.attempt, (position) => this.entries.has(position));
    this.journal = new JournalWriter(this.backend.store, this.runId, this.attempt, this.entries, loaded);
  }

  async run(): Promise<ReplayOutcome> {
    const ending = new Promise<ReplayOutcome>((resolve) => (this.settle = resolve));
    const timeoutMs = this.spec.executionTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    if (timeoutMs !== undefined) {
      const remaining = timeoutMs - this.runItem.runningMs;
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
      .then(() => resolvePayload(this.backend.payloads, this.runItem.input))
      .then((text) => runInDurableContext(this.spec.durable ? this : undefined, () => this.spec.fn(decodePayload((this.inputText = text)), this)))
      .then(
        async (value) => {
          // A checkpoint written in the background (ctx.now) must land before the run completes.
          await this.drain();
          if (this.ended) return;
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
      this.ended = true;
      this.abort.abort(this.stopReason);
    }
  }

  private finish(outcome: ReplayOutcome) {
    if (this.ended) return;
    this.ended = true;
    const parked = this.journal.parked;
    if (parked.length && (outcome.type === 'completed' || outcome.type === 'failed' || outcome.type === 'suspended')) outcome = { ...outcome, parked };
    this.settle(outcome);
  }

  fail(fatal: Fatal) {
    if (fatal.infrastructure) this.finish({ type: 'aborted', error: fatal.error });
    else if (fatal.cancelled) this.finish({ type: 'cancelled' });
    else this.finish({ type: 'failed', error: fatal.error, retryable: isRetryable(fatal.error) });
  }

  private async drain() {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Runs at every durable call before it takes a position: why the replay must end (it is ended then), if it must. */
  private stopped(): Fatal | undefined {
    const timeoutMs = this.spec.executionTimeoutMs;
    let fatal: Fatal | undefined;
    if (this.ended) fatal = new Fatal(new DurableError('this replay has already ended'));
    else if (this.services.isCancelled(this.runId)) fatal = new Fatal(new RunCancelledError(this.runId), true);
    else if (timeoutMs !== undefined && this.runItem.runningMs + (performance.now() - this.startedAt) > timeoutMs) fatal = new Fatal(new ExecutionTimeoutError(timeoutMs));
    if (fatal) this.fail(fatal);
    return fatal;
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
  durable<T>(body: (position: number) => Promise<T | Park>, scope: JournalScope): Promise<T> {
    return this.stopped() ? never() : this.runAt(scope.take(), body);
  }

  /** Runs `body` for a position already taken, tracked in flight (operations/fan-out-run.ts records its outcome so). */
  runAt<T>(position: number, body: (position: number) => Promise<T | Park>): Promise<T> {
    const trace = this.traces.start(position);
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

  /** Names a call's span (sdk/core/tracing.ts); `now` and `patch` (no `durable()` of their own) get one that ends at once. */
  describeOperation(position: number, kind: OperationKind, name: string) {
    this.traces.describe(position, kind, name);
  }

  park(position: number, wakeAt: number | undefined): Park {
    this.parked.push({ position, wakeAt });
    return PARK;
  }

  /** Suspends once something is parked and nothing else is in flight (let sibling branches record their work). */
  private scheduleSuspendCheck() {
    if (this.parked.length === 0 || this.suspendCheckScheduled) return;
    this.suspendCheckScheduled = true;
    setImmediate(() => {
      this.suspendCheckScheduled = false;
      if (this.ended || this.parked.length === 0) return;
      if (this.inflight.size > 0) return; // the last in-flight call re-checks when it settles
      const dues = this.parked.map((p) => p.wakeAt).filter((t): t is number => t !== undefined);
      this.finish({ type: 'suspended', wakeAt: dues.length ? Math.min(...dues) : undefined });
    });
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
    return (this.services.dag ? this.services.dag.workflowInput() : decodePayload(this.inputText ?? this.runItem.input)) as I;
  }

  /** `stopped` for a synchronous durable call: ends the replay and throws the error to the caller. */
  checkLiveOrThrow() {
    const fatal = this.stopped();
    if (fatal) throw fatal.error;
  }

  /** Tracks a write a synchronous call started, so the replay does not end before it lands. */
  background(write: Promise<unknown>) {
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

  // ---- DurableContext: each call goes to its operation (operations/) ------------------------------------

  now(scope = this.root): Date {
    return now(this.requireDurable('now'), scope);
  }

  patched(id: string, scope = this.root): boolean {
    return patched(this.requireDurable('patched'), id, scope);
  }

  deprecatePatch(id: string, scope = this.root): void {
    deprecatePatch(this.requireDurable('deprecatePatch'), id, scope);
  }

  putStream(chunk: unknown, scope = this.root): Promise<void> {
    return putStream(this.requireDurable('putStream'), chunk, scope);
  }

  sleepFor(duration: Duration, scope = this.root): Promise<{ durationMs: number }> {
    return sleepFor(this.requireDurable('sleepFor'), duration, scope);
  }

  sleepUntil(date: Date | number, scope = this.root): Promise<{ durationMs: number }> {
    return sleepUntil(this.requireDurable('sleepUntil'), date, scope);
  }

  step<T>(name: string, fn: (attempt: number) => T | Promise<T>, options?: StepOptions, scope = this.root): Promise<Jsonified<Awaited<T>>> {
    return step(this.requireDurable('step'), name, fn, options, scope);
  }

  waitFor(condition: Condition, scope = this.root): Promise<Record<string, unknown>> {
    return waitFor(this.requireDurable('waitFor'), condition, scope);
  }

  waitForEvent<T = unknown>(key: string, expression = '', options: WaitForEventOptions = {}, scope = this.root): Promise<T> {
    return waitForEvent<T>(this.requireDurable('waitForEvent'), key, expression, options, scope);
  }

  runChild<I, O>(task: TaskDefinition<I, O> | WorkflowDefinition<I>, input: I, scope = this.root): Promise<O> {
    return runChild(this.requireDurable('runChild'), task, input, scope);
  }

  spawnChild<I, O>(task: TaskDefinition<I, O> | WorkflowDefinition<I>, input: I, scope = this.root): Promise<RunRef<O>> {
    return spawnChild(this.requireDurable('spawnChild'), task, input, scope);
  }

  // ---- Fan-out (operations/fan-out-run.ts) -----------------------------------------------------------

  map(name: string, items: readonly unknown[], fn: (item: never, ctx: DurableContext, index: number) => unknown, options?: FanOutOptions, scope = this.root): Promise<never> {
    return runFanOut(this.requireDurable('map'), scope, 'map', name, mapBranches(name, items, fn), options) as Promise<never>;
  }

  parallel(name: string, branches: readonly ((ctx: DurableContext) => unknown)[], options?: FanOutOptions, scope = this.root): Promise<never> {
    return runFanOut(this.requireDurable('parallel'), scope, 'parallel', name, branches, options) as Promise<never>;
  }

  /** Takes the next position of `scope` for a fan-out (the fan-out itself is not in flight: its branches are). */
  takePosition(scope: JournalScope): number | undefined {
    return this.stopped() ? undefined : scope.take();
  }

  branchContext(anchor: number, index: number, label: string): DurableContext {
    this.fanOutLabels.set(anchor, label);
    return new BranchContext(this, new JournalScope({ anchor, index, label }));
  }

  /** This replay, for a call only a durable task may make. */
  private requireDurable(method: string): this {
    if (!this.spec.durable) {
      throw new InvalidDefinitionError(`ctx.${method} needs a durable task: define '${this.spec.name}' with durableTask instead of task`);
    }
    return this;
  }
}
