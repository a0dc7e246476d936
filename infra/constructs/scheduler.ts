/**
 * EventBridge Scheduler for timers longer than SQS's 15-minute delay: a schedule group holding one one-time
 * schedule per timer, and the role Scheduler assumes to deliver a fired timer to the dispatch queue.
 */
import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** The service principal the scheduler role is passed to, and trusts. */
export const SCHEDULER_SERVICE = 'scheduler.amazonaws.com';

/** The schedule group and the role its schedules assume. */
export interface DurableScheduler {
  readonly scheduleGroup: scheduler.ScheduleGroup;
  readonly schedulerRole: iam.Role;
}

/** Creates `ScheduleGroup` and `SchedulerRole` in `scope`: the role may only `sqs:SendMessage` on `queue`. */
export function createScheduler(scope: Construct, queue: sqs.IQueue): DurableScheduler {
  // Always deleted with the stack (deleting a group deletes its schedules): it holds only self-deleting timer
  // schedules, and a retained group would make the next deployment of this stack fail with AlreadyExists (its
  // name is derived from the construct path, so it is the same each time and unique per stack).
  const scheduleGroup = new scheduler.ScheduleGroup(scope, 'ScheduleGroup', { removalPolicy: RemovalPolicy.DESTROY });
  const schedulerRole = new iam.Role(scope, 'SchedulerRole', {
    description: 'Assumed by EventBridge Scheduler to deliver durable-tasks timers to the dispatch queue.',
    // Confused-deputy guard: only schedules of this account's durable-tasks group may assume it.
    assumedBy: new iam.ServicePrincipal(SCHEDULER_SERVICE, {
      conditions: {
        StringEquals: {
          'aws:SourceAccount': Stack.of(scope).account,
          'aws:SourceArn': scheduleGroup.scheduleGroupArn,
        },
      },
    }),
  });
  schedulerRole.addToPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
  return { scheduleGroup, schedulerRole };
}

/** Every schedule of `group`: schedule names are per timer, so this is the narrowest resource IAM allows. */
export function schedulesArn(group: scheduler.ScheduleGroup): string {
  return Stack.of(group).formatArn({
    service: 'scheduler',
    resource: 'schedule',
    resourceName: `${group.scheduleGroupName}/*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}
