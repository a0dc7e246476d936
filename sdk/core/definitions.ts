import { toConditionNode, type Condition, type ConditionNode } from './conditions.ts';
import type { Context, DurableContext } from './context-types.ts';
import { parseDuration, type Duration } from './duration.ts';
import { InvalidDefinitionError } from './errors.ts';
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

/** Options common to tasks and durable tasks. */
export interface TaskOptionsBase {
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
  /** Cron expressions declared with `on: { cron }`. */
  readonly crons?: readonly string[];
}

/** What definitions need from the client to start runs (implemented by the engine). */
export interface RunStarter {
  start(target: string, input: unknown, options?: { metadata?: Record<string, unknown>; at?: Date }): Promise<RunRef<unknown>>;
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

  /** Starts a run and waits for its output. @throws the run's error */
  async run(input: I): Promise<O> {
    return (await this.runNoWait(input)).result();
  }

  /** Starts a run. */
  async runNoWait(input: I, options?: { metadata?: Record<string, unknown> }): Promise<RunRef<O>> {
    return (await this.starter.start(this.target(), input, options)) as RunRef<O>;
  }

  /** Starts a run at `at` (one-time), through the timer service. */
  async schedule(at: Date, input: I): Promise<RunRef<O>> {
    return (await this.starter.start(this.target(), input, { at })) as RunRef<O>;
  }

  private target(): string {
    if (this.workflow) {
      throw new InvalidDefinitionError(`task '${this.name}' belongs to workflow '${this.workflow.name}': run the workflow instead`);
    }
    return this.name;
  }
}

/** Options of `durable.workflow`. */
export interface WorkflowOptions {
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

  /** Starts a run and waits for its output `{ [taskName]: output }`. */
  async run(input: I): Promise<Record<string, unknown>> {
    return (await this.runNoWait(input)).result();
  }

  async runNoWait(input: I, options?: { metadata?: Record<string, unknown> }): Promise<RunRef<Record<string, unknown>>> {
    return (await this.starter.start(this.name, input, options)) as RunRef<Record<string, unknown>>;
  }

  /** Starts a run at `at` (one-time), through the timer service. */
  async schedule(at: Date, input: I): Promise<RunRef<Record<string, unknown>>> {
    return (await this.starter.start(this.name, input, { at })) as RunRef<Record<string, unknown>>;
  }
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
