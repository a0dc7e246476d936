import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { ENV, EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../sdk/adapters/aws/env.ts';
import { DurableTasks } from '../../infra/index.ts';
import { build, FIXTURE_ENTRY, logicalId, type Resource, resourcesOf, testApp } from './support.ts';

/** infra/constructs/functions.ts: the three functions, their settings and environment, what invokes them. */
describe('given a DurableTasks with default props', () => {
  const { stack, durable, template } = build();

  it('then the three functions run nodejs22.x on arm64 with their own role and log group', () => {
    const functions = resourcesOf(template, 'AWS::Lambda::Function');
    const roles = new Set<string>();
    const logGroups = new Set<string>();
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
      expect(fn.Properties.LoggingConfig.LogFormat).toBe('JSON');
      roles.add(fn.Properties.Role['Fn::GetAtt'][0]);
      logGroups.add(fn.Properties.LoggingConfig.LogGroup.Ref);
    }
    expect(roles.size).toBe(3);
    expect(logGroups.size).toBe(3);
  });

  it('then each function has the documented size and timeout', () => {
    const props = (fn: lambda.Function) => resourcesOf(template, 'AWS::Lambda::Function')[logicalId(stack, fn)]?.Properties;
    expect(props(durable.workerFunction)).toMatchObject({ MemorySize: 1024, Timeout: 60 });
    // The router resumes the first run an event wakes: it gets the worker's limits.
    expect(props(durable.eventRouterFunction)).toMatchObject({ MemorySize: 1024, Timeout: 60 });
    expect(props(durable.sweeperFunction)).toMatchObject({ MemorySize: 512, Timeout: 50 });
  });

  it('then every function gets exactly the env var names of sdk/adapters/aws/env.ts ENV', () => {
    for (const fn of Object.values(resourcesOf(template, 'AWS::Lambda::Function'))) {
      const names = Object.keys(fn.Properties.Environment.Variables);
      expect(names.filter((n) => n.startsWith('DURABLE_')).sort()).toEqual(Object.values(ENV).sort());
      expect(fn.Properties.Environment.Variables).toMatchObject({
        [ENV.tableName]: { Ref: logicalId(stack, durable.table) },
        [ENV.queueUrl]: { Ref: logicalId(stack, durable.queue) },
        [ENV.queueArn]: { 'Fn::GetAtt': [logicalId(stack, durable.queue), 'Arn'] },
        [ENV.eventBusName]: { Ref: logicalId(stack, durable.eventBus as events.EventBus) },
        [ENV.scheduleGroup]: durable.scheduleGroup.scheduleGroupName,
        [ENV.schedulerRoleArn]: { 'Fn::GetAtt': [logicalId(stack, durable.schedulerRole), 'Arn'] },
        [ENV.retentionDays]: '30',
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
  });

  it('then the worker consumes the dispatch queue with durableSlots, batch size and partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, durable.queue), 'Arn'] },
      FunctionName: { Ref: logicalId(stack, durable.workerFunction) },
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 10 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumBatchingWindowInSeconds: Match.absent(),
    });
  });

  it('then a rule on the bus routes exactly durable-tasks events (EVENT_SOURCE, EVENT_DETAIL_TYPE) to the router', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: logicalId(stack, durable.eventBus as events.EventBus) },
      EventPattern: { source: [EVENT_SOURCE], 'detail-type': [EVENT_DETAIL_TYPE] },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(stack, durable.eventRouterFunction), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack, durable.eventDeadLetterQueue), 'Arn'] } },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [logicalId(stack, durable.eventRouterFunction), 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [logicalId(stack, durable.eventRule), 'Arn'] },
    });
  });

  it('then router failures land in the event DLQ, which only that rule may also send to', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [logicalId(stack, durable.eventDeadLetterQueue), 'Arn'] } },
      Description: Match.stringLikeRegexp('event router'),
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalId(stack, durable.eventDeadLetterQueue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
            Resource: { 'Fn::GetAtt': [logicalId(stack, durable.eventDeadLetterQueue), 'Arn'] },
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [logicalId(stack, durable.eventRule), 'Arn'] } } },
          }),
        ]),
      },
    });
  });

  it('then the sweeper runs every minute without piling up retries', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      EventBusName: Match.absent(),
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(stack, durable.sweeperFunction), 'Arn'] },
          RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 2 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(stack, durable.sweeperFunction) },
      MaximumRetryAttempts: 0,
    });
  });

  it('then the event router is capped at durableSlots concurrent invocations (reserved concurrency)', () => {
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(stack, durable.eventRouterFunction)] as Resource;
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(10);
    for (const other of [durable.workerFunction, durable.sweeperFunction]) {
      expect((template.findResources('AWS::Lambda::Function')[logicalId(stack, other)] as Resource).Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
  });

  it('then the log groups keep one month and are retained', () => {
    const groups = Object.values(resourcesOf(template, 'AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(3);
    for (const group of groups) {
      expect(group.Properties.RetentionInDays).toBe(30);
      expect(group.DeletionPolicy).toBe('Retain');
    }
  });
});

describe('given eventRouterConcurrency', () => {
  const { stack, durable, template } = build({ eventRouterConcurrency: 3 });

  it("then it is the router's reserved concurrency", () => {
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(stack, durable.eventRouterFunction)] as Resource;
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(3);
  });
});

describe('given an existing event bus', () => {
  const app = testApp();
  const stack = new Stack(app, 'Imported');
  const bus = events.EventBus.fromEventBusName(stack, 'Shared', 'shared-bus');
  const durable = new DurableTasks(stack, 'Durable', { entry: FIXTURE_ENTRY, eventBus: bus });
  const template = Template.fromStack(stack);

  it('then no bus is created and the rule and the env var use the given one', () => {
    template.resourceCountIs('AWS::Events::EventBus', 0);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: 'shared-bus',
      EventPattern: { source: [EVENT_SOURCE], 'detail-type': [EVENT_DETAIL_TYPE] },
    });
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.eventBusName]: 'shared-bus' }) },
    });
    expect(durable.eventBus).toBe(bus);
  });
});
