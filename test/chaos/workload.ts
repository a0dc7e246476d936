/**
 * A seeded random workload: each run executes a small generated program of durable calls (steps with
 * counted side effects, sleeps, event waits with CEL filters and scopes, Or/And waits, child runs, parallel
 * branches, `ctx.map` fan-outs with a concurrency bound, task-level retries, cancellations). The program travels in the run's input, so any worker can
 * interpret it and the driver knows which events to push. `expectedOutcome` is the oracle: the final status
 * and output computed from the program alone.
 */
import { And, NonRetryableError, Or, ParentCondition, type Context, type Durable, type DurableContext } from 'durable-tasks';
import type { TaskDefinition } from '../../sdk/core/definitions.ts';
import type { Random } from './random.ts';

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
  | { t: 'map'; branches: BranchOp[][]; maxConcurrency: number };

export type BranchOp = StepOp | { t: 'event'; event: EventSpec } | { t: 'sleep'; ms: number };

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

type StepOrSleep = StepOp | { t: 'sleep'; ms: number };

export type TaskName = 'chaos' | 'chaos-retry' | 'chaos-child' | 'chaos-flow' | `chaos-dag-${number}`;

/** `chaos-flow` runs share one concurrency key: at most this many of them in flight (the driver checks it). */
export const FLOW_MAX_RUNS = 1;

/** Task-level retries of each workload task. */
export const TASK_RETRIES: Record<'chaos' | 'chaos-retry' | 'chaos-child', number> = { chaos: 0, 'chaos-retry': 2, 'chaos-child': 1 };

/** DAG workflows defined (one per slot); a schedule's run i may be a DAG run of slot i. */
export const DAG_SLOTS = 16;
/** The DAG workflow's tasks in definition order (their index keys the workflow run's reserved journal positions). */
export const DAG_TASKS = ['a', 'b', 'c', 'd'] as const;
const DAG_TIMER_MS = 30 * 60_000;

function retriesOf(task: TaskName): number {
  return task in TASK_RETRIES ? TASK_RETRIES[task as keyof typeof TASK_RETRIES] : 0;
}

/** What the interpreter reports to the invariant checker. */
export interface StepLedger {
  /** A replay began: the interpreter is entered with this context. */
  replayStarted(ctx: object, runId: string, attempt: number): void;
  /** A step's side effect runs now; returns its execution id. Throws when the worker is dead (a crashed process runs nothing). */
  execute(ctx: object, runId: string, attempt: number, step: string, stepAttempt: number, ok: boolean): string;
  /** User code received the outcome of a step (the execution id in its result). */
  observed(runId: string, attempt: number, step: string, execution: string): void;
  /** A flow-controlled run's function was entered (it holds a slot of `group`). */
  flowEntered?(runId: string, group: string): void;
}

// ---- generation -------------------------------------------------------------------------------------

const SHARED_KEYS = 3;

function eventSpec(r: Random, id: string, label: string, options: { scoped: boolean }): EventSpec {
  const shared = r.chance(0.3);
  const key = shared ? `shared-${r.int(0, SHARED_KEYS - 1)}` : `${id}:${label}`;
  const n = r.int(1, 99);
  // `to` names the wait itself, so two waits (of this run or another) sharing a key never take each other's event.
  const to = `${id}/${label}`;
  const payload = { to, n, tag: 'go' };
  const clauses: string[] = [];
  const decoys: EventSpec['decoys'] = [];
  if (shared || r.chance(0.3)) {
    clauses.push(`input.to == "${to}"`);
    decoys.push({ payload: { ...payload, to: `${to}-other` } });
  }
  switch (r.int(0, 3)) {
    case 0:
      clauses.push(`input.n == ${n}`);
      decoys.push({ payload: { ...payload, n: n + 1 } });
      break;
    case 1:
      clauses.push(`input.n > ${n - 1} && input.tag == "go"`);
      decoys.push({ payload: { ...payload, tag: 'stop' } }, { payload: { ...payload, n: n - 1 } });
      // Fails to evaluate (string > int): the router logs it for this waiter and goes on.
      decoys.push({ payload: { ...payload, n: 'not a number' } });
      break;
    case 2:
      clauses.push(`input.tag in ["go", "start"]`);
      decoys.push({ payload: { ...payload, tag: 'halt' } });
      // No key 'tag': evaluation error.
      decoys.push({ payload: { to, n } });
      break;
    default:
      break;
  }
  const spec: EventSpec = { key, expr: clauses.join(' && '), payload, decoys };
  if (options.scoped && r.chance(0.35)) {
    const scope = `tenant-${r.int(1, 3)}`;
    spec.scope = scope;
    decoys.push({ payload, scope: `${scope}-other` }, { payload });
  }
  if (spec.expr === '' && spec.scope === undefined) {
    // Nothing to tell a decoy from the match on a private key: no decoys.
    spec.decoys = [];
  }
  return spec;
}

