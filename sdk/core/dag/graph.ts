/**
 * The shape of a workflow: its tasks in an order where parents come first, and who is upstream of whom.
 * Built from the tasks' specs each time it is needed (a few microseconds), so a definition mutated after
 * it was validated is caught again before a run uses it.
 */
import type { TaskDefinition, TaskSpec, WorkflowDefinition } from '../definitions.ts';
import { InvalidDefinitionError } from '../errors.ts';

export interface WorkflowGraph {
  /** Tasks, parents before children (definition order where the DAG allows it). */
  readonly order: readonly TaskDefinition<any, any>[];
  /** A task's index in the workflow's definition order (its journal block, see positions.ts). */
  indexOf(task: string): number;
  /** Every task a task depends on, directly or not. */
  upstreamOf(task: string): ReadonlySet<string>;
}

/**
 * The graph of `wf`, plus `extra` (a task being added).
 *
 * @throws {InvalidDefinitionError} a parent that is not a task of the workflow, or a cycle, naming the task.
 */
export function workflowGraph(wf: WorkflowDefinition<any>, extra?: TaskSpec): WorkflowGraph {
  const specs: TaskSpec[] = wf.tasks.map((t) => t.spec);
  if (extra) specs.push(extra);
  const byName = new Map(specs.map((s, i) => [s.name, i]));
  for (const spec of specs) {
    for (const parent of spec.parents) {
      if (!byName.has(parent)) {
        throw new InvalidDefinitionError(`task '${spec.name}' of workflow '${wf.name}' names parent '${parent}', which is not a task of this workflow`);
      }
    }
  }
  const order = topologicalOrder(specs, wf.name);
  const upstream = new Map<string, Set<string>>();
  for (const i of order) {
    const spec = specs[i]!;
    const set = new Set<string>();
    for (const parent of spec.parents) {
      set.add(parent);
      for (const above of upstream.get(parent)!) set.add(above);
    }
    upstream.set(spec.name, set);
  }
  return {
    order: order.filter((i) => i < wf.tasks.length).map((i) => wf.tasks[i]!),
    indexOf: (task) => byName.get(task) ?? -1,
    upstreamOf: (task) => upstream.get(task) ?? new Set(),
  };
}

/** Kahn's algorithm, taking ready tasks in definition order; a leftover means a cycle, which is then named. */
function topologicalOrder(specs: readonly TaskSpec[], workflow: string): number[] {
  const index = new Map(specs.map((s, i) => [s.name, i]));
  const pending = specs.map((s) => new Set(s.parents).size);
  const children = specs.map(() => [] as number[]);
  specs.forEach((s, i) => new Set(s.parents).forEach((p) => children[index.get(p)!]!.push(i)));
  const order: number[] = [];
  const ready = specs.map((_, i) => i).filter((i) => pending[i] === 0);
  while (ready.length > 0) {
    ready.sort((a, b) => a - b);
    const next = ready.shift()!;
    order.push(next);
    for (const child of children[next]!) if (--pending[child]! === 0) ready.push(child);
  }
  if (order.length < specs.length) {
    const cycle = findCycle(specs, index, new Set(order));
    throw new InvalidDefinitionError(
      `workflow '${workflow}' has a cycle: ${cycle.join(' → ')}. Task '${cycle[0]}' depends on itself through its parents; a workflow must be acyclic`,
    );
  }
  return order;
}

function findCycle(specs: readonly TaskSpec[], index: ReadonlyMap<string, number>, done: ReadonlySet<number>): string[] {
  const state = new Map<number, 'visiting' | 'visited'>();
  const stack: number[] = [];
  const visit = (i: number): string[] | undefined => {
    state.set(i, 'visiting');
    stack.push(i);
    for (const parent of specs[i]!.parents) {
      const p = index.get(parent)!;
      if (state.get(p) === 'visiting') {
        const from = stack.indexOf(p);
        return [...stack.slice(from), p].map((k) => specs[k]!.name).reverse();
      }
      if (!state.has(p)) {
        const found = visit(p);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(i, 'visited');
    return undefined;
  };
  for (let i = 0; i < specs.length; i++) {
    if (done.has(i) || state.has(i)) continue;
    const found = visit(i);
    if (found) return found;
  }
  return specs.filter((_, i) => !done.has(i)).map((s) => s.name);
}
