/**
 * `replayHistory(task, history)`: runs a task's fn against a recorded history alone. No store, no queue, no
 * timers, no side effects: step bodies never run, and every durable call is answered from the history after
 * its kind and name are checked against what was recorded at its position, exactly as a live replay checks
 * them (replay.ts). Where the code goes past the history (new ground, or a wait the run is parked on), that
 * call never resolves and the replay ends there: the code that follows is what a deploy would run for the
 * first time, which no history can check.
 */
import type { OperationKind } from '../../ports.ts';
import type { Condition } from '../conditions.ts';
import type { DurableContext, Jsonified, Logger, StepOptions, WaitForEventOptions } from '../context-types.ts';
import { assertName, TaskDefinition, WorkflowDefinition, type RunRef, type TaskSpec } from '../definitions.ts';
import { parseDuration, type Duration } from '../duration.ts';
import { DurableError, InvalidDefinitionError, NonDeterminismError, deserializeError } from '../errors.ts';
import { assertPatchId, decidePatch, isMarkerOf } from '../operations/patched.ts';
import { encodeChunk } from '../operations/stream.ts';
import { checkWaitForEvent, eventWaitAnswer, waitForCondition } from '../operations/wait.ts';
import { JournalScope, placeOf, settledFromJournal, type FanOutOptions } from '../operations/fan-out.ts';
import { describeOp } from '../replay.ts';
import { taskRunName } from '../dag/positions.ts';
import { parseHistory, type HistoryEntry, type ReplayableHistory, type RunHistory } from './format.ts';
import { InvalidHistoryError } from './invalid-history-error.ts';

const never = () => new Promise<never>(() => {});
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Replays `task`'s code against `history` (an object from `durable.runs.export`, or its JSON text).
 *
 * @returns resolves when every recorded operation matched, up to where the code goes past the history.
 * @throws {NonDeterminismError} the code called another operation than the history recorded at a position
 *   (`position`, `expected`, `actual` name both), or returned with recorded operations left over.
 * @throws {InvalidHistoryError} not JSON, an unknown format, a malformed field, or a history of another task.
 * @throws {DurableError} the code threw where the recorded run did not fail (`cause` is the error).
 * @example
 * import { replayHistory } from 'durable-tasks/testing';
 * await replayHistory(checkout, JSON.parse(readFileSync('histories/checkout.json', 'utf8')));
 */
export async function replayHistory(task: TaskDefinition<any, any>, history: RunHistory | string): Promise<void> {
  if (!(task instanceof TaskDefinition)) throw new InvalidDefinitionError('replayHistory needs a task definition (durable.durableTask, wf.durableTask)');
  const name = task.workflow ? taskRunName(task.workflow.name, task.name) : task.name;
  return replaySpec(task.spec, name, parseHistory(history));
}

/** Replays a spec known by its run name (the CLI looks definitions up by the history's name). */
export async function replaySpec(spec: TaskSpec, runName: string, history: ReplayableHistory): Promise<void> {
  if (history.name !== runName) {
    const run = history.runId ? ` (run ${history.runId})` : '';
    throw new InvalidHistoryError(`the history is of task '${history.name}'${run}, not of '${runName}': replay it against that task`);
  }
  // A plain task has no journal: nothing to check, and its fn is all side effects.
  if (!spec.durable) return;
  return new HistoryReplayer(spec, history).run();
}

class HistoryReplayer implements DurableContext {
  readonly runId: string;
  readonly attempt: number;
  readonly log = silent;
  readonly signal: AbortSignal;

  private readonly abort = new AbortController();
  private readonly entries = new Map<number, HistoryEntry>();
  private readonly consumed = new Set<number>();
  private readonly patches = new Map<string, boolean>();
  private readonly exportedAt: number;
  private cursor = 0;
  private taken = 0;
  private ended = false;
  private settle!: (error?: unknown) => void;

  constructor(
    private readonly spec: TaskSpec,
    private readonly history: ReplayableHistory,
  ) {
    this.runId = history.runId;
    this.attempt = history.attempt;
    this.signal = this.abort.signal;
    for (const entry of history.entries) this.entries.set(entry.position, entry);
    // Without `exportedAt` every recorded sleep counts as elapsed.
    this.exportedAt = history.exportedAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(history.exportedAt);
  }