function stepOp(r: Random, name: string): StepOp {
  const retries = r.chance(0.3) ? r.int(1, 3) : 0;
  const failUntil = retries > 0 ? (r.chance(0.15) ? retries + 1 : r.int(0, retries)) : r.chance(0.05) ? 1 : 0;
  return { t: 'step', name, value: r.int(0, 1_000_000), failUntil, retries, backoff: retries > 0 && r.chance(0.5) };
}

function sleepMs(r: Random): number {
  return r.pick([1_000, 5_000, 30_000, 90_000, 10 * 60_000, 2 * 3_600_000]);
}

function dagProgram(r: Random, id: string, slot: number): Program {
  const steps = (label: string) =>
    Array.from({ length: r.int(0, 2) }, (_, i): StepOrSleep => (r.chance(0.7) ? stepOp(r, `${label}${i}`) : { t: 'sleep', ms: sleepMs(r) }));
  const payload = (tag: string) => ({ to: `${id}/${tag}`, n: 0, tag });
  const dag: DagPlan = {
    slot,
    n: r.int(0, 100),
    a: steps('a'),
    b: steps('b'),
    aFailsFirst: r.chance(0.2),
    gate: r.weighted({ go: 3, timer: 2, stop: 1 }),
    go: { key: `dag-${slot}-go`, expr: 'input.tag == "go"', payload: payload('go'), decoys: [{ payload: payload('nogo') }, { payload: { to: `${id}/go`, n: 0 } }] },
    stop: { key: `dag-${slot}-stop`, expr: '', payload: payload('stop'), decoys: [] },
    dFails: r.chance(0.1),
  };
  return { id, task: `chaos-dag-${slot}`, ops: [], dag };
}

/**
 * A random program; `depth` > 0 for child programs (no grandchildren, no cancel). `dagSlot`: the DAG workflow
 * slot this run may use (a DAG run instead of a durable task, sometimes).
 */
