import { toConditionNode, type Condition, type ConditionNode } from './conditions.ts';
import type { Context, DurableContext } from './context-types.ts';
import { parseDuration, type Duration } from './duration.ts';
import { InvalidDefinitionError } from './errors.ts';
import { buildFlowSpec, type FlowOptions, type FlowSpec } from './flow/options.ts';
import type { FlowStartOptions } from './flow/start.ts';
import { currentDurableContext } from './durable-scope.ts';

/** Options of `run`, `runNoWait` and `schedule`. */
export interface StartOptions extends FlowStartOptions {
  /** Free-form metadata kept on the run. */
  metadata?: Record<string, unknown>;
}
import { declaredCronExpressions, type OnTrigger } from './cron/declared.ts';

/** Exponential backoff between retries: `min(maxSeconds, factor ** retryNumber)` seconds. */
export interface Backoff {
  /** @default 2 */
  factor?: number;
  /** @default 60 */
  maxSeconds?: number;
}

/** What starting a run returns: its id and a way to await its output. */
export interface RunRef<O> {
  readonly runId: string;
  /** Resolves with the output, or rejects with the run's error (RunCancelledError when cancelled). */
  result(): Promise<O>;
}

/** Options common to tasks and durable tasks (flow control: `concurrency`, `rateLimits`, `defaultPriority`). */
export interface TaskOptionsBase extends FlowOptions {
  /** Unique per client (per workflow for workflow tasks). */
  name: string;
  /** Running time allowed per attempt; time parked in a wait never counts. @default no limit */
  executionTimeout?: Duration;
  /** Retries after a failed attempt (each attempt starts from a fresh journal). @default 0 */
  retries?: number;
  /** @default no delay between retries */
  backoff?: Backoff;
  /** Triggers: `{ cron: '0 3 * * *' }` (or an array) starts a run on each tick (UTC). Standalone tasks only. */
  on?: OnTrigger;
}

export interface TaskOptions<I, O> extends TaskOptionsBase {
  fn: (input: I, ctx: Context) => O | Promise<O>;
}
export interface DurableTaskOptions<I, O> extends TaskOptionsBase {
  fn: (input: I, ctx: DurableContext) => O | Promise<O>;
}

/** DAG-only options of a workflow task. */
export interface DagOptions {
  /** Tasks that must be done (succeeded or skipped) before this one starts. */
  parents?: readonly TaskDefinition<unknown, unknown>[];
  /** Conditions that must be satisfied (after the parents are done) before the task runs. An array means And. */
  waitFor?: Condition;
  /** Conditions that skip the task (it counts as done for its children). */
  skipIf?: Condition;
  /** Conditions that cancel the task and the rest of the workflow run. */
  cancelIf?: Condition;
}

/** The internal shape of a task, shared by standalone and workflow tasks. */
export interface TaskSpec {
  readonly name: string;
  readonly durable: boolean;
  readonly fn: (input: any, ctx: any) => unknown;
  readonly executionTimeoutMs?: number;
  readonly retries: number;
  readonly backoff?: Required<Backoff>;
  readonly parents: readonly string[];
  readonly waitFor?: ConditionNode;
  readonly skipIf?: ConditionNode;
  readonly cancelIf?: ConditionNode;
  /** Flow control (concurrency key, rate limits, default priority), for standalone tasks. */
  readonly flow?: FlowSpec;
  /** Cron expressions declared with `on: { cron }`. */
  readonly crons?: readonly string[];
}

/** What definitions need from the client to start runs (implemented by the engine). */
export interface RunStarter {
  start(target: string, input: unknown, options?: StartOptions & { at?: Date }): Promise<RunRef<unknown>>;
}

/**
 * A task or durable task. Start it with `run` (await its output) or `runNoWait` (get a run reference).
 *
 * @example const out = await simple.run({ id: '1' })
 */
export class TaskDefinition<I = unknown, O = unknown> {
  /** @internal */
  readonly spec: TaskSpec;
  /** @internal the workflow this task belongs to, for DAG tasks */
  readonly workflow?: WorkflowDefinition<any>;

  /** @internal */
  constructor(
    spec: TaskSpec,
    private readonly starter: RunStarter,
    workflow?: WorkflowDefinition<any>,
  ) {
    this.spec = spec;
    if (workflow) this.workflow = workflow;
  }

  get name(): string {
    return this.spec.name;
  }

  /**
   * Starts a run and waits for its output. Inside a durable task it is a checkpointed child (`ctx.runChild`: a
   * replay never starts it again), and an array runs one child per input, outputs in order.
   * @throws the run's error
   */
  // The array form first, as the runtime checks it first (an array input is a bulk start); the single form last, so
  // `ReturnType<typeof task.run>` (which reads the last overload) stays `Promise<O>`.
  run(inputs: readonly I[], options?: StartOptions): Promise<O[]>;
  run(input: I, options?: StartOptions): Promise<O>;
  async run(input: I | readonly I[], options?: StartOptions): Promise<O | O[]> {
    const ctx = currentDurableContext();
    if (ctx) {
      checkpointedInput(this.name, input, options);
      return Array.isArray(input) ? Promise.all(input.map((one: I) => ctx.runChild(this, one))) : ctx.runChild(this, input as I);
    }
    return (await this.runNoWait(input as I, options)).result();
  }

