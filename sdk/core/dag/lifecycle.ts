/**
 * What happens around a workflow run's end: a cancelled or failed run cancels whatever of it is still
 * alive (task runs, and the task states of tasks that never ran), so nothing keeps running or shows as
 * pending under a finished run.
 */
import type { RunRecord, TaskState } from '../../ports.ts';
import { TERMINAL_STATUSES } from '../../ports.ts';
import { WorkflowDefinition } from '../definitions.ts';
import type { Engine } from '../engine.ts';
import { runScopedStore } from '../run-scope.ts';

/**
 * Called by the engine once a workflow run is terminal (whoever finished it: the orchestrator, a
 * `runs.cancel`, or a worker that found the cancel flag at lease time).
 */
export async function onWorkflowFinished(engine: Engine, run: RunRecord): Promise<void> {
  if (run.status === 'SUCCEEDED') return;
  const workflow = engine.registry.get(run.name);
  if (!(workflow instanceof WorkflowDefinition)) return;
  const backend = await engine.backend();
  const store = runScopedStore(backend.store, run, engine.retentionSeconds(), () => backend.clock.now());
  const loaded = await store.loadRun(run.runId);
  if (!loaded) return;
  const states = new Map(loaded.tasks.map((t) => [t.task, t]));
  const error = { name: 'RunCancelledError', message: `not run to completion: workflow run '${run.runId}' ${run.status.toLowerCase()}` };
  for (const task of workflow.tasks) {
    const state = states.get(task.name);
    if (state && TERMINAL_STATUSES.includes(state.status)) continue;
    // A running task run stops at its next durable call (or cannot record its success); a queued one ends now.
    if (state?.taskRunId) await engine.cancel(state.taskRunId).catch(() => undefined);
    const cancelled: TaskState = { workflowRunId: run.runId, task: task.name, status: 'CANCELLED', error, updatedAt: backend.clock.now() };
    if (state?.taskRunId) cancelled.taskRunId = state.taskRunId;
    if (state?.triggers) cancelled.triggers = state.triggers;
    await store.putTaskState(cancelled, state?.status);
  }
}

/**
 * Called by the engine after a task run turned terminal. Nothing to do: the executor already reported the
 * outcome at the task run's `parent` position and woke the workflow run, *before* the terminal write, so
 * the orchestrator records it even if this process dies right now.
 */
export async function onTaskRunFinished(_engine: Engine, _run: RunRecord): Promise<void> {}
