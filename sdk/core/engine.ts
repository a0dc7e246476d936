/**
 * The engine behind a `Durable` client: starts runs, processes dispatches, routes events, cancels runs
 * and waits for results, all through the ports of one Backend.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Backend, DurableEvent, RunRecord } from '../ports.ts';
import type { Logger } from './context-types.ts';
import { TaskDefinition, WorkflowDefinition, type RunRef } from './definitions.ts';
import { DurableError, TaskNotFoundError } from './errors.ts';
import { processRun, removeWaiters, type ExecutorDeps, type ProcessResult } from './executor.ts';
import { encodePayload } from './json.ts';
import { Registry, type Definition } from './registry.ts';
import type { ReplayServices } from './replay.ts';
import { KeepAlive } from './keep-alive.ts';
import type { RouteOptions, RouteResult } from './router.ts';
import { newRunRecord } from './run-record.ts';
import { offloadingStore, payloadLimit } from './payloads.ts';
import { itemTtl, runScopedStore } from './run-scope.ts';
import { loadTracing, traceStart, withTraceparent } from './tracing.ts';
import { cancelRun } from './engine/cancel.ts';
import { pushEvent, routeAndStart } from './engine/events.ts';
import { awaitResult, watchRun } from './engine/run-results.ts';
import { Sweeper, recoverRuns } from './engine/sweep.ts';
import { admit, release } from './flow/gate.ts';
import type { FlowSpec } from './flow/options.ts';
import { flowStartFields, flowStoreOf, idempotentRunId, type FlowStartOptions } from './flow/start.ts';

export type LogSink = (line: Record<string, unknown>) => void;

export interface EngineOptions {
  workerId?: string;
  /** Lease length; renewed while a replay runs. @default 30 s */
  leaseMs?: number;
  /** Days finished runs are kept (TTL). @default kept forever */
  retentionDays?: number;
  /** Where `ctx.log` lines go. @default console (JSON lines) */
  log?: LogSink;
  /** How often a replay re-reads its run item to notice a cancel made by another process. @default 1000 ms (0 in-process only) */
  cancelPollMs?: number;
  /**
   * How long a QUEUED run may wait for its message before the sweeper sends another; later ones follow at doubling
   * ages (2x, 4x, ...), so a backlog is not flooded with duplicates. @default 60 s
   */
  sweepQueuedAfterMs?: number;
  /** How often sweeps run, for the first sweep of a process (later ones measure it). @default 60 s */
  sweepPeriodMs?: number;
  /** How often `result()` polls the store when the run finishes in another process. @default 250 ms */
  resultPollMs?: number;
  /**
   * The largest input, output or step result (bytes, serialised): above 256 KiB they are kept in S3 (the payload
   * store), above this they fail with PayloadTooLargeError. Event payloads stay at 256 KiB. @default 32 MiB
   */
  maxPayloadBytes?: number;
  /** How often `runs.subscribeToStream` looks for chunks recorded by another process. @default 1000 ms */
  streamPollMs?: number;
}

/** Hooks the DAG module plugs in (workflow runs are orchestrated there). */
export interface WorkflowHooks {
  /** Starts a workflow run (writes its task states); the run item already exists. */
  processWorkflow(engine: Engine, run: RunRecord, deps: ExecutorDeps): Promise<ProcessResult | undefined>;
  /** A task run of a workflow finished. */
  onTaskRunFinished(engine: Engine, run: RunRecord): Promise<void>;
  /** DAG context for a task run. */
  dagContext(engine: Engine, run: RunRecord): Promise<ReplayServices['dag']>;
  /** A workflow run became terminal (cancel what of it is still alive). */
  onWorkflowFinished?(engine: Engine, run: RunRecord): Promise<void>;
}

