import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../sdk/adapters/aws/env.ts';
import { build, logicalId, type Resource } from './support.ts';

/**
 * The whole stack: exactly the resources it needs, and custom props reaching every part. Each part has its own file
 * beside this one, as infra/constructs/ does (table, payload-bucket, queues, scheduler, functions, grants, alarms,
 * settings); snapshot.test.ts holds the whole template.
 */
describe('given a DurableTasks with default props', () => {
  const { template } = build();

  it('then it creates exactly the resources durable-tasks needs', () => {
    const counts: Record<string, number> = {
      'AWS::DynamoDB::Table': 1,
      'AWS::SQS::Queue': 3,
      'AWS::SQS::QueuePolicy': 3,
      'AWS::Lambda::Function': 3,
      'AWS::Lambda::EventSourceMapping': 1,
      'AWS::Lambda::EventInvokeConfig': 1,
      'AWS::Lambda::Permission': 2,
      'AWS::Logs::LogGroup': 3,
      'AWS::IAM::Role': 4,
      'AWS::IAM::Policy': 4,
      'AWS::Events::EventBus': 1,
      'AWS::Events::Rule': 2,
      'AWS::Scheduler::ScheduleGroup': 1,
      'AWS::CloudWatch::Alarm': 5,
      'AWS::S3::Bucket': 1, // large payloads
      'AWS::S3::BucketPolicy': 1, // its TLS-only guard
    };
    for (const [type, count] of Object.entries(counts)) template.resourceCountIs(type, count);
    const types = new Set(Object.values(template.toJSON().Resources as Record<string, Resource>).map((r) => r.Type));
    expect([...types].sort()).toEqual(Object.keys(counts).sort());
  });
});

describe('given custom props', () => {
  const { stack, durable, template } = build({
    durableSlots: 25,
    workerTimeout: Duration.minutes(2),
    workerMemorySize: 2048,
    batchSize: 5,
    maxBatchingWindow: Duration.seconds(10),
    retention: Duration.days(7),
    removalPolicy: RemovalPolicy.DESTROY,
    logRetention: logs.RetentionDays.ONE_WEEK,
    maxReceiveCount: 3,
    queueAgeAlarmThreshold: Duration.minutes(45),
    architecture: lambda.Architecture.X86_64,
    environment: { APP_MODE: 'test' },
  });

  it('then the visibility timeout is still at least 6 x the worker timeout, plus the batching window', () => {
    const queue = template.findResources('AWS::SQS::Queue')[logicalId(stack, durable.queue)] as Resource;
    expect(queue.Properties.VisibilityTimeout).toBe(6 * 120 + 10);
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * 120);
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(3);
  });

  it('then the event source, worker, retention, alarms and removal policy follow them', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 5,
      MaximumBatchingWindowInSeconds: 10,
      ScalingConfig: { MaximumConcurrency: 25 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 2048,
      Timeout: 120,
      Architectures: ['x86_64'],
      Environment: { Variables: Match.objectLike({ APP_MODE: 'test', [ENV.retentionDays]: '7' }) },
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    template.allResources('AWS::SQS::Queue', { DeletionPolicy: 'Delete' });
    template.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 45 * 60 });
    template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 25 });
  });
});
