import { describe, expect, it } from 'vitest';
import { build, logicalId } from './support.ts';

/** infra/constructs/scheduler.ts: the schedule group and the role Scheduler assumes (its one statement: iam.test.ts). */
describe('given a DurableTasks with default props', () => {
  const { stack, durable, template } = build();

  it('then Scheduler gets a schedule group deleted with the stack (so a redeploy after destroy cannot hit AlreadyExists) and a role only its schedules in that group can assume', () => {
    template.hasResource('AWS::Scheduler::ScheduleGroup', {
      Properties: { Name: durable.scheduleGroup.scheduleGroupName },
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
    // Derived from the construct path: the same on every deployment of this stack, distinct for another stack.
    expect(durable.scheduleGroup.scheduleGroupName).toMatch(/^TestStack-Durable-ScheduleGroup-/);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: {
              StringEquals: {
                'aws:SourceAccount': { Ref: 'AWS::AccountId' },
                'aws:SourceArn': { 'Fn::GetAtt': [logicalId(stack, durable.scheduleGroup), 'Arn'] },
              },
            },
          },
        ],
      },
    });
  });
});