  /** Starts a run. `{ priority, idempotencyKey }`: see flow control. Inside a durable task, a checkpointed child (`ctx.spawnChild`). */
  async runNoWait(input: I, options?: StartOptions): Promise<RunRef<O>> {
    const ctx = currentDurableContext();
    if (ctx) return ctx.spawnChild(this, checkpointedInput(this.name, input, options));
    return (await this.starter.start(this.target(), input, options)) as RunRef<O>;
  }

  /** Starts a run at `at` (one-time), through the timer service. */
  async schedule(at: Date, input: I, options?: StartOptions): Promise<RunRef<O>> {
    return (await this.starter.start(this.target(), input, { ...options, at })) as RunRef<O>;
  }

  private target(): string {
    if (this.workflow) {
      throw new InvalidDefinitionError(`task '${this.name}' belongs to workflow '${this.workflow.name}': run the workflow instead`);
    }
    return this.name;
  }
}

/** Options of `durable.workflow` (flow-control options apply to whole workflow runs). */
export interface WorkflowOptions extends FlowOptions {
  name: string;
  /** Event keys that start a run of this workflow (with the event payload as input). */
  onEvents?: readonly string[];
  /** Optional description shown in the dashboard. */
  description?: string;
  /** Triggers: `{ cron: '0 3 * * *' }` (or an array) starts a run of the workflow on each tick (UTC). */
  on?: OnTrigger;
}

/**
 * A DAG of tasks. Add tasks with `wf.task` / `wf.durableTask`; run it with `wf.run(input)`, whose output is
 * `{ [taskName]: output }` for every task that ran.
 */
export class WorkflowDefinition<I = unknown> {
  readonly name: string;
  readonly onEvents: readonly string[];
  /** @internal flow control of whole workflow runs */
  readonly flow?: FlowSpec;
  /** @internal cron expressions declared with `on: { cron }` */
  readonly crons: readonly string[];
  /** @internal */
  readonly tasks: TaskDefinition<any, any>[] = [];

  /** @internal */
  constructor(
    options: WorkflowOptions,
    private readonly starter: RunStarter,
    /** Builds and validates a task's spec (DAG checks live in core/dag/define.ts). */
    private readonly prepareTask: (wf: WorkflowDefinition<any>, options: TaskOptionsBase & { fn: unknown } & DagOptions, durable: boolean) => TaskSpec,
  ) {
    this.name = options.name;
    this.onEvents = [...(options.onEvents ?? [])];
    const flow = buildFlowSpec(options, `workflow '${options.name}'`);
    if (flow) this.flow = flow;
    this.crons = declaredCronExpressions(options.on, `workflow '${options.name}'`);
  }

  /** Adds a task (non-durable context) to the workflow. */
  task<TI = I, TO = unknown>(options: TaskOptions<TI, TO> & DagOptions): TaskDefinition<TI, TO> {
    return this.add(this.prepareTask(this, options, false));
  }

  /** Adds a durable task to the workflow. */
  durableTask<TI = I, TO = unknown>(options: DurableTaskOptions<TI, TO> & DagOptions): TaskDefinition<TI, TO> {
    return this.add(this.prepareTask(this, options, true));
  }

  private add<TI, TO>(spec: TaskSpec): TaskDefinition<TI, TO> {
    const def = new TaskDefinition<TI, TO>(spec, this.starter, this);
    this.tasks.push(def);
    return def;
  }

  /** Starts a run and waits for its output `{ [taskName]: output }`. Inside a durable task, a checkpointed child. */
  async run(input: I, options?: StartOptions): Promise<Record<string, unknown>> {
    const ctx = currentDurableContext();
    if (ctx) return ctx.runChild<I, Record<string, unknown>>(this, checkpointedInput(this.name, input, options));
    return (await this.runNoWait(input, options)).result();
  }

  /** Starts a run. Inside a durable task, a checkpointed child (`ctx.spawnChild`). */
  async runNoWait(input: I, options?: StartOptions): Promise<RunRef<Record<string, unknown>>> {
    const ctx = currentDurableContext();
    if (ctx) return ctx.spawnChild<I, Record<string, unknown>>(this, checkpointedInput(this.name, input, options));
    return (await this.starter.start(this.name, input, options)) as RunRef<Record<string, unknown>>;
  }

