/**
 * The DAG part of a task run's context: `ctx.parentOutput(task)`, `ctx.triggers()` and
 * `ctx.workflowInput()`, read from the workflow run's task states once per replay.
 */
import type { RunRecord } from '../../ports.ts';
import { WorkflowDefinition } from '../definitions.ts';
import type { Engine } from '../engine.ts';
import { InvalidDefinitionError } from '../errors.ts';
import { decodePayload } from '../json.ts';
import { readPayload, resolvePayload } from '../payloads.ts';
import type { ReplayServices } from '../replay.ts';
import { workflowGraph } from './graph.ts';
import { taskNameOf } from './positions.ts';

/**
 * Loads the DAG context of a task run. The first replay of a task run also moves its task state from
 * QUEUED to RUNNING (first wins: the orchestrator may have recorded the outcome meanwhile).
 */
export async function dagContext(engine: Engine, run: RunRecord): Promise<ReplayServices['dag']> {
  const names = taskNameOf(run.name);
  const workflow = names && engine.registry.get(names.workflow);
  if (!names || !run.workflowRunId || !(workflow instanceof WorkflowDefinition)) return undefined;
  const backend = await engine.backend();
  const loaded = await backend.store.loadRun(run.workflowRunId);
  if (!loaded) return undefined;
  const states = new Map(loaded.tasks.map((t) => [t.task, t]));
  const own = states.get(names.task);
  if (own?.status === 'QUEUED' && own.taskRunId === run.runId) {
    await backend.store.putTaskState({ ...own, status: 'RUNNING', updatedAt: backend.clock.now() }, 'QUEUED');
  }
  const upstream = workflowGraph(workflow).upstreamOf(names.task);
  // ctx.workflowInput() is synchronous: a large workflow input is fetched here, once per replay.
  const input = await resolvePayload(backend.payloads, loaded.run.input);
  return {
    parentOutput(name: string): unknown {
      if (!upstream.has(name)) {
        throw new InvalidDefinitionError(
          `ctx.parentOutput('${name}') in task '${names.task}' of workflow '${names.workflow}': '${name}' is not upstream of this task; list it in parents`,
        );
      }
      const state = states.get(name);
      // A skipped parent has no output (as Hatchet).
      // A large output is fetched only when the task asks for it.
      return state?.status === 'SUCCEEDED' ? readPayload(backend.payloads, state.output) : undefined;
    },
    triggers: () => structuredClone(own?.triggers ?? {}),
    workflowInput: () => decodePayload(input),
  };
}
