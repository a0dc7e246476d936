import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DurableTasks } from './constructs/durable-tasks.ts';

/** Properties of {@link DurableTasksExampleStack}. */
export interface DurableTasksExampleStackProps extends StackProps {
  /** The worker module to deploy (infra/app.ts passes examples/worker.ts). */
  readonly entry: string;
}

/**
 * The stack `cdk deploy` ships: one {@link DurableTasks} construct running the examples, and the outputs the
 * README's AWS CLI commands need.
 */
export class DurableTasksExampleStack extends Stack {
  readonly durable: DurableTasks;

  constructor(scope: Construct, id: string, props: DurableTasksExampleStackProps) {
    super(scope, id, props);
    this.durable = new DurableTasks(this, 'DurableTasks', { entry: props.entry });
    new CfnOutput(this, 'TableName', { value: this.durable.table.tableName, description: 'runs are items here' });
    new CfnOutput(this, 'EventBusName', { value: this.durable.eventBus.eventBusName, description: 'push events here' });
    new CfnOutput(this, 'QueueUrl', { value: this.durable.queue.queueUrl, description: 'the dispatch queue' });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      value: this.durable.deadLetterQueue.queueUrl,
      description: 'dispatch messages that failed repeatedly',
    });
    // The construct itself outputs `DurableTasksShellExports`, the line to `eval` for Durable.fromEnv() and `--aws`.
  }
}
