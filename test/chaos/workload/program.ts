/**
 * The chaos workload's programs: what a run executes (steps with counted side effects, sleeps, event waits with CEL
 * filters and scopes, Or/And waits, child runs, parallel branches, `ctx.map` fan-outs with a concurrency bound,
 * task-level retries, cancellations, DAG workflow runs, stream chunks). A program travels in the run's input, so
 * any worker can interpret it (interpret.ts) and the driver knows which events to push; generate.ts makes them
 * from a seed, oracle.ts computes each one's outcome from the program alone.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** An event a wait is satisfied by, and events on the same key that must not satisfy it. */
export interface EventSpec {
  key: string;
  expr: string;
  scope?: string;
  /** The matching payload; pushed by the driver unless the program expects the wait to time out or lose. */
  payload: { to: string; n: number; tag: string };
  decoys: { payload: Json; scope?: string }[];
}

export interface StepOp {
  t: 'step';
  name: string;
  value: number;
  /** Step attempts below this throw. */
  failUntil: number;
  retries: number;
  backoff: boolean;
  /**
   * Virtual time each execution takes (a slow side effect beside a sleep of the same `parallel`): the sleep's
   * timer fires, and its message is delivered, while the run is being replayed.
   */
  takesMs?: number;
}

export type ProgramOp =
  | StepOp
  | { t: 'sleep'; ms: number }
  | { t: 'event'; event: EventSpec }
  | { t: 'timeout'; event: EventSpec; ms: number }
  | { t: 'or'; event: EventSpec; sleepMs: number; winner: 'event' | 'sleep' }
  | { t: 'and'; events: EventSpec[]; sleepMs?: number }
  | { t: 'child'; program: Program }
  | { t: 'parallel'; items: (StepOp | { t: 'event'; event: EventSpec } | { t: 'sleep'; ms: number })[] }
  | { t: 'hold'; key: string }
  /** `ctx.map` over branches, each a sequence of ops run in the branch's own context, at most `maxConcurrency` at once. */
  | { t: 'map'; branches: BranchOp[][]; maxConcurrency: number }
  | StreamOp;

/** `ctx.putStream({ tag, a: attempt })`, not awaited (the replay must still record it, once). */
export interface StreamOp {
  t: 'stream';
  tag: string;
}

export type BranchOp = StepOp | { t: 'event'; event: EventSpec } | { t: 'sleep'; ms: number } | StreamOp;

export type Failure = 'attempt0' | 'always' | 'nonretryable' | 'non-error';

export interface Program {
  id: string;
  task: TaskName;
  ops: ProgramOp[];
  fail?: Failure;
  /** The driver cancels the run; it ends waiting on an event nobody pushes. */
  cancel?: boolean;
  /** A DAG workflow run instead of a durable task (`task` is then the workflow of its slot). */
  dag?: DagPlan;
  /** `chaos-flow` runs: their concurrency key. */
  group?: string;
}

/**
 * A run of the DAG workflow of one slot (each slot has its own gate event keys, so the gates of two runs in one
 * schedule never take each other's events):
 *
 *     a ──► b   (skipIf a's output.n > 50)
 *     │      ╲
 *     └─► c ──► d   c: waitFor Or(event 'go', sleep 30m), cancelIf event 'stop'
 */
export interface DagPlan {
  slot: number;
  /** a's output.n: over 50 skips b. */
  n: number;
  a: StepOrSleep[];
  b: StepOrSleep[];
  /** a fails on its first attempt (task-level retry). */
  aFailsFirst: boolean;
  /** Which of c's gates decides: the 'go' event, the 30-minute timer, or the 'stop' event (cancels the workflow). */
  gate: 'go' | 'timer' | 'stop';
  go: EventSpec;
  stop: EventSpec;
  /** d fails for good: the workflow run FAILED. */
  dFails: boolean;
}

export type StepOrSleep = StepOp | { t: 'sleep'; ms: number };

export type TaskName = 'chaos' | 'chaos-retry' | 'chaos-child' | 'chaos-flow' | `chaos-dag-${number}`;

/** `chaos-flow` runs share one concurrency key: at most this many of them in flight (the driver checks it). */
export const FLOW_MAX_RUNS = 1;

/** Task-level retries of each workload task. */
export const TASK_RETRIES: Record<'chaos' | 'chaos-retry' | 'chaos-child', number> = { chaos: 0, 'chaos-retry': 2, 'chaos-child': 1 };

/** DAG workflows defined (one per slot); a schedule's run i may be a DAG run of slot i. */
export const DAG_SLOTS = 16;
/** The DAG workflow's tasks in definition order (their index keys the workflow run's reserved journal positions). */
export const DAG_TASKS = ['a', 'b', 'c', 'd'] as const;
/** The DAG workflow's timer gate (c waits for the 'go' event or this long). */
export const DAG_TIMER_MS = 30 * 60_000;

export function retriesOf(task: TaskName): number {
  return task in TASK_RETRIES ? TASK_RETRIES[task as keyof typeof TASK_RETRIES] : 0;
}