export function generateProgram(r: Random, id: string, depth = 0, dagSlot?: number): Program {
  if (depth === 0 && dagSlot !== undefined && dagSlot < DAG_SLOTS && r.chance(0.15)) return dagProgram(r, id, dagSlot);
  let task: TaskName = depth > 0 ? 'chaos-child' : r.chance(0.4) ? 'chaos-retry' : 'chaos';
  // Half of the plain runs go through one concurrency key (chosen from the id: the random stream is unchanged).
  const flow = task === 'chaos' && idHash(id) % 2 === 0;
  if (flow) task = 'chaos-flow';
  const ops: ProgramOp[] = [];
  const count = r.int(1, depth > 0 ? 3 : 6);
  for (let i = 0; i < count; i++) {
    const kind = r.weighted({ step: 4, sleep: 2, event: 2.5, timeout: 0.7, or: 1, and: 0.8, child: depth > 0 ? 0 : 1, parallel: 1, map: 0.8 });
    switch (kind) {
      case 'step':
        ops.push(stepOp(r, `s${i}`));
        break;
      case 'sleep':
        ops.push({ t: 'sleep', ms: sleepMs(r) });
        break;
      case 'event':
        ops.push({ t: 'event', event: eventSpec(r, id, `e${i}`, { scoped: true }) });
        break;
      case 'timeout':
        ops.push({ t: 'timeout', event: eventSpec(r, id, `t${i}`, { scoped: true }), ms: sleepMs(r) });
        break;
      case 'or': {
        const winner = r.chance(0.5) ? 'event' : 'sleep';
        ops.push({ t: 'or', event: eventSpec(r, id, `o${i}`, { scoped: false }), sleepMs: winner === 'event' ? 3 * 86_400_000 : sleepMs(r), winner });
        break;
      }
      case 'and': {
        const events = [eventSpec(r, id, `a${i}.0`, { scoped: false })];
        if (r.chance(0.6)) events.push(eventSpec(r, id, `a${i}.1`, { scoped: false }));
        const op: ProgramOp = { t: 'and', events };
        if (events.length === 1 || r.chance(0.3)) op.sleepMs = sleepMs(r);
        ops.push(op);
        break;
      }
      case 'child':
        ops.push({ t: 'child', program: generateProgram(r, `${id}.c${i}`, depth + 1) });
        break;
      case 'parallel': {
        const items: (StepOp | { t: 'event'; event: EventSpec } | { t: 'sleep'; ms: number })[] = [];
        const width = r.int(2, 3);
        for (let j = 0; j < width; j++) {
          items.push(r.chance(0.7) ? stepOp(r, `p${i}.${j}`) : { t: 'event', event: eventSpec(r, id, `p${i}.${j}`, { scoped: true }) });
        }
        if (r.chance(0.5)) {
          // A sleep beside slow steps: it falls due while they run (a timer message arriving mid-replay).
          // One slow step per parallel, its first execution only, and short: a program's slow steps together stay
          // well inside the 30 s lease (virtual time passing in a step is not seen by the real-time heartbeat).
          const ms = r.int(1, 2) * 1_000;
          items.push({ t: 'sleep', ms });
          const slow = items.find((item): item is StepOp => item.t === 'step');
          if (slow) slow.takesMs = ms + 1_000;
        }
        ops.push({ t: 'parallel', items });
        break;
      }
      case 'map': {
        const branches: BranchOp[][] = [];
        const width = r.int(2, 4);
        for (let j = 0; j < width; j++) {
          const branch: BranchOp[] = [];
          const length = r.int(1, 2);
          for (let k = 0; k < length; k++) {
            const kind = r.weighted({ step: 3, sleep: 1, event: 1 });
            if (kind === 'step') branch.push(stepOp(r, `m${i}.${j}.${k}`));
            else if (kind === 'sleep') branch.push({ t: 'sleep', ms: sleepMs(r) });
            else branch.push({ t: 'event', event: eventSpec(r, id, `m${i}.${j}.${k}`, { scoped: true }) });
          }
          branches.push(branch);
        }
        ops.push({ t: 'map', branches, maxConcurrency: r.int(1, 3) });
        break;
      }
    }
  }
  const program: Program = { id, task, ops };
  if (flow) program.group = 'g0';
  if (depth === 0 && r.chance(0.08)) {
    program.cancel = true;
    ops.push({ t: 'hold', key: `${id}:hold` });
    return program;
  }
  const retries = retriesOf(task);
  const fail = r.weighted({ none: 8, attempt0: retries > 0 ? 1.5 : 0, always: 0.5, nonretryable: 0.4, 'non-error': 0.4 });
  if (fail !== 'none') program.fail = fail;
  return program;
}

// ---- the oracle -------------------------------------------------------------------------------------

export interface ExpectedOutcome {
  status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  output?: Json;
  error?: { name: string; message: string };
  /** The run's final attempt. */
  attempt: number;
}

/** How many attempts of the program run (each runs every op). */
export function attemptsOf(program: Program): number {
  if (program.dag) return 1;
  const retries = retriesOf(program.task);
  switch (program.fail) {
    case 'attempt0':
      return 2;
    case 'always':
    case 'non-error':
      return retries + 1;
    default:
      return 1;
  }
}

function stepResult(op: StepOp): Json {
  if (op.failUntil > op.retries) return `step-failed:step ${op.name} failed on attempt ${op.retries}`;
  return op.value;
}

function opResult(op: ProgramOp): Json {
  switch (op.t) {
    case 'step':
      return stepResult(op);
    case 'sleep':
      return op.ms;
    case 'event':
      return op.event.payload;
    case 'timeout':
      return 'timeout:WaitTimeoutError';
    case 'or':
      return op.winner === 'event' ? { e: op.event.payload } : { s: { durationMs: op.sleepMs } };
    case 'and': {
      const out: Record<string, Json> = {};
      op.events.forEach((e, j) => (out[`e${j}`] = e.payload));
      if (op.sleepMs !== undefined) out.s = { durationMs: op.sleepMs };
      return out;
    }
    case 'child': {
      const child = expectedOutcome(op.program);
      return child.status === 'SUCCEEDED' ? child.output! : `child-failed:${child.error!.message}`;
    }
    case 'parallel':
      return op.items.map((item) => opResult(item));
    case 'map':
      return op.branches.map((branch) => branch.map((item) => opResult(item)));
    case 'hold':
      return null;
  }
}

