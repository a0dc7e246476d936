/**
 * The fork workload (runs.fork, issue 18): some finished runs are forked from one of their steps (a top-level step
 * or a step inside a `ctx.map` branch) by the driver, under the same faults as everything else (a fork may fail or
 * crash mid-copy; the driver then forks again, as a user would). The oracle, per fork run:
 * - it ends as its source's program says (same output: the program is deterministic), at attempt 0;
 * - no step before the fork point ran in the fork (its outcome is the source's, copied): each such side effect
 *   happened once over both runs (the source's executions are checked by the ledger as for any run);
 * - every step from the fork point on ran again in the fork;
 * - the fork's journal holds the source's outcome (the same execution id) for every step before the fork point;
 * - a fork made with an idempotencyKey (half the plans) exists once, however often its call failed and was made again.
 */
import type { JournalEntry, RunRecord } from '../../sdk/ports.ts';
import type { Random } from './random.ts';
import { expectedOutcome } from './workload/oracle.ts';
import type { BranchOp, Program, ProgramOp } from './workload/program.ts';

export interface ForkPlan {
  source: string;
  fromStep: string;
  /** Steps whose outcome the fork keeps (never run again). */
  pre: string[];
  /** Steps the fork runs again. */
  post: string[];
  /** The fork's idempotencyKey (half the plans): however often the call fails and is made again, one fork. */
  key?: string;
}

const stepsOf = (op: ProgramOp | BranchOp): string[] => {
  switch (op.t) {
    case 'step':
      return [op.name];
    case 'parallel':
      return op.items.flatMap(stepsOf);
    case 'map':
      return op.branches.flatMap((branch) => branch.flatMap(stepsOf));
    default:
      return [];
  }
};

/** Where a program may be forked from: each top-level step, and each step of a map branch, with what it keeps. */
export function forkPoints(program: Program): ForkPlan[] {
  const points: ForkPlan[] = [];
  const before = (i: number) => program.ops.slice(0, i).flatMap(stepsOf);
  const after = (i: number) => program.ops.slice(i + 1).flatMap(stepsOf);
  program.ops.forEach((op, i) => {
    if (op.t === 'step') points.push({ source: program.id, fromStep: op.name, pre: before(i), post: [op.name, ...after(i)] });
    if (op.t !== 'map') return;
    op.branches.forEach((branch, j) => {
      branch.forEach((item, k) => {
        if (item.t !== 'step') return;
        const others = op.branches.flatMap((b, jj) => (jj === j ? [] : b.flatMap(stepsOf)));
        points.push({
          source: program.id,
          fromStep: item.name,
          pre: [...before(i), ...others, ...branch.slice(0, k).flatMap(stepsOf)],
          post: [...branch.slice(k).flatMap(stepsOf), ...after(i)],
        });
      });
    });
  });
  return points;
}

/** The forks of a schedule: some of the runs that end SUCCEEDED (no DAG, no planned failure or cancel), one step each. */
export function planForks(programs: readonly Program[], random: Random): Map<string, ForkPlan> {
  const plans = new Map<string, ForkPlan>();
  for (const program of programs) {
    if (program.dag || program.fail || program.cancel) continue;
    const points = forkPoints(program);
    // Keyed by the id's last character, not by a draw: the schedule's random stream stays as it was.
    const keyed = program.id.charCodeAt(program.id.length - 1) % 2 === 0;
    if (points.length && random.chance(0.4)) plans.set(program.id, { ...random.pick(points), ...(keyed ? { key: `chaos-fork-${program.id}` } : {}) });
  }
  return plans;
}

interface Snapshot {
  run: RunRecord;
  entries: JournalEntry[];
}

/** What the ledger knows of step executions. */
export interface ExecutionCounter {
  executions(runId: string, attempt: number, step: string): number;
}

const stepX = (entries: readonly JournalEntry[], step: string) => {
  const entry = entries.find((e) => e.kind === 'step' && e.name === step);
  return entry === undefined ? undefined : entry.result === undefined ? `error:${entry.error?.message}` : (JSON.parse(entry.result) as { x?: string }).x;
};

/** The oracle's checks of every fork run in `all` (runs whose metadata names a source). */
export function checkForks(all: ReadonlyMap<string, Snapshot>, plans: ReadonlyMap<string, ForkPlan>, programs: readonly Program[], ledger: ExecutionCounter) {
  const failures: string[] = [];
  let checks = 0;
  const check = (ok: boolean, message: () => string) => {
    checks++;
    if (!ok) failures.push(message());
  };
  const forks = [...all.values()].filter((s) => typeof s.run.metadata?.forkedFrom === 'string');
  for (const { run, entries } of forks) {
    const sourceId = run.metadata!.forkedFrom as string;
    const plan = plans.get(sourceId);
    const program = programs.find((p) => p.id === sourceId);
    check(plan !== undefined && program !== undefined && run.metadata!.forkedFromStep === plan.fromStep, () => `fork ${run.runId} of ${sourceId} was not planned (from '${String(run.metadata!.forkedFromStep)}')`);
    if (!plan || !program) continue;
    const expected = expectedOutcome(program);
    check(run.status === 'SUCCEEDED' && run.attempt === 0, () => `fork ${run.runId} of ${sourceId} from '${plan.fromStep}': ${run.status} at attempt ${run.attempt}, expected SUCCEEDED at 0${run.error ? ` (${run.error.name}: ${run.error.message})` : ''}`);
    if (run.status === 'SUCCEEDED') {
      check(JSON.stringify(JSON.parse(run.output ?? 'null')) === JSON.stringify(expected.output), () => `fork ${run.runId} of ${sourceId}: output ${run.output}, expected ${JSON.stringify(expected.output)}`);
    }
    const source = all.get(sourceId);
    for (const step of plan.pre) {
      const ran = ledger.executions(run.runId, 0, step);
      check(ran === 0, () => `fork ${run.runId} of ${sourceId} from '${plan.fromStep}': step '${step}' before the fork point ran ${ran} time(s) in the fork`);
      check(source !== undefined && stepX(entries, step) !== undefined && stepX(entries, step) === stepX(source.entries, step), () => `fork ${run.runId} of ${sourceId}: step '${step}' before the fork point does not hold the source's outcome (${stepX(entries, step)} vs ${source && stepX(source.entries, step)})`);
    }
    for (const step of plan.post) {
      const ran = ledger.executions(run.runId, 0, step);
      check(ran >= 1, () => `fork ${run.runId} of ${sourceId} from '${plan.fromStep}': step '${step}' (at or after the fork point) did not run in the fork`);
    }
  }
  // A keyed fork is made once, whatever the failed calls and crashes before the call that succeeded.
  for (const [sourceId, plan] of plans) {
    if (plan.key === undefined) continue;
    const made = forks.filter((f) => f.run.metadata!.forkedFrom === sourceId);
    if (made.length === 0) continue; // never forked (the run did not succeed, or the schedule ended first): checked by the driver
    check(made.length === 1 && made[0]!.run.idempotencyKey === plan.key, () => `keyed fork of ${sourceId} ('${plan.key}'): ${made.length} fork run(s) (${made.map((f) => `${f.run.runId} key ${f.run.idempotencyKey}`).join(', ')}), expected one with the key`);
  }
  return { failures, checks, forks: forks.length };
}