  /** Starts a run at `at` (one-time), through the timer service. */
  async schedule(at: Date, input: I, options?: StartOptions): Promise<RunRef<Record<string, unknown>>> {
    return (await this.starter.start(this.name, input, { ...options, at })) as RunRef<Record<string, unknown>>;
  }
}

/** A checkpointed child carries no metadata (its run item is the child link): refuse it rather than drop it. */
function checkpointedInput<I>(name: string, input: I, options: StartOptions | undefined): I {
  const given = Object.entries(options ?? {}).filter(([, value]) => value !== undefined).map(([key]) => key);
  if (given.length > 0) {
    throw new InvalidDefinitionError(
      `'${name}' run inside a durable task starts a checkpointed child, which takes no start options (got ${given.join(', ')}): drop them or start it from a step`,
    );
  }
  return input;
}

/**
 * Validates and normalises task options into a spec.
 * @throws {InvalidDefinitionError | InvalidDurationError | InvalidExpressionError}
 */
export function buildSpec(options: TaskOptionsBase & { fn: unknown } & DagOptions, durable: boolean, workflow?: string): TaskSpec {
  if (!options || typeof options !== 'object') throw new InvalidDefinitionError('task options must be an object with a name and an fn');
  assertName(options.name, workflow ? `a task of workflow '${workflow}'` : 'a task');
  const where = workflow ? `task '${options.name}' of workflow '${workflow}'` : `task '${options.name}'`;
  if (typeof options.fn !== 'function') throw new InvalidDefinitionError(`${where}: fn must be a function`);
  const retries = options.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0 || retries > 1000) {
    throw new InvalidDefinitionError(`${where}: retries must be a whole number from 0 to 1000, got ${String(retries)}`);
  }
  const spec: {
    -readonly [K in keyof TaskSpec]: TaskSpec[K];
  } = {
    name: options.name,
    durable,
    fn: options.fn as TaskSpec['fn'],
    retries,
    parents: (options.parents ?? []).map((p) => {
      if (!p || typeof (p as { name?: unknown }).name !== 'string') throw new InvalidDefinitionError(`${where}: parents must be task definitions`);
      return p.name;
    }),
  };
  if (options.executionTimeout !== undefined) spec.executionTimeoutMs = parseDuration(options.executionTimeout);
  if (options.backoff) spec.backoff = normaliseBackoff(options.backoff, where);
  if (options.waitFor !== undefined) spec.waitFor = toConditionNode(options.waitFor);
  if (options.skipIf !== undefined) spec.skipIf = toConditionNode(options.skipIf);
  if (options.cancelIf !== undefined) spec.cancelIf = toConditionNode(options.cancelIf);
  if (workflow && (options.concurrency !== undefined || options.rateLimits !== undefined || options.defaultPriority !== undefined)) {
    throw new InvalidDefinitionError(`${where}: concurrency, rateLimits and defaultPriority apply to whole workflow runs: set them on durable.workflow({ ... })`);
  }
  const flow = buildFlowSpec(options, where);
  if (flow) spec.flow = flow;
  if (options.on !== undefined) {
    if (workflow) throw new InvalidDefinitionError(`${where}: 'on' triggers start whole runs; put it on the workflow, not on one of its tasks`);
    const crons = declaredCronExpressions(options.on, where);
    if (crons.length) spec.crons = crons;
  }
  if (!workflow && (options.parents?.length || options.waitFor || options.skipIf || options.cancelIf)) {
    throw new InvalidDefinitionError(`${where}: parents, waitFor, skipIf and cancelIf are for workflow tasks (wf.task); use ctx.waitFor in a durable task`);
  }
  return spec;
}

export function normaliseBackoff(backoff: Backoff, where: string): Required<Backoff> {
  const factor = backoff.factor ?? 2;
  const maxSeconds = backoff.maxSeconds ?? 60;
  if (!Number.isFinite(factor) || factor < 1) throw new InvalidDefinitionError(`${where}: backoff.factor must be a number ≥ 1, got ${String(factor)}`);
  if (!Number.isFinite(maxSeconds) || maxSeconds < 0) throw new InvalidDefinitionError(`${where}: backoff.maxSeconds must be ≥ 0, got ${String(maxSeconds)}`);
  return { factor, maxSeconds };
}

/** Delay before retry number `retry` (1-based). */
export function backoffDelayMs(backoff: Required<Backoff> | undefined, retry: number): number {
  if (!backoff) return 0;
  return Math.min(backoff.maxSeconds, backoff.factor ** retry) * 1000;
}

/** Names (tasks, workflows, steps) are non-empty strings of at most 200 characters. */
export function assertName(name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || name.trim().length === 0) {
    throw new InvalidDefinitionError(`the name of ${what} must be a non-empty string, got ${JSON.stringify(name) ?? String(name)}`);
  }
  if (name.length > 200) throw new InvalidDefinitionError(`the name of ${what} is ${name.length} characters, over the 200-character limit`);
}
