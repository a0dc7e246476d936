/**
 * The example CDK app (`cdk.json` runs it with tsx): deploys the examples/ worker with the DurableTasks construct,
 * checked by cdk-nag's AwsSolutions pack (a violation stops `cdk synth`). Environment-agnostic: synthesizes
 * offline, with no AWS credentials; `cdk deploy` picks the account and region from the CLI profile.
 */
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DurableTasksExampleStack } from './example-stack.ts';

const app = new App();
new DurableTasksExampleStack(app, 'DurableTasksExample', {
  description: 'durable-tasks example: durable workflows on DynamoDB, SQS, EventBridge and EventBridge Scheduler',
  entry: fileURLToPath(new URL('../examples/worker.ts', import.meta.url)),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