function expectedDag(dag: DagPlan): ExpectedOutcome {
  if (dag.gate === 'stop') return { status: 'CANCELLED', attempt: 0 };
  if (dag.dFails) return { status: 'FAILED', error: { name: 'NonRetryableError', message: "task 'd' failed: planned failure" }, attempt: 0 };
  const a = { n: dag.n, out: dag.a.map(opResult) };
  const b = dag.n > 50 ? undefined : { out: dag.b.map(opResult), parent: dag.n };
  const triggers: Json = dag.gate === 'go' ? { go: dag.go.payload } : { timer: { durationMs: DAG_TIMER_MS } };
  const c: Json = { triggers };
  const output: Record<string, Json> = { a, c, d: { b: b ?? null, c } };
  if (b) output.b = b;
  return { status: 'SUCCEEDED', output, attempt: 0 };
}

/** The oracle: the final status, output or error, and attempt of a run of `program`. */
export function expectedOutcome(program: Program): ExpectedOutcome {
  if (program.dag) return expectedDag(program.dag);
  if (program.cancel) return { status: 'CANCELLED', attempt: 0 };
  const attempt = attemptsOf(program) - 1;
  switch (program.fail) {
    case 'always':
      return { status: 'FAILED', error: { name: 'Error', message: 'planned failure' }, attempt };
    case 'non-error':
      return { status: 'FAILED', error: { name: 'Error', message: 'planned string failure' }, attempt };
    case 'nonretryable':
      return { status: 'FAILED', error: { name: 'NonRetryableError', message: 'planned non-retryable failure' }, attempt };
    default:
      return { status: 'SUCCEEDED', output: { k: program.id, attempt, out: program.ops.map(opResult) }, attempt };
  }
}

/** Every event spec of a program's own waits (not its children's), by key. */
export function eventSpecs(program: Program): EventSpec[] {
  if (program.dag) return [program.dag.go, program.dag.stop];
  const out: EventSpec[] = [];
  for (const op of program.ops) {
    if (op.t === 'event' || op.t === 'timeout' || op.t === 'or') out.push(op.event);
    if (op.t === 'and') out.push(...op.events);
    if (op.t === 'parallel') for (const item of op.items) if (item.t === 'event') out.push(item.event);
    if (op.t === 'map') for (const branch of op.branches) for (const item of branch) if (item.t === 'event') out.push(item.event);
  }
  return out;
}

/** Whether the driver pushes the matching payload of `spec` (timeouts and Or-waits the sleep must win never get it). */
export function shouldPush(program: Program, spec: EventSpec): boolean {
  if (program.dag) return spec === (program.dag.gate === 'go' ? program.dag.go : program.dag.gate === 'stop' ? program.dag.stop : undefined);
  for (const op of program.ops) {
    if (op.t === 'timeout' && op.event === spec) return false;
    if (op.t === 'or' && op.event === spec) return op.winner === 'event';
  }
  return true;
}

/** The child programs a program starts (one child run per attempt each). */
export function childPrograms(program: Program): Program[] {
  return program.ops.flatMap((op) => (op.t === 'child' ? [op.program] : []));
}