  run(): Promise<void> {
    const ending = new Promise<void>((resolve, reject) => {
      this.settle = (error?: unknown) => {
        if (this.ended) return;
        this.ended = true;
        this.abort.abort();
        if (error === undefined) resolve();
        else reject(error);
      };
    });
    Promise.resolve()
      .then(() => this.spec.fn(this.history.input, this))
      .then(
        () => this.settle(this.leftOver('returned')),
        (error: unknown) => {
          const left = this.leftOver('threw');
          // A history without a status says nothing about how the run ended.
          if (left || this.history.status === undefined || this.history.status === 'FAILED') return this.settle(left);
          const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          this.settle(new DurableError(`task '${this.spec.name}' threw (${message}) replaying run ${this.runId}, which the recorded run did not`, { cause: error }));
        },
      );
    return ending;
  }

  /** A recorded operation the code never reached, once the fn has settled. */
  private leftOver(how: string): NonDeterminismError | undefined {
    const missed = [...this.entries.values()].filter((e) => !this.consumed.has(e.position)).sort((a, b) => a.position - b.position)[0];
    return missed && new NonDeterminismError(missed.position, describeOp(missed.kind, missed.name), `nothing (the task ${how})`);
  }

  /** Checks the recorded entry at the next position; `undefined` when the code goes past the history there. */
  private take(kind: OperationKind, name: string): HistoryEntry | undefined {
    if (this.ended) throw ENDED;
    const position = this.cursor++;
    this.taken++;
    const recorded = this.entries.get(position);
    if (!recorded) return undefined;
    if (recorded.kind !== kind || recorded.name !== name) {
      this.settle(new NonDeterminismError(position, describeOp(recorded.kind, recorded.name), describeOp(kind, name)));
      throw ENDED;
    }
    this.consumed.add(position);
    return recorded;
  }

