/**
 * The construct's cron permissions (see infra/README.md, "Cron"): what `crons.create / list / delete` needs
 * (`grantCrons`). The worker reconciles declared crons with the grants it has (the table, schedules in the group).
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { CRON_PARTITION } from '../../sdk/adapters/aws/env.ts';
import { CRON_SCHEDULE_ACTIONS, CRON_TABLE_ACTIONS } from './access.ts';
import { SCHEDULER_SERVICE } from './scheduler.ts';

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

function passSchedulerRole(grantee: iam.IGrantable, resources: CronResources): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['iam:PassRole'],
    resourceArns: [resources.schedulerRole.roleArn],
    conditions: { StringEquals: { 'iam:PassedToService': SCHEDULER_SERVICE } },
  });
}
