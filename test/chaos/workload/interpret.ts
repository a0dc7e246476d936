/**
 * The workload's interpreter: the tasks every worker defines (plain, retrying, child, flow-controlled, one DAG
 * workflow per slot), each running the program in its input and reporting every step execution to the ledger.
 */
import { And, NonRetryableError, Or, ParentCondition, type Context, type Durable, type DurableContext } from 'durable-tasks';
import type { TaskDefinition } from '../../../sdk/core/definitions.ts';
import { DAG_SLOTS, DAG_TIMER_MS, FLOW_MAX_RUNS, TASK_RETRIES, type Program, type ProgramOp, type StepOrSleep } from './program.ts';

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
    case 'stream':
      void ctx.putStream({ tag: op.tag, a: ctx.attempt });
      return 'streamed';
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