  /** An asynchronous durable call: answered from the history, or never (past the history, or parked there). */
  private op<T>(kind: OperationKind, name: string, answer: (entry: HistoryEntry) => T, parked = (e: HistoryEntry) => e.status === 'pending' || e.status === 'retrying'): Promise<T> {
    let recorded: HistoryEntry | undefined;
    try {
      recorded = this.take(kind, name);
    } catch {
      return never();
    }
    if (!recorded || parked(recorded)) return this.park();
    if (recorded.status === 'failed') return Promise.reject(deserializeError(recorded.error ?? { name: 'Error', message: 'failed' }));
    try {
      return Promise.resolve(answer(recorded));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Ends the replay once nothing else happens (the code's other branches may still check positions). */
  private park(): Promise<never> {
    const check = (seen: number) =>
      setImmediate(() => {
        if (this.ended) return;
        if (this.taken !== seen) return check(this.taken);
        this.settle();
      });
    check(this.taken);
    return never();
  }

  private view() {
    const done = new Map<number, HistoryEntry>();
    for (const [p, e] of this.entries) if (e.status !== 'pending') done.set(p, e);
    return new JournalScope().view(done, (p) => this.entries.get(p)?.status === 'pending');
  }

  // ---- Context -------------------------------------------------------------------------------------

  async parentOutput<O>(parent: TaskDefinition<unknown, O>): Promise<O | undefined> {
    if (!this.history.workflow) throw new InvalidDefinitionError('ctx.parentOutput is only available in workflow (DAG) tasks');
    return this.history.workflow.parentOutputs[parent.name] as O;
  }

  triggers(): Record<string, unknown> {
    return structuredClone(this.history.workflow?.triggers ?? {});
  }

  workflowInput<I>(): I {
    return (this.history.workflow ? this.history.workflow.input : this.history.input) as I;
  }

  // ---- DurableContext ------------------------------------------------------------------------------

  now(): Date {
    let recorded: HistoryEntry | undefined;
    try {
      recorded = this.take('now', '');
    } catch {
      throw new DurableError('this history replay has ended');
    }
    return new Date(recorded ? (recorded.result as number) : Number.isFinite(this.exportedAt) ? this.exportedAt : Date.now());
  }

  patched(id: string): boolean {
    assertPatchId(id, 'patched');
    const known = this.patches.get(id);
    if (known !== undefined) return known;
    const position = this.cursor;
    const decision = decidePatch(id, position, this.view());
    this.patches.set(id, decision !== 'older');
    if (decision === 'older') return false;
    this.cursor++;
    if (decision === 'marker') this.consumed.add(position);
    return true;
  }

  deprecatePatch(id: string): void {
    assertPatchId(id, 'deprecatePatch');
    if (isMarkerOf(id, this.cursor, this.view())) this.consumed.add(this.cursor++);
  }

  putStream(chunk: unknown): Promise<void> {
    encodeChunk(chunk);
    try {
      this.take('stream', '');
    } catch {
      return never();
    }
    return Promise.resolve();
  }

  sleepFor(duration: Duration): Promise<{ durationMs: number }> {
    parseDuration(duration);
    return this.sleep();
  }

  sleepUntil(date: Date | number): Promise<{ durationMs: number }> {
    const at = date instanceof Date ? date.getTime() : date;
    if (typeof at !== 'number' || !Number.isFinite(at)) throw new DurableError(`sleepUntil needs a valid Date or epoch milliseconds, got ${String(date)}`);
    return this.sleep();
  }

  /** A recorded sleep still due when the history was exported is where the run was parked. */
  private sleep(): Promise<{ durationMs: number }> {
    const dueLater = (e: HistoryEntry) => e.status === 'pending' || (e.dueAt !== undefined && new Date(e.dueAt).getTime() > this.exportedAt);
    return this.op('sleep', '', (e) => e.result as { durationMs: number }, dueLater);
  }

  step<T>(name: string, fn: (attempt: number) => T | Promise<T>, _options?: StepOptions): Promise<Jsonified<Awaited<T>>> {
    assertName(name, 'a step');
    if (typeof fn !== 'function') throw new InvalidDefinitionError(`step '${name}': the second argument must be a function`);
    return this.op('step', name, (e) => e.result as Jsonified<Awaited<T>>);
  }

  waitFor(condition: Condition): Promise<Record<string, unknown>> {
    return this.op('wait', waitForCondition(condition).name, (e) => e.result as Record<string, unknown>);
  }

  waitForEvent<T = unknown>(key: string, expression = '', options: WaitForEventOptions = {}): Promise<T> {
    const { timeoutMs } = checkWaitForEvent(key, expression, options);
    return this.op('event', key, (e) => eventWaitAnswer<T>(key, e.result as Record<string, unknown>, timeoutMs));
  }

  runChild<I, O>(task: TaskDefinition<I, O> | WorkflowDefinition<I>, _input: I): Promise<O> {
    return this.op('child', childName(task), (e) => e.result as O);
  }

  map(name: string, items: readonly unknown[], _fn: unknown, options?: FanOutOptions): Promise<never> {
    if (!Array.isArray(items)) throw new InvalidDefinitionError(`ctx.map('${String(name)}'): items must be an array`);
    return this.fanOut('map', name, options);
  }

  parallel(name: string, _branches: readonly unknown[], options?: FanOutOptions): Promise<never> {
    return this.fanOut('parallel', name, options);
  }

  /**
   * A fan-out is checked by its own kind and name and answered from its recorded outcome; its branches'
   * operations are not checked one by one (they are counted as reached, so they are not reported left over).
   */
  private fanOut(kind: 'map' | 'parallel', name: string, options: FanOutOptions | undefined): Promise<never> {
    const anchor = this.cursor;
    for (const p of this.entries.keys()) if (placeOf(p)?.anchor === anchor) this.consumed.add(p);
    return this.op(kind, name, (e) => (options?.toleratedFailures !== undefined ? settledFromJournal(e.result) : e.result)) as Promise<never>;
  }

  spawnChild<I, O>(task: TaskDefinition<I, O> | WorkflowDefinition<I>, _input: I): Promise<RunRef<O>> {
    return this.op('spawn', childName(task), (e) => {
      const runId = (e.result as { runId: string }).runId;
      return { runId, result: () => Promise.reject(new DurableError(`run ${runId}'s result is not part of this history`)) };
    });
  }
}

/** Thrown inside the replayer once it has ended (a mismatch settles it; the caller gets a never-settling call). */
const ENDED = Symbol('ended');

function childName(task: TaskDefinition<any, any> | WorkflowDefinition<any>): string {
  if (!(task instanceof TaskDefinition) && !(task instanceof WorkflowDefinition)) {
    throw new InvalidDefinitionError('runChild/spawnChild need a task or workflow definition');
  }
  return task.name;
}
