import { InvalidDefinitionError } from './errors.ts';
import { TaskDefinition, WorkflowDefinition, type TaskSpec } from './definitions.ts';

export type Definition = TaskDefinition<unknown, unknown> | WorkflowDefinition<unknown>;

/** Separator between a workflow's name and its task's name in a DAG task run's name. */
export const TASK_RUN_SEPARATOR = '/';

/** The definitions one client knows, by name. Names are unique per client (tasks and workflows share one namespace). */
export class Registry {
  private readonly byName = new Map<string, Definition>();

  add(definition: Definition) {
    if (this.byName.has(definition.name)) {
      throw new InvalidDefinitionError(`a task or workflow named '${definition.name}' is already defined on this client; names must be unique`);
    }
    this.byName.set(definition.name, definition);
  }

  get(name: string): Definition | undefined {
    return this.byName.get(name);
  }

  all(): Definition[] {
    return [...this.byName.values()];
  }

  workflows(): WorkflowDefinition<any>[] {
    return this.all().filter((d): d is WorkflowDefinition<any> => d instanceof WorkflowDefinition);
  }

  /** Whether a worker limited to `allowed` can process a run named `runName` (a task, a task run, a workflow run). */
  handles(runName: string, allowed?: ReadonlySet<string>): boolean {
    if (this.specFor(runName, allowed)) return true;
    return (!allowed || allowed.has(runName)) && this.byName.get(runName) instanceof WorkflowDefinition;
  }

  /** The spec a run executes: a standalone task, or a DAG task run named `<workflow>/<task>`. */
  specFor(runName: string, allowed?: ReadonlySet<string>): TaskSpec | undefined {
    const cut = runName.indexOf(TASK_RUN_SEPARATOR);
    const top = cut < 0 ? runName : runName.slice(0, cut);
    if (allowed && !allowed.has(top)) return undefined;
    const definition = this.byName.get(top);
    if (!definition) return undefined;
    if (cut < 0) return definition instanceof TaskDefinition ? definition.spec : undefined;
    if (!(definition instanceof WorkflowDefinition)) return undefined;
    const taskName = runName.slice(cut + 1);
    return definition.tasks.find((t) => t.name === taskName)?.spec;
  }
}

/** Validates a workflow task as it is added (unique name in the workflow, known parents from the same workflow). */
export function validateWorkflowTask(wf: WorkflowDefinition<any>, spec: TaskSpec): void {
  if (spec.name.includes(TASK_RUN_SEPARATOR)) {
    throw new InvalidDefinitionError(`task '${spec.name}' of workflow '${wf.name}': names of workflow tasks cannot contain '${TASK_RUN_SEPARATOR}'`);
  }
  if (wf.tasks.some((t) => t.name === spec.name)) {
    throw new InvalidDefinitionError(`workflow '${wf.name}' already has a task named '${spec.name}'`);
  }
  for (const parent of spec.parents) {
    if (!wf.tasks.some((t) => t.name === parent)) {
      throw new InvalidDefinitionError(
        `task '${spec.name}' of workflow '${wf.name}' names parent '${parent}', which is not a task of this workflow defined before it`,
      );
    }
  }
}
