/**
 * The lost wake-up check, on a run the driver sees parked (WAITING, wake = seen, no wakeAt) while nothing is in
 * flight: if every wait it registered is resolved in the journal, nobody will ever replay it.
 */
import { DAG_POSITION_BASE } from '../../sdk/core/dag/positions.ts';
import type { LoadedRun, RunRecord } from '../../sdk/ports.ts';
import { TERMINAL_STATUSES } from '../../sdk/ports.ts';
import { DAG_TASKS, type Program } from './workload/program.ts';

/**
 * The failure to report when `run` (parked with nothing left to wait for) lost its wake-up, else undefined.
 * `decided`: the journal positions of the run's current attempt. (A stale replay may leave waiters at positions the
 * run has passed; those are garbage, not what the run waits for.)
 */
export function lostWakeup(run: RunRecord, loaded: LoadedRun, program: Program, decided: ReadonlySet<number>, runs: readonly RunRecord[]): string | undefined {
  const live = new Set(runs.filter((r) => !TERMINAL_STATUSES.includes(r.status)).map((r) => r.runId));
  const relevant = program.dag ? loaded.waiters : loaded.waiters.filter((w) => w.attempt === run.attempt);
  const pending = relevant.filter((w) => {
    if (program.dag) {
      // A workflow run: a gate matters while its task is undecided.
      if (w.position < DAG_POSITION_BASE) return false;
      const task = DAG_TASKS[Math.floor((w.position - DAG_POSITION_BASE) / 4)];
      const state = loaded.tasks.find((t) => t.task === task);
      return state === undefined || state.status === 'WAITING';
    }
    return true;
  });
  const unresolved = pending.filter((w) => !decided.has(w.position) || (w.type === 'child' && live.has(w.childRunId!)));
  const taskRunsLive = program.dag && loaded.tasks.some((t) => t.taskRunId !== undefined && live.has(t.taskRunId));
  if (pending.length === 0 || unresolved.length > 0 || taskRunsLive) return undefined;
  return `lost wake-up: run ${run.runId} is WAITING (wake ${run.wake} = seen ${run.seen}, no wakeAt) although every wait it registered is resolved in the journal (positions ${[...new Set(pending.map((w) => w.position))].join(', ')}); no message and no sweep will replay it`;
}
