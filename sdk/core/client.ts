import type { Backend, DurableEvent, RunRecord, RunStatus } from '../ports.ts';
import { TERMINAL_STATUSES, withCursor } from '../ports.ts';
import {
  TaskDefinition,
  WorkflowDefinition,
  buildSpec,
  type DagOptions,
  type DurableTaskOptions,
  type TaskOptions,
  type WorkflowOptions,
} from './definitions.ts';
import { assertName } from './definitions.ts';
import { Engine, type EngineOptions } from './engine.ts';
import { DurableError, RunNotFoundError, publicError } from './errors.ts';
import { decodePayload } from './json.ts';
import { dagWorkflowHooks, prepareWorkflowTask } from './dag/index.ts';
import { Worker } from './worker.ts';
import { describeRun, fetchPayloads, type RunDetails, type RunSummary } from './run-view.ts';
import { isPayloadRef, parsePayloadRef } from './payloads.ts';
import { Crons, fireCronTick } from './cron/service.ts';
import { armDeclared, inProcessCronScheduler, startInProcessCrons, stopInProcessCrons } from './cron/in-process-scheduler.ts';
import { exportRun } from './history/export.ts';
import type { RunHistory } from './history/format.ts';
import { forkRun, type ForkOptions } from './fork/fork.ts';
import { bulkCancel, bulkFork, checkFilter, type BulkForkResult, type ListedRun, type RunFilter } from './fork/bulk.ts';
import type { RunRef } from './definitions.ts';
import { subscribe, type SubscribeOptions } from './stream-subscription.ts';
import { upsertRateLimit, type RateLimitUpsert } from './flow/rate-limits.ts';

/** How a client executes runs in its own process. */
export type EmbeddedWorkerMode = 'listen' | 'poll' | 'none';

/**
 * The client's tuning options. The members marked internal are the composition's (`Durable.fromEnv`, `Durable.local`,
 * `createTestEnvironment`) and the project's tests': the package build strips them from the published types.
 */
export interface DurableOptions extends EngineOptions {
  /** @internal The ports to run on (see `Durable.fromEnv`, `Durable.local`, `createTestEnvironment`). */
  backend: Backend | Promise<Backend>;
  /** @internal Runs are executed in this process as they are dispatched. @default 'none' */
  embeddedWorker?: EmbeddedWorkerMode;
  /** @internal Take up every unfinished run when the backend is ready (single-process local mode after a restart). @default false */
  recoverOnStart?: boolean;
}

/**
 * The client over any Backend: define tasks and workflows, start runs, push events, inspect runs. Users get
 * it as `Durable` (sdk/durable.ts), which adds the composition of the AWS and local backends.
 */
export class DurableClient {
  /** @internal */
  readonly engine: Engine;
  private readonly active = new Set<Promise<unknown>>();
  private pollingWorker: Worker | undefined;
  private closed = false;

  /** Recurring runs: `crons.create(task, { name, expression, input })`, `crons.list()`, `crons.delete(name)`. */
  readonly crons: Crons;

  constructor(private readonly options: DurableOptions) {
    if (!options?.backend) {
      throw new DurableError('a durable-tasks client comes from Durable.local(), Durable.fromEnv() or createTestEnvironment() (durable-tasks/testing)');
    }
    this.engine = new Engine(Promise.resolve(options.backend), options);
    this.engine.workflowHooks = dagWorkflowHooks;
    this.crons = new Crons(this.engine, () => inProcessCronScheduler(this.engine));
    const mode = options.embeddedWorker ?? 'none';
    void this.engine.backendReady.then((backend) => {
      if (this.closed) return;
      // Without EventBridge Scheduler, a client that executes runs itself fires cron ticks itself.
      if (mode !== 'none') startInProcessCrons(this.engine, backend, (cron, tick) => fireCronTick(this.engine, { cron, tick }), (work) => this.track(work));
      if ('connect' in backend.bus && typeof (backend.bus as { connect?: unknown }).connect === 'function') {
        (backend.bus as unknown as { connect(h: (e: DurableEvent) => Promise<unknown>): void }).connect((event) => this.engine.route(event));
      }
      if (mode === 'listen') {
        const queue = backend.dispatcher as unknown as { listen?: (fn: (m: { runId: string }) => void) => void };
        if (!queue.listen) throw new DurableError('the embedded worker mode "listen" needs an in-process queue');
        queue.listen((message) => this.track(this.engine.process(message.runId)));
      } else if (mode === 'poll') {
        const worker = (this.pollingWorker = new Worker(
          'embedded',
          this.engine,
          { workflows: [], allDefinitions: true, inProcessDelivery: true, recoverOnStart: options.recoverOnStart ?? false, sweepIntervalMs: 5_000, idleKeepsProcess: false },
        ));
        void worker.start();
      }
    }, () => undefined);
  }