/** A generous bound on the virtual time a run of `program` needs without faults. */
export function expectedDurationMs(program: Program): number {
  const PUSH = 90_000;
  const step = (op: StepOp) => {
    let ms = 0;
    for (let k = 1; k <= Math.min(op.failUntil, op.retries); k++) ms += op.backoff ? Math.min(4, 2 ** k) * 1000 : 0;
    return ms;
  };
  const one = (op: ProgramOp): number => {
    switch (op.t) {
      case 'step':
        return step(op) + (op.takesMs ?? 0);
      case 'sleep':
        return op.ms;
      case 'event':
        return PUSH;
      case 'timeout':
        return op.ms;
      case 'or':
        return op.winner === 'event' ? PUSH : op.sleepMs;
      case 'and':
        return Math.max(PUSH * op.events.length, op.sleepMs ?? 0);
      case 'child':
        return expectedDurationMs(op.program);
      case 'parallel':
        return Math.max(...op.items.map(one));
      case 'map':
        // Bounded concurrency: at worst one branch after another.
        return op.branches.reduce((sum, branch) => sum + branch.reduce((s, item) => s + one(item), 0), 0);
      case 'hold':
        return 0;
    }
  };
  if (program.dag) {
    const { a, b } = program.dag;
    return 2 * a.reduce((sum, op) => sum + one(op), 0) + b.reduce((sum, op) => sum + one(op), 0) + DAG_TIMER_MS + 60_000;
  }
  const perAttempt = program.ops.reduce((sum, op) => sum + one(op), 0);
  return attemptsOf(program) * (perAttempt + 10_000);
}

// ---- the interpreter --------------------------------------------------------------------------------

interface Deps {
  ledger: StepLedger;
  child: () => TaskDefinition<Program, unknown>;
  /** Lets `ms` of virtual time pass inside a step (the driver fires due timers and delivers their messages). */
  elapse?: (ms: number) => Promise<void>;
  /** The replay's own context, when `runOp` runs in a `ctx.map` branch (the ledger knows replays by it). */
  root?: DurableContext;
}

async function runOp(op: ProgramOp, program: Program, ctx: DurableContext, deps: Deps): Promise<unknown> {
  switch (op.t) {
    case 'step': {
      const options = { retries: op.retries, ...(op.backoff ? { backoff: { factor: 2, maxSeconds: 4 } } : {}) };
      try {
        const result = await ctx.step(
          op.name,
          async (stepAttempt) => {
            if (op.takesMs !== undefined && stepAttempt === 0) await deps.elapse?.(op.takesMs);
            const ok = stepAttempt >= op.failUntil;
            const x = deps.ledger.execute(deps.root ?? ctx, ctx.runId, ctx.attempt, op.name, stepAttempt, ok);
            if (!ok) throw new Error(`step ${op.name} failed on attempt ${stepAttempt}`);
            return { v: op.value, x };
          },
          options,
        );
        deps.ledger.observed(ctx.runId, ctx.attempt, op.name, result.x);
        return result.v;
      } catch (error) {
        return `step-failed:${(error as Error).message}`;
      }
    }
    case 'sleep':
      return (await ctx.sleepFor(op.ms)).durationMs;
    case 'event':
      return ctx.waitForEvent(op.event.key, op.event.expr, op.event.scope !== undefined ? { scope: op.event.scope } : {});
    case 'timeout':
      try {
        await ctx.waitForEvent(op.event.key, op.event.expr, { timeout: op.ms, ...(op.event.scope !== undefined ? { scope: op.event.scope } : {}) });
        return 'unexpected: the wait did not time out';
      } catch (error) {
        return `timeout:${(error as Error).name}`;
      }
    case 'or':
      return ctx.waitFor(Or({ eventKey: op.event.key, expression: op.event.expr, readableDataKey: 'e' }, { sleepFor: op.sleepMs, readableDataKey: 's' }));
    case 'and': {
      const conditions = op.events.map((e, j) => ({ eventKey: e.key, expression: e.expr, readableDataKey: `e${j}` }));
      return ctx.waitFor(op.sleepMs === undefined ? And(...conditions) : And(...conditions, { sleepFor: op.sleepMs, readableDataKey: 's' }));
    }
    case 'child':
      try {
        return await ctx.runChild(deps.child(), op.program);
      } catch (error) {
        return `child-failed:${(error as Error).message}`;
      }
    case 'parallel':
      return Promise.all(op.items.map((item) => runOp(item, program, ctx, deps)));
    case 'map':
      return ctx.map(
        'branches',
        op.branches,
        async (branch, b) => {
          const out: unknown[] = [];
          for (const item of branch) out.push(await runOp(item, program, b, { ...deps, root: ctx }));
          return out;
        },
        { maxConcurrency: op.maxConcurrency },
      );
    case 'hold':
      return ctx.waitForEvent(op.key);
  }
}

