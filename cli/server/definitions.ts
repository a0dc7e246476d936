/**
 * `GET /api/definitions`: what a client defines, for the dashboard's start form and DAG pictures.
 */
import type { Durable } from '../../sdk/index.ts';
import type { ConditionNode } from '../../sdk/core/conditions.ts';
import type { TaskSpec } from '../../sdk/core/definitions.ts';
import { formatDuration } from '../output.ts';

export interface WorkflowTaskView {
  name: string;
  durable: boolean;
  parents: string[];
  /** Readable summaries of the task's DAG conditions (`event 'k' if expr`, `sleep 10s`, `parent first: expr`). */
  waitFor?: string;
  skipIf?: string;
  cancelIf?: string;
}

export type DefinitionView =
  | { name: string; kind: 'task' | 'durableTask' }
  | { name: string; kind: 'workflow'; onEvents: string[]; tasks: WorkflowTaskView[] };

interface DefinitionLike {
  name: string;
  spec?: TaskSpec;
  tasks?: { spec: TaskSpec }[];
  onEvents?: readonly string[];
}

export function describeDefinitions(durable: Durable): DefinitionView[] {
  const all = durable.engine.registry.all() as DefinitionLike[];
  return all
    .map((def): DefinitionView => {
      if (Array.isArray(def.tasks)) {
        return { name: def.name, kind: 'workflow', onEvents: [...(def.onEvents ?? [])], tasks: def.tasks.map((t) => taskView(t.spec)) };
      }
      return { name: def.name, kind: def.spec?.durable ? 'durableTask' : 'task' };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function taskView(spec: TaskSpec): WorkflowTaskView {
  const view: WorkflowTaskView = { name: spec.name, durable: spec.durable, parents: [...spec.parents] };
  if (spec.waitFor) view.waitFor = describeCondition(spec.waitFor);
  if (spec.skipIf) view.skipIf = describeCondition(spec.skipIf);
  if (spec.cancelIf) view.cancelIf = describeCondition(spec.cancelIf);
  return view;
}

export function describeCondition(node: ConditionNode): string {
  switch (node.type) {
    case 'sleep':
      return `sleep ${formatDuration(node.durationMs)}`;
    case 'event':
      return `event '${node.eventKey}'${node.expression ? ` if ${node.expression}` : ''}${node.scope ? ` (scope ${node.scope})` : ''}`;
    case 'parent':
      return `parent ${node.parent}${node.expression ? `: ${node.expression}` : ''}`;
    case 'child':
      return `child ${node.childRunId}`;
    case 'or':
      return node.children.map(describeCondition).join(' or ');
    case 'and':
      return node.children.map((c) => (c.type === 'or' ? `(${describeCondition(c)})` : describeCondition(c))).join(' and ');
  }
}
