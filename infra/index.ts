/**
 * `durable-tasks/infra`: the CDK construct that deploys durable-tasks into an AWS account.
 *
 * @example
 * import { DurableTasks } from 'durable-tasks/infra';
 * new DurableTasks(stack, 'Durable', { entry: 'src/worker.ts' });
 */
export { DurableTasks } from './constructs/durable-tasks.ts';
export type { DurableTasksProps } from './constructs/durable-tasks-props.ts';