  private track<T>(work: Promise<T>): void {
    const tracked = work
      .catch((error) => console.error(JSON.stringify({ level: 'error', message: 'run processing failed', error: String((error as Error)?.stack ?? error) })))
      .finally(() => this.active.delete(tracked));
    this.active.add(tracked);
  }

  /** @internal resolves when no run is being processed in this process (test environment). */
  async idle(): Promise<void> {
    for (;;) {
      while (this.active.size > 0) await Promise.allSettled([...this.active]);
      // Let dispatches queued by the work that just finished start.
      await new Promise((r) => setImmediate(r));
      if (this.active.size === 0) return;
    }
  }

  // ---- definitions ---------------------------------------------------------------------------------

  /** Defines a durable task: its context checkpoints every durable call. @throws on a bad or duplicate name, duration or CEL */
  durableTask<I = unknown, O = unknown>(options: DurableTaskOptions<I, O>): TaskDefinition<I, O> {
    const def = new TaskDefinition<I, O>(buildSpec(options as DurableTaskOptions<I, O> & DagOptions, true), this.engine);
    this.engine.registry.add(def);
    if (def.spec.crons) armDeclared(this.engine);
    return def;
  }

  /** Defines a plain task (its context has no durable calls). */
  task<I = unknown, O = unknown>(options: TaskOptions<I, O>): TaskDefinition<I, O> {
    const def = new TaskDefinition<I, O>(buildSpec(options as TaskOptions<I, O> & DagOptions, false), this.engine);
    this.engine.registry.add(def);
    if (def.spec.crons) armDeclared(this.engine);
    return def;
  }

  /** Defines a DAG workflow; add tasks with `wf.task` / `wf.durableTask`. */
  workflow<I = unknown>(options: WorkflowOptions): WorkflowDefinition<I> {
    if (!options || typeof options !== 'object') throw new DurableError('workflow options must be an object with a name');
    assertName(options.name, 'a workflow');
    for (const key of options.onEvents ?? []) {
      if (typeof key !== 'string' || key === '') throw new DurableError(`workflow '${options.name}': onEvents must hold non-empty event keys`);
    }
    const wf = new WorkflowDefinition<I>(options, this.engine, prepareWorkflowTask);
    this.engine.registry.add(wf);
    if (wf.crons.length) armDeclared(this.engine);
    return wf;
  }

  // ---- events and runs -----------------------------------------------------------------------------

  readonly events = {
    /**
     * Pushes an event: waiting runs whose key, scope and CEL filter match resume; workflows whose `onEvents`
     * name the key start.
     */
    push: (key: string, payload: unknown, options?: { scope?: string; metadata?: Record<string, unknown> }) => this.engine.push(key, payload, options),
  };