export class Engine {
  /** Work of this process in flight holds the event loop; nothing else does (keep-alive.ts). */
  readonly keepAlive = new KeepAlive();
  readonly registry = new Registry();
  readonly workerId: string;
  readonly leaseMs: number;
  /** Runs that became terminal in this process (engine/run-results.ts). */
  private readonly finished = new EventEmitter();
  /** Runs whose replay in this process recorded a stream chunk (`watchRun`). */
  private readonly streamed = new EventEmitter();
  /**
   * Runs cancelled by this process while a replay of theirs runs here (a replay checks it at every durable call,
   * with no store read). Held only while such a replay runs: afterwards the store's `cancelRequested` decides.
   */
  private readonly cancelledHere = new Set<string>();
  /** Replays of each run in progress in this process (`process` calls). */
  private readonly processing = new Map<string, number>();
  private readonly sweeper = new Sweeper();
  workflowHooks: WorkflowHooks | undefined;
  private backendValue: Backend | undefined;
  private readonly ready: Promise<Backend>;

  constructor(
    readonly backendReady: Promise<Backend>,
    readonly options: EngineOptions = {},
  ) {
    this.workerId = options.workerId ?? `worker-${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.finished.setMaxListeners(0);
    payloadLimit(undefined, options.maxPayloadBytes); // a bad value throws here, at construction
    this.streamed.setMaxListeners(0);
    // `@opentelemetry/api`, when installed, is loaded before the engine uses the backend (sdk/core/tracing.ts).
    const tracing = loadTracing();
    this.ready = backendReady.then(async (b) => {
      await tracing;
      // Large payloads go to the payload store before the items that reference them (sdk/core/payloads.ts).
      if (b.payloads) b.store = offloadingStore(b.store, () => b.payloads!, () => itemTtl(this.retentionSeconds(), b.clock.now()));
      return b;
    });
    this.ready.then(
      (b) => (this.backendValue = b),
      () => undefined,
    );
  }

  /** The backend once it is ready (synchronous callers such as `metrics()`). */
  get backendIfReady(): Backend | undefined {
    return this.backendValue;
  }

  async backend(): Promise<Backend> {
    return this.backendValue ?? this.ready;
  }

  /** Changes `maxPayloadBytes` (a worker's option). @throws {DurableError} not a positive integer up to 512 MiB. */
  setMaxPayloadBytes(maxPayloadBytes: number): void {
    payloadLimit(undefined, maxPayloadBytes);
    (this.options as { maxPayloadBytes?: number }).maxPayloadBytes = maxPayloadBytes;
  }

  /** The largest payload (bytes) this engine stores: `maxPayloadBytes` with a payload store, else 256 KiB. */
  payloadLimit(backend: Backend): number {
    return payloadLimit(backend.payloads, this.options.maxPayloadBytes);
  }

  // ---- starting runs -------------------------------------------------------------------------------

  /** Starts a run of a task or workflow by name. */
  async start(
    target: string,
    input: unknown,
    options: { metadata?: Record<string, unknown>; at?: Date; runId?: string } & FlowStartOptions = {},
  ): Promise<RunRef<unknown>> {
    const definition = this.registry.get(target);
    if (!definition) throw new TaskNotFoundError(target, 'it is not defined on this client');
    const flow = flowStartFields(target, options, this.flowSpecFor(target));
    const backend = await this.backend();
    const encoded = encodePayload(input, `input of '${target}'`, this.payloadLimit(backend)) ?? 'null';
    const runId = options.runId ?? (flow.idempotencyKey !== undefined ? idempotentRunId(target, flow.idempotencyKey) : randomUUID());
    return traceStart(target, runId, () => this.create(target, runId, encoded, backend, options, flow));
  }

  private async create(
    target: string,
    runId: string,
    encoded: string,
    backend: Backend,
    options: { metadata?: Record<string, unknown>; at?: Date },
    flow: ReturnType<typeof flowStartFields>,
  ): Promise<RunRef<unknown>> {
    const now = backend.clock.now();
    const at = options.at?.getTime();
    if (at !== undefined && !Number.isFinite(at)) throw new DurableError(`schedule needs a valid Date, got ${String(options.at)}`);
    const delayed = at !== undefined && at > now;
    const run = newRunRecord({ runId, name: target, input: encoded, ...(delayed ? { wakeAt: at } : {}), ...(options.metadata ? { metadata: options.metadata } : {}), ...flow }, now);
    // The timer exists before the run does, so a crash in between cannot leave a scheduled run without one.
    if (delayed) await backend.timers.schedule(`${runId}-start`, at, { runId });
    const created = await backend.store.createRun(run);
    if (created && !delayed) await backend.dispatcher.dispatch({ runId });
    return this.runRef(runId);
  }

  /** Creates a child run (idempotent: a replay that gets here again finds it). */
  async createChildRun(parent: RunRecord, position: number, target: Definition, input: string, childRunId: string): Promise<void> {
    const backend = await this.backend();
    const now = backend.clock.now();
    const link = position >= 0 ? { parent: { runId: parent.runId, attempt: parent.attempt, position, ...generationOf(parent) } } : {};
    await backend.store.createRun(newRunRecord({ runId: childRunId, name: target.name, input, ...link }, now));
  }

  runRef(runId: string): RunRef<unknown> {
    return { runId, result: () => this.result(runId) };
  }

  /**
   * Resolves with a run's output once it is terminal; rejects with its error. One listener per call, removed
   * when it returns (a poll that only adds one would keep a listener per poll until the run ends). Holds the
   * process open meanwhile.
   */
  result(runId: string): Promise<unknown> {
    return this.keepAlive.during(async () => awaitResult(this.finished, await this.backend(), runId, this.options.resultPollMs ?? 250));
  }

  // ---- processing ----------------------------------------------------------------------------------

  /**
   * Handles one dispatch for `runId`. `allowed` limits the definitions (a worker's `workflows`); aborting `signal`
   * abandons the processing (the replay stops, the lease is released, the promise rejects).
   */
  async process(runId: string, allowed?: ReadonlySet<string>, signal?: AbortSignal): Promise<ProcessResult> {
    this.processing.set(runId, (this.processing.get(runId) ?? 0) + 1);
    const release = this.keepAlive.hold();
    try {
      const deps = await this.executorDeps(allowed);
      return await processRun(runId, signal ? { ...deps, signal } : deps);
    } finally {
      release();
      const left = this.processing.get(runId)! - 1;
      if (left > 0) this.processing.set(runId, left);
      else {
        this.processing.delete(runId);
        // A replay here that a cancel reached has ended; the next lease reads the store's cancelRequested flag.
        this.cancelledHere.delete(runId);
      }
    }
  }

  /** @internal the executor's dependencies (the DAG orchestrator finishes and parks workflow runs with them) */
  async executorDeps(allowed?: ReadonlySet<string>): Promise<ExecutorDeps> {
    const backend = await this.backend();
    const deps: ExecutorDeps = {
      backend,
      workerId: this.workerId,
      leaseMs: this.leaseMs,
      resolveSpec: (run) => this.registry.specFor(run.name, allowed),
      services: (run) => this.replayServices(backend, run),
      onFinished: (run) => this.onFinished(run),
    };
    const retentionSeconds = this.retentionSeconds();
    if (retentionSeconds !== undefined) deps.retentionSeconds = retentionSeconds;
    const hooks = this.workflowHooks;
    if (hooks) deps.processWorkflow = (run, leased) => hooks.processWorkflow(this, run, leased);
    deps.admit = async (run, leased) => {
      const spec = this.flowSpecFor(run.name);
      if (!spec) return { type: 'go', run };
      return admit(run, spec, leased, { flow: flowStoreOf(backend), cancel: (id) => this.cancel(id), recheckMs: this.leaseMs, maxRuns: spec.concurrency?.maxRuns ?? 1 });
    };
    return deps;
  }

  /** The flow-control spec of a task or workflow (DAG task runs have none of their own). */
  flowSpecFor(name: string): FlowSpec | undefined {
    const definition = this.registry.get(name);
    if (definition instanceof TaskDefinition) return definition.spec.flow;
    if (definition instanceof WorkflowDefinition) return definition.flow;
    return undefined;
  }

  private async replayServices(backend: Backend, run: RunRecord): Promise<ReplayServices> {
    // The replay's writes for this run carry its generation and an item TTL (sdk/core/run-scope.ts).
    const store = runScopedStore(backend.store, run, this.retentionSeconds(), () => backend.clock.now());
    const services: ReplayServices = {
      backend: { ...backend, store },
      createChildRun: (parent, position, target, input, childRunId) => this.createChildRun(parent, position, target, input, childRunId),
      runRef: (id) => this.runRef(id),
      isCancelled: (id) => this.cancelledHere.has(id),
      cancelPollMs: this.options.cancelPollMs ?? 1000,
      logger: (r, isReplaying) => this.logger(r, isReplaying),
      payloadLimit: this.payloadLimit(backend),
      streamed: (runId) => this.streamed.emit(runId),
    };
    if (run.workflowRunId && this.workflowHooks) {
      const dag = await this.workflowHooks.dagContext(this, run);
      if (dag) services.dag = dag;
    }
    return services;
  }

  /** Seconds finished runs are kept (TTL), or undefined to keep them forever. */
  retentionSeconds(): number | undefined {
    return this.options.retentionDays === undefined ? undefined : Math.round(this.options.retentionDays * 86_400);
  }

  private async onFinished(run: RunRecord): Promise<void> {
    this.cancelledHere.delete(run.runId);
    if (run.flow?.slot || run.flow?.rateQueued) {
      const backend = await this.backend();
      await release(run, { backend }, flowStoreOf(backend), this.flowSpecFor(run.name)?.concurrency?.maxRuns ?? 1);
    }
    if (run.workflowRunId && this.workflowHooks) await this.workflowHooks.onTaskRunFinished(this, run);
    else if (this.workflowHooks?.onWorkflowFinished && this.isWorkflow(run.name)) await this.workflowHooks.onWorkflowFinished(this, run);
    this.finished.emit(run.runId, run);
  }

  /**
   * Calls `listener` whenever this process records a stream chunk of `runId` or sees it finish (the in-process
   * notifications `result()` waits on too). Returns the function that removes it.
   */
  watchRun(runId: string, listener: () => void): () => void {
    return watchRun(this.finished, this.streamed, runId, listener);
  }

  /** Announces that a run became terminal in this process (used by the DAG module for workflow runs). */
  announceFinished(runId: string) {
    this.finished.emit(runId);
  }

  private logger(run: RunRecord, isReplaying: () => boolean): Logger {
    const sink = this.options.log ?? consoleSink;
    const emit = (level: string) => (message: string, fields?: Record<string, unknown>) => {
      if (isReplaying()) return;
      sink({ level, message, runId: run.runId, task: run.name, attempt: run.attempt, ...fields });
    };
    return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
  }

  // ---- events --------------------------------------------------------------------------------------

  /** Validates and publishes an event on the bus. */
  push(key: string, payload: unknown, options: { scope?: string; metadata?: Record<string, unknown> } = {}): Promise<{ eventId: string }> {
    return pushEvent(this, key, payload, options);
  }

  /** The router: resolves waiting runs and starts runs of workflows whose `onEvents` name the key. */
  async route(event: DurableEvent, options: RouteOptions = {}): Promise<RouteResult & { started: string[] }> {
    return withTraceparent(event.traceparent, () => routeAndStart(this, event, options));
  }

  // ---- runs ----------------------------------------------------------------------------------------

  /** Cancels a run and its children (engine/cancel.ts). */
  cancel(runId: string): Promise<void> {
    return cancelRun(this, { cancelledHere: this.cancelledHere, isProcessing: (id) => this.processing.has(id) }, runId);
  }

  /** Re-dispatches runs stranded by a lost message or an expired lease. */
  async sweep(limit = 1000): Promise<number> {
    return this.sweeper.sweep(await this.backend(), this.options, limit);
  }

  /**
   * After a restart of a single-process engine (local mode): no other process can hold a lease, so every
   * unfinished run is taken up at once (leases broken, due runs dispatched, future timers re-armed).
   */
  async recover(): Promise<{ dispatched: number; rearmed: number }> {
    return recoverRuns(await this.backend());
  }

  /** Removes every waiter of a run (used when a DAG run is cancelled). */
  async removeWaiters(runId: string) {
    await removeWaiters(runId, { backend: await this.backend() });
  }

  isWorkflow(name: string): boolean {
    return this.registry.get(name) instanceof WorkflowDefinition;
  }
}

const consoleSink: LogSink = (line) => console.log(JSON.stringify(line));

/** `{ generation }` of a run that has one (runs created before generations existed have none). */
function generationOf(run: RunRecord): { generation?: string } {
  return run.generation === undefined ? {} : { generation: run.generation };
}
