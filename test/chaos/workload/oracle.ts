/**
 * The oracle: the final status, output or error, and attempt of a run, computed from its program alone; and what
 * the driver needs to know of a program (its event waits, which of them get their event, its child programs, a
 * bound on its virtual duration, the stream chunks it puts).
 */
import { DAG_TIMER_MS, retriesOf, type DagPlan, type EventSpec, type Json, type Program, type ProgramOp, type StepOp } from './program.ts';

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
    case 'stream':
      return 'streamed';
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
      case 'stream':
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

/** The chunks one attempt of `program` puts: its own in order, and each map branch's (in order within the branch). */
export function expectedStream(program: Program): { top: string[]; branches: string[][] } {
  const top: string[] = [];
  const branches: string[][] = [];
  for (const op of program.ops) {
    if (op.t === 'stream') top.push(op.tag);
    if (op.t === 'map') for (const branch of op.branches) branches.push(branch.flatMap((b) => (b.t === 'stream' ? [b.tag] : [])));
  }
  return { top, branches };
}
