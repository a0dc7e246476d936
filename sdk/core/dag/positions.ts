/**
 * Where a workflow run keeps its DAG bookkeeping. A workflow run is never replayed, so its journal is
 * free for the orchestrator: each task owns a block of reserved positions, one per gate (the waits of its
 * `skipIf`, `cancelIf`, `waitFor`) and one where its task run reports its outcome. Keying by the task's
 * index in the definition keeps positions stable for as long as the workflow's task list is unchanged.
 */
import { TASK_RUN_SEPARATOR } from '../registry.ts';

/** The three condition groups of a task, in priority order: when several are satisfied at once, the first wins. */
export type Gate = 'skipIf' | 'cancelIf' | 'waitFor';
/** The gates, highest priority first (skip > cancel > run). */
export const GATES: readonly Gate[] = ['skipIf', 'cancelIf', 'waitFor'];

/** First reserved position (far above anything a replayed journal uses, within the store's 8-digit keys). */
export const DAG_POSITION_BASE = 1_000_000;
const SLOTS: Record<Gate | 'outcome', number> = { skipIf: 0, cancelIf: 1, waitFor: 2, outcome: 3 };
const BLOCK = 4;

/**
 * The journal position of one gate (or of the outcome) of the task at `taskIndex`. Gates sort before the
 * waitFor in the store's waiter index, so the router resolves a shared event in priority order.
 */
export function dagPosition(taskIndex: number, slot: Gate | 'outcome'): number {
  return DAG_POSITION_BASE + taskIndex * BLOCK + SLOTS[slot];
}

/** The run name of a DAG task run: `<workflow>/<task>` (what the registry resolves to the task's spec). */
export function taskRunName(workflow: string, task: string): string {
  return `${workflow}${TASK_RUN_SEPARATOR}${task}`;
}

/** Deterministic: deciding twice (a crashed orchestrator pass) can never create a second task run. */
export function taskRunId(workflowRunId: string, task: string): string {
  return `${workflowRunId}.${task}`;
}

/** The task name of a DAG task run, from its run name. */
export function taskNameOf(runName: string): { workflow: string; task: string } | undefined {
  const cut = runName.indexOf(TASK_RUN_SEPARATOR);
  if (cut < 0) return undefined;
  return { workflow: runName.slice(0, cut), task: runName.slice(cut + 1) };
}
