import { Validations, type CfnElement } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { DurableTasksExampleStack } from '../../infra/example-stack.ts';
import { FIXTURE_ENTRY, testApp } from './support.ts';

/** Every acknowledgment recorded in the tree: rule id, reason, and the construct it was recorded on. */
function acknowledgments(root: IConstruct): { id: string; reason: string; path: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          id: id.replace(/^annotation::/i, ''),
          reason,
          path: construct.node.path,
        })),
      ),
  );
}

/** cdk-nag's id of the payload bucket's `runs/*` objects wildcard (granted to the worker and the router). */
function payloadObjects(stack: DurableTasksExampleStack): string {
  const bucket = stack.getLogicalId(stack.durable.payloadBucket.node.defaultChild as CfnElement);
  return `AwsSolutions-IAM5[Resource::<${bucket}.Arn>/runs/*]`;
}

describe('given the example stack checked by cdk-nag AwsSolutions', () => {
  const app = testApp();
  const stack = new DurableTasksExampleStack(app, 'DurableTasksExample', { entry: FIXTURE_ENTRY });
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(app);

  it('then there is no unacknowledged error or warning', () => {
    expect(report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('then exactly these rules are acknowledged, each with a written reason', () => {
    const acks = acknowledgments(stack);
    const schedules = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${stack.durable.scheduleGroup.scheduleGroupName}/*]`;
    expect(acks.map((a) => `${a.path} ${a.id}`).sort()).toEqual(
      [
        'DurableTasksExample/DurableTasks/EventRouter/Function AwsSolutions-L1',
        'DurableTasksExample/DurableTasks/Sweeper/Function AwsSolutions-L1',
        'DurableTasksExample/DurableTasks/Worker/Function AwsSolutions-L1',
        `DurableTasksExample/DurableTasks/EventRouter/Role ${schedules}`,
        `DurableTasksExample/DurableTasks/Worker/Role ${schedules}`,
        `DurableTasksExample/DurableTasks/EventRouter/Role ${payloadObjects(stack)}`,
        `DurableTasksExample/DurableTasks/Worker/Role ${payloadObjects(stack)}`,
        'DurableTasksExample/DurableTasks/PayloadBucket AwsSolutions-S1',
      ].sort(),
    );
    for (const ack of acks) expect(ack.reason.length, ack.id).toBeGreaterThan(60);
  });

  it('then the acknowledgments are load-bearing: without them the same rules fire', () => {
    const bare = testApp();
    // Build the same stack with acknowledge() disabled, then check again.
    const acknowledge = Validations.prototype.acknowledge;
    Validations.prototype.acknowledge = () => undefined;
    try {
      new DurableTasksExampleStack(bare, 'DurableTasksExample', { entry: FIXTURE_ENTRY });
    } finally {
      Validations.prototype.acknowledge = acknowledge;
    }
    expect(acknowledgments(bare)).toEqual([]);
    const fired = new AwsSolutionsChecks().validateScope(bare).violations.map((v) => v.ruleName);
    const schedules = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${stack.durable.scheduleGroup.scheduleGroupName}/*]`;
    expect(fired.sort()).toEqual([schedules, payloadObjects(stack), 'AwsSolutions-L1', 'AwsSolutions-S1'].sort());
  });

  it('then the app-level plugin lets synthesis through', () => {
    const withPlugin = testApp();
    new DurableTasksExampleStack(withPlugin, 'DurableTasksExample', { entry: FIXTURE_ENTRY });
    Validations.of(withPlugin).addPlugins(new AwsSolutionsChecks(withPlugin));
    expect(() => withPlugin.synth()).not.toThrow();
  });

  it("then a function given grantStart gets the schedule-group wildcard acknowledged, with nothing else of ours to fix", () => {
    const withGrantee = testApp();
    const example = new DurableTasksExampleStack(withGrantee, 'DurableTasksExample', { entry: FIXTURE_ENTRY });
    const api = new lambda.Function(example, 'Api', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('x') });
    example.durable.grantStart(api);
    const violations = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(withGrantee).violations;
    // The user's own function brings its own findings (its managed basic-execution policy); none is about our grant.
    const ours = violations.filter((v) => v.ruleName.startsWith('AwsSolutions-IAM5'));
    expect(ours.map((v) => v.ruleName)).toEqual([]);
  });
});
