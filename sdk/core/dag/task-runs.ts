/**
 * Task runs: the run items that execute a DAG task's fn. Each is an ordinary run (leased, replayed, retried
 * by the executor) with two links to its workflow run: `workflowRunId` (for its DAG context) and `parent`,
 * a journal position on the workflow run where the executor reports the outcome *before* the task run turns
 * terminal (the child-run protocol), so a crash between the two is repaired by replaying the task run.
 */
import { newRunRecord } from '../run-record.ts';
import type { Backend, JournalEntry, RunRecord, TaskState } from '../../ports.ts';
import { dagPosition, taskRunId, taskRunName } from './positions.ts';

/** A QUEUED task state this old whose task run has not reported is checked for a lost create (crash between the two writes). */
export const REPAIR_AFTER_MS = 5_000;

/** Creates the task run (idempotent: its id is deterministic) and dispatches it if this call created it. */
export async function startTaskRun(backend: Backend, workflow: string, workflowRun: RunRecord, task: string, taskIndex: number): Promise<void> {
  const now = backend.clock.now();
  const runId = taskRunId(workflowRun.runId, task);
  const created = await backend.store.createRun(
    newRunRecord(
      {
        runId,
        name: taskRunName(workflow, task),
        input: workflowRun.input,
        workflowRunId: workflowRun.runId,
        parent: {
          runId: workflowRun.runId,
          attempt: workflowRun.attempt,
          position: dagPosition(taskIndex, 'outcome'),
          ...(workflowRun.generation !== undefined ? { generation: workflowRun.generation } : {}),
        },
      },
      now,
    ),
  );
  if (created) await backend.dispatcher.dispatch({ runId });
}

/** A task run's outcome, as its report in the workflow run's journal says. */
export function outcomeOf(entry: JournalEntry): Pick<TaskState, 'status' | 'output' | 'error'> {
  if (entry.status === 'done') return entry.result === undefined ? { status: 'SUCCEEDED' } : { status: 'SUCCEEDED', output: entry.result };
  const error = entry.error ?? { name: 'DurableError', message: 'the task run failed' };
  return { status: error.name === 'RunCancelledError' ? 'CANCELLED' : 'FAILED', error };
}
