/**
 * Definition-time checks of a workflow task, so a broken DAG fails where it is written, with a typed error
 * naming the task: bad CEL or duration (from the condition and option parsers), a parent that is unknown,
 * from another workflow or a standalone task, a ParentCondition on a task that is not a parent, and cycles.
 */
import { AndCondition, OrCondition, ParentCondition, type Condition, type NamedTask } from '../conditions.ts';
import { TaskDefinition, buildSpec, type DagOptions, type TaskOptionsBase, type TaskSpec, type WorkflowDefinition } from '../definitions.ts';
import { DurableError, InvalidDefinitionError } from '../errors.ts';
import { validateWorkflowTask } from '../registry.ts';
import { workflowGraph } from './graph.ts';

/** What `wf.task` / `wf.durableTask` receive. */
export type WorkflowTaskOptions = TaskOptionsBase & { fn: unknown } & DagOptions;

/**
 * Builds and validates the spec of a task being added to `wf`.
 *
 * @throws {InvalidDefinitionError | InvalidExpressionError | InvalidDurationError} naming the task and the workflow.
 */
export function prepareWorkflowTask(wf: WorkflowDefinition<any>, options: WorkflowTaskOptions, durable: boolean): TaskSpec {
  const where = `task '${String((options as { name?: unknown } | undefined)?.name)}' of workflow '${wf.name}'`;
  let spec: TaskSpec;
  try {
    spec = buildSpec(options, durable, wf.name);
  } catch (error) {
    throw naming(error, where);
  }
  checkParents(wf, options.parents ?? [], where);
  for (const gate of ['waitFor', 'skipIf', 'cancelIf'] as const) checkParentConditions(options[gate], options.parents ?? [], gate, where);
  validateWorkflowTask(wf, spec);
  workflowGraph(wf, spec);
  return spec;
}

function checkParents(wf: WorkflowDefinition<any>, parents: readonly TaskDefinition<any, any>[], where: string) {
  if (!Array.isArray(parents)) throw new InvalidDefinitionError(`${where}: parents must be an array of tasks of this workflow`);
  for (const parent of parents) {
    if (!(parent instanceof TaskDefinition)) {
      throw new InvalidDefinitionError(`${where}: parent ${describe(parent)} is not a task definition; pass the object wf.task(...) returned`);
    }
    if (parent.workflow && parent.workflow !== wf) {
      throw new InvalidDefinitionError(`${where}: parent '${parent.name}' belongs to workflow '${parent.workflow.name}'; parents must be tasks of the same workflow`);
    }
    if (!parent.workflow) {
      throw new InvalidDefinitionError(`${where}: parent '${parent.name}' is a standalone task; parents must be tasks of the same workflow (use ctx.runChild for other tasks)`);
    }
    if (!wf.tasks.includes(parent)) {
      throw new InvalidDefinitionError(`${where}: parent '${parent.name}' is not a task of this workflow; add a parent before its children`);
    }
  }
}

function checkParentConditions(condition: Condition | undefined, parents: readonly NamedTask[], gate: string, where: string) {
  for (const task of parentConditionTargets(condition)) {
    if (!parents.includes(task)) {
      const names = parents.map((p) => `'${p.name}'`).join(', ') || 'none';
      throw new InvalidDefinitionError(`${where}: the ParentCondition in ${gate} names '${task.name}', which is not one of its parents (${names})`);
    }
  }
}

/** The tasks the ParentConditions of a condition tree refer to (class and object forms). */
function parentConditionTargets(condition: Condition | undefined): NamedTask[] {
  if (condition === undefined || condition === null) return [];
  if (Array.isArray(condition)) return condition.flatMap(parentConditionTargets);
  if (condition instanceof OrCondition || condition instanceof AndCondition) return condition.conditions.flatMap(parentConditionTargets);
  if (condition instanceof ParentCondition) return [condition.parent];
  if (typeof condition === 'object' && 'parent' in condition) return [condition.parent];
  return [];
}

/** Prefixes an error raised while parsing the task's options with the task it belongs to (same class). */
function naming(error: unknown, where: string): unknown {
  if (error instanceof DurableError && !error.message.includes(where)) error.message = `${where}: ${error.message}`;
  return error;
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
