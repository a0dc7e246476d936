/**
 * The `DURABLE_*` environment variables `Durable.fromEnv()` reads (names from sdk/adapters/aws/env.ts `ENV`): set on
 * the three functions, on Lambda grantees, and written to the ShellExports output.
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { ENV } from '../../sdk/adapters/aws/env.ts';
import type { DurableSettings } from './settings.ts';

/** The resources the environment names. */
export interface EnvironmentResources {
  readonly table: dynamodb.ITable;
  readonly queue: sqs.IQueue;
  readonly eventBus: events.IEventBus;
  readonly scheduleGroup: scheduler.ScheduleGroup;
  readonly schedulerRole: iam.IRole;
  readonly payloadBucket: s3.IBucket;
}

/** Every `ENV` name with its value for these resources and settings. */
export function runtimeEnvironment(resources: EnvironmentResources, settings: DurableSettings): Record<string, string> {
  return {
    [ENV.tableName]: resources.table.tableName,
    [ENV.queueUrl]: resources.queue.queueUrl,
    [ENV.queueArn]: resources.queue.queueArn,
    [ENV.eventBusName]: resources.eventBus.eventBusName,
    [ENV.scheduleGroup]: resources.scheduleGroup.scheduleGroupName,
    [ENV.schedulerRoleArn]: resources.schedulerRole.roleArn,
    [ENV.retentionDays]: String(settings.retentionDays),
    [ENV.leaseSeconds]: String(settings.workerTimeout.toSeconds() + 30),
    [ENV.waiterShards]: String(settings.waiterShards),
    [ENV.sweepShards]: String(settings.sweepShards),
    [ENV.payloadBucket]: resources.payloadBucket.bucketName,
    [ENV.maxPayloadBytes]: String(settings.maxPayloadBytes),
    [ENV.eventShards]: String(settings.eventShards),
  };
}

/** Sets env vars on a Lambda function grantee; other grantees (roles, users) configure themselves. */
export function setEnvironment(grantee: iam.IGrantable, environment: Readonly<Record<string, string>>): void {
  if (!(grantee instanceof lambda.Function)) return;
  for (const [name, value] of Object.entries(environment)) grantee.addEnvironment(name, value);
}
