/**
 * DAG workflows: the hooks the engine calls for workflow runs and their task runs, and the definition-time
 * checks of workflow tasks. See ARCHITECTURE.md in this folder.
 */
import type { WorkflowHooks } from '../engine.ts';
import { dagContext } from './context.ts';
import { onTaskRunFinished, onWorkflowFinished } from './lifecycle.ts';
import { processWorkflow } from './orchestrator.ts';

export { prepareWorkflowTask, type WorkflowTaskOptions } from './define.ts';

/** Plugs DAG orchestration into an engine (`engine.workflowHooks = dagWorkflowHooks`). */
export const dagWorkflowHooks: WorkflowHooks = { processWorkflow, onTaskRunFinished, dagContext, onWorkflowFinished };