async function interpret(program: Program, ctx: DurableContext, deps: Deps): Promise<unknown> {
  deps.ledger.replayStarted(ctx, ctx.runId, ctx.attempt);
  const out: unknown[] = [];
  for (const op of program.ops) out.push(await runOp(op, program, ctx, deps));
  switch (program.fail) {
    case 'attempt0':
      if (ctx.attempt === 0) throw new Error('planned failure on attempt 0');
      break;
    case 'always':
      throw new Error('planned failure');
    case 'nonretryable':
      throw new NonRetryableError('planned non-retryable failure');
    case 'non-error':
      throw 'planned string failure';
    default:
      break;
  }
  return { k: program.id, attempt: ctx.attempt, out };
}

async function runSteps(ops: readonly StepOrSleep[], program: Program, ctx: DurableContext, deps: Deps): Promise<unknown[]> {
  deps.ledger.replayStarted(ctx, ctx.runId, ctx.attempt);
  const out: unknown[] = [];
  for (const op of ops) out.push(await runOp(op, program, ctx, deps));
  return out;
}

function defineDag(durable: Durable, slot: number, deps: Deps) {
  const wf = durable.workflow<Program>({ name: `chaos-dag-${slot}` });
  const a = wf.durableTask<Program, { n: number; out: unknown[] }>({
    name: 'a',
    retries: 1,
    fn: async (p, ctx) => {
      const out = await runSteps(p.dag!.a, p, ctx, deps);
      if (p.dag!.aFailsFirst && ctx.attempt === 0) throw new Error('planned failure on attempt 0');
      return { n: p.dag!.n, out };
    },
  });
  const b = wf.durableTask<Program, { out: unknown[]; parent: number }>({
    name: 'b',
    parents: [a],
    skipIf: new ParentCondition(a, 'output.n > 50'),
    fn: async (p, ctx) => ({ out: await runSteps(p.dag!.b, p, ctx, deps), parent: (await ctx.parentOutput(a))!.n }),
  });
  const c = wf.task<Program, { triggers: Record<string, unknown> }>({
    name: 'c',
    parents: [a],
    waitFor: Or({ eventKey: `dag-${slot}-go`, expression: 'input.tag == "go"', readableDataKey: 'go' }, { sleepFor: DAG_TIMER_MS, readableDataKey: 'timer' }),
    cancelIf: { eventKey: `dag-${slot}-stop`, readableDataKey: 'stop' },
    fn: async (_p, ctx: Context) => ({ triggers: ctx.triggers() }),
  });
  wf.durableTask<Program, unknown>({
    name: 'd',
    parents: [b, c],
    fn: async (p, ctx) => {
      const out = { b: (await ctx.parentOutput(b)) ?? null, c: await ctx.parentOutput(c) };
      if (p.dag!.dFails) throw new NonRetryableError('planned failure');
      return out;
    },
  });
}

/** FNV-1a of a run id (picks the flow-controlled runs without drawing from the workload's random stream). */
function idHash(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** Defines the workload's tasks on a client (every worker defines the same ones). */
export function defineWorkload(durable: Durable, ledger: StepLedger, elapse?: (ms: number) => Promise<void>): void {
  let child: TaskDefinition<Program, unknown> | undefined;
  const deps: Deps = { ledger, child: () => child!, ...(elapse ? { elapse } : {}) };
  child = durable.durableTask<Program, unknown>({ name: 'chaos-child', retries: TASK_RETRIES['chaos-child'], fn: (p, ctx) => interpret(p, ctx, deps) });
  durable.durableTask<Program, unknown>({ name: 'chaos', retries: TASK_RETRIES.chaos, fn: (p, ctx) => interpret(p, ctx, deps) });
  durable.durableTask<Program, unknown>({
    name: 'chaos-retry',
    retries: TASK_RETRIES['chaos-retry'],
    backoff: { factor: 2, maxSeconds: 5 },
    fn: (p, ctx) => interpret(p, ctx, deps),
  });
  durable.durableTask<Program, unknown>({
    name: 'chaos-flow',
    retries: TASK_RETRIES.chaos,
    concurrency: { expression: 'input.group', maxRuns: FLOW_MAX_RUNS },
    fn: (p, ctx) => {
      ledger.flowEntered?.(ctx.runId, p.group ?? '');
      return interpret(p, ctx, deps);
    },
  });
  for (let slot = 0; slot < DAG_SLOTS; slot++) defineDag(durable, slot, deps);
}