  readonly runs = {
    /**
     * A run with its journal. Large payloads (kept in S3) are fetched; with `{ payloads: false }` they are not,
     * and the view gives their sizes instead (`inputBytes`, `outputBytes`, an operation's `resultBytes`).
     * @throws {RunNotFoundError}
     */
    get: async (runId: string, options: { payloads?: boolean } = {}): Promise<RunDetails> => {
      const backend = await this.engine.backend();
      const loaded = await backend.store.loadRun(runId);
      if (!loaded) throw new RunNotFoundError(runId);
      return describeRun(options.payloads === false ? loaded : await fetchPayloads(backend.payloads, loaded), backend.clock.now());
    },
    /**
     * Runs, newest first (at most `limit`, default 100), read from an index (no table Scan on AWS). The array
     * carries `cursor` (non-enumerable) when more may follow: pass it back to read the next page. `taskRuns: false`
     * leaves out the runs of DAG tasks.
     * @example const page = await durable.runs.list({ status: 'FAILED', limit: 50 }); const next = await durable.runs.list({ status: 'FAILED', limit: 50, cursor: page.cursor });
     */
    list: async (query: RunListQuery = {}): Promise<RunSummary[] & { cursor?: string }> => {
      const backend = await this.engine.backend();
      const runs = await backend.store.listRuns({ limit: 100, ...query });
      return withCursor(runs.map(summarize), runs.cursor);
    },
    /**
     * Every run matching `query` (its `limit` is the page size), newest first, page by page.
     * @example for await (const run of durable.runs.iterate({ name: 'order' })) console.log(run.runId);
     */
    iterate: (query: Omit<RunListQuery, 'cursor'> = {}): AsyncGenerator<RunSummary> => iterateRuns((q) => this.runs.list(q), query),
    /** Cancels a run: a parked run ends at once, a running one at its next durable call. Idempotent. @throws {RunNotFoundError} */
    cancel: (runId: string) => this.engine.cancel(runId),
    /**
     * The run's recorded history as plain JSON (format 1): name, input, attempt and every journal entry of
     * the attempt, enough for `replayHistory` (durable-tasks/testing) to replay it without the store.
     * @throws {RunNotFoundError}
     * @example writeFileSync('histories/order.json', JSON.stringify(await durable.runs.export(runId), null, 2))
     */
    export: async (runId: string): Promise<RunHistory> => exportRun(await this.engine.backend(), runId),
    /**
     * The chunks the run put with `ctx.putStream`, in order: every chunk from the first, then live ones as they
     * are recorded; ends once the run is terminal (at once, after its chunks, for a finished run). Never yields a
     * chunk twice, whatever the replays. Breaking out of the loop releases everything it held. On AWS it polls
     * (default every second: a GetItem and a Query per round, see README "Streams").
     * @throws {RunNotFoundError} (from the first iteration) when no such run exists
     * @example for await (const chunk of durable.runs.subscribeToStream(ref.runId)) console.log(chunk);
     */
    subscribeToStream: (runId: string, options?: SubscribeOptions): AsyncIterable<unknown> => this.streamOf(runId, options),
    /**
     * A new run of the current code of the run's task, with its input, whose journal keeps the operations recorded
     * before the first step named `fromStep` (the rest re-executes). Its `metadata.forkedFrom` is `runId`. With an
     * `idempotencyKey`, a second call with the key returns the first call's fork (a retry after an unknown outcome).
     * @throws {StepNotFoundError} no step of that name in the run's journal
     * @throws {RunNotForkableError} the run is still in flight, or is not a durable task run
     * @example const ref = await durable.runs.fork(failedRunId, { fromStep: 'charge' }); await ref.result();
     */
    fork: (runId: string, options: ForkOptions): Promise<RunRef<unknown>> => forkRun(this.engine, runId, options),
    /** Cancels every in-flight run matching `filter` (`name`, `status`, `since`, `until`); how many it cancelled. */
    bulkCancel: async (filter: RunFilter): Promise<{ count: number }> => {
      const checked = checkFilter(filter, 'runs.bulkCancel');
      return bulkCancel(this.listing(checked), checked, (runId) => this.engine.cancel(runId));
    },
    /** Forks every finished run matching `filter` from `fromStep` (runs without that step are skipped). */
    bulkFork: async (filter: RunFilter, options: ForkOptions): Promise<BulkForkResult> => {
      const checked = checkFilter(filter, 'runs.bulkFork');
      return bulkFork(this.listing(checked), checked, options, (runId, o) => forkRun(this.engine, runId, o));
    },
  };

