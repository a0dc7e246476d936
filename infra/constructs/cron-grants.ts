/**
 * The construct's cron permissions (see infra/README.md, "Cron"): what `crons.create / list / delete` needs
 * (`grantCrons`), and what the sweeper needs to reconcile declared crons with their schedules.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { CRON_PARTITION } from '../constants.ts';
import { CRON_SCHEDULE_ACTIONS, CRON_TABLE_ACTIONS } from './access.ts';
import { acknowledgeWildcardResource } from './nag.ts';

const SCHEDULER_SERVICE = 'scheduler.amazonaws.com';

/** The resources cron permissions are about. */
export interface CronResources {
  table: dynamodb.ITable;
  scheduleGroup: scheduler.ScheduleGroup;
  schedulerRole: iam.IRole;
}

/** The cron schedules of the group: `cron.*` (sdk/adapters/aws/cron-schedules.ts names them so). */
export function cronSchedulesArn(resources: CronResources): string {
  return Stack.of(resources.scheduleGroup).formatArn({
    service: 'scheduler',
    resource: 'schedule',
    resourceName: `${resources.scheduleGroup.scheduleGroupName}/cron.*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/** Get/query/put/delete on the `CRONS` items, the `cron.*` schedules, passing the scheduler role to Scheduler. */
export function grantCronAccess(grantee: iam.IGrantable, resources: CronResources): iam.Grant {
  const items = iam.Grant.addToPrincipal({
    grantee,
    actions: [...CRON_TABLE_ACTIONS],
    resourceArns: [resources.table.tableArn],
    conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [CRON_PARTITION] } },
  });
  const schedules = iam.Grant.addToPrincipal({ grantee, actions: [...CRON_SCHEDULE_ACTIONS], resourceArns: [cronSchedulesArn(resources)] });
  return items.combine(schedules).combine(passSchedulerRole(grantee, resources));
}

/** What reconciling declared crons needs besides the runtime grants (the sweeper already has the table). */
export function grantCronSchedules(role: iam.Role, resources: CronResources): void {
  const arn = cronSchedulesArn(resources);
  role.addToPolicy(new iam.PolicyStatement({ actions: [...CRON_SCHEDULE_ACTIONS], resources: [arn] }));
  passSchedulerRole(role, resources);
  acknowledgeWildcardResource(
    role,
    arn,
    "Cron schedules are named after crons (cron.<name>), created at run time: the resource is the cron schedules of durable-tasks' own schedule group.",
  );
}

function passSchedulerRole(grantee: iam.IGrantable, resources: CronResources): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['iam:PassRole'],
    resourceArns: [resources.schedulerRole.roleArn],
    conditions: { StringEquals: { 'iam:PassedToService': SCHEDULER_SERVICE } },
  });
}