  /** The runs a bulk operation walks: the listing index page by page (`runs.iterate`), narrowed by name and a single status. */
  private listing(filter: { name?: string; statuses?: readonly RunStatus[] }): AsyncIterable<ListedRun> {
    const status = filter.statuses?.length === 1 ? filter.statuses[0] : undefined;
    return this.runs.iterate({ limit: 100, ...(filter.name !== undefined ? { name: filter.name } : {}), ...(status !== undefined ? { status } : {}) });
  }

  private async *streamOf(runId: string, options: SubscribeOptions = {}): AsyncGenerator<unknown, void, undefined> {
    const backend = await this.engine.backend();
    const pollMs = options.pollMs ?? this.options.streamPollMs;
    yield* subscribe({ store: backend.store, watch: (id, listener) => this.engine.watchRun(id, listener) }, runId, {
      ...options,
      ...(pollMs !== undefined ? { pollMs } : {}),
    });
  }

  readonly rateLimits = {
    /**
     * Creates or changes a static rate limit (`rateLimits: [{ staticKey }]`): at most `limit` units per `duration`.
     * A changed limit applies from the key's next window. @throws {InvalidDefinitionError} naming a bad field
     * @example await durable.rateLimits.upsert({ key: 'crm-api', limit: 100, duration: RateLimitDuration.SECOND })
     */
    upsert: async (limit: RateLimitUpsert): Promise<void> => upsertRateLimit(await this.engine.backend(), limit),
  };

  /** Every backing-service request this client made, by `Service.Operation`, since it was created. */
  metrics(): { requests: Record<string, number> } {
    const backend = this.engine.backendIfReady;
    return { requests: backend ? backend.counter.snapshot() : {} };
  }

  /**
   * `await using durable = Durable.local()` closes the client when the block ends (the same as `close()`).
   *
   * @example
   * await using durable = Durable.local();
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Stops background work (polling, timers) and releases local servers. Holds the process open while it does: what
   * it waits for (a poll's timer, a server's sockets) does not, and a script's `await durable.close()` would
   * otherwise end with Node's "unsettled top-level await" (exit code 13) when the event loop empties first.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.engine.keepAlive.during(async () => {
      stopInProcessCrons(this.engine);
      await this.pollingWorker?.stop();
      await this.idle();
      const backend = await this.engine.backend().catch(() => undefined);
      await backend?.close();
    });
  }
}

function summarize(run: RunRecord): RunSummary {
  return {
    runId: run.runId,
    name: run.name,
    status: run.status,
    createdAt: new Date(run.createdAt).toISOString(),
    updatedAt: new Date(run.updatedAt).toISOString(),
    ...(run.workflowRunId ? { workflowRunId: run.workflowRunId } : {}),
    ...(run.error ? { error: publicError(run.error) } : {}),
    // A large output stays in S3: a listing reads no blob (its size says it is there).
    ...(TERMINAL_STATUSES.includes(run.status) && run.output !== undefined
      ? isPayloadRef(run.output)
        ? { outputBytes: parsePayloadRef(run.output).bytes }
        : { output: decodePayload(run.output) }
      : {}),
  };
}

/** The query of `runs.list`: filters, page size (`limit`, default 100) and the cursor of the previous page. */
export interface RunListQuery {
  status?: RunStatus;
  name?: string;
  limit?: number;
  cursor?: string;
  /** `false`: leave out the runs of DAG tasks (their workflow run stands for them). */
  taskRuns?: boolean;
}

async function* iterateRuns(
  list: (query: RunListQuery) => Promise<RunSummary[] & { cursor?: string }>,
  query: Omit<RunListQuery, 'cursor'>,
): AsyncGenerator<RunSummary> {
  let cursor: string | undefined;
  do {
    const page = await list({ ...query, ...(cursor !== undefined ? { cursor } : {}) });
    yield* page;
    cursor = page.cursor;
  } while (cursor !== undefined);
}
