import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { ENV, EVENT_DETAIL_TYPE, EVENT_SOURCE, LIST_BY_NAME_INDEX, LIST_INDEX, SWEEP_INDEX } from '../../sdk/adapters/aws/env.ts';
import { DurableTasks } from '../../infra/index.ts';
import { TABLE_SCHEMA } from '../../sdk/adapters/aws/table-schema.ts';
import { build, FIXTURE_ENTRY, logicalId, testApp } from './support.ts';

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

function resourcesOf(template: ReturnType<typeof build>['template'], type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

describe('given a DurableTasks with default props', () => {
  const { stack, durable, template } = build();

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

  it('then the table mirrors the AWS store schema: keys, the sweep GSI (projecting only what the sweeper reads), TTL', () => {
    const typeOf = (key: { type: 'S' | 'N' }) => key.type;
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: TABLE_SCHEMA.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: TABLE_SCHEMA.sortKey.name, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: TABLE_SCHEMA.globalSecondaryIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      })),
      AttributeDefinitions: Match.arrayEquals(
        // Each attribute once: the two listing indexes share their sort key.
        [
          ...new Map(
            [TABLE_SCHEMA.partitionKey, TABLE_SCHEMA.sortKey, ...TABLE_SCHEMA.globalSecondaryIndexes.flatMap((i) => [i.partitionKey, i.sortKey])].map(
              (key) => [key.name, key] as const,
            ),
          ).values(),
        ].map((key) => ({ AttributeName: key.name, AttributeType: typeOf(key) })),
      ),
      TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.timeToLiveAttribute, Enabled: true },
    });
    // Event waiters are found through base-table items (strongly consistent reads), not through an index; the
    // other two indexes list runs (runs.list, no Scan).
    expect(TABLE_SCHEMA.globalSecondaryIndexes.map((i) => i.indexName)).toEqual([SWEEP_INDEX, LIST_INDEX, LIST_BY_NAME_INDEX]);
  });

  it('then the table is on-demand, point-in-time recoverable, KMS-encrypted with the AWS managed key, and retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('then the dispatch queue has a visibility timeout of 6 x the worker timeout and a redrive policy to its DLQ', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 6 * 60,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack, durable.deadLetterQueue), 'Arn'] },
        maxReceiveCount: 5,
      },
    });
  });

  it('then every queue is SSE-SQS encrypted, retained, and denies requests without TLS', () => {
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    for (const [id, queue] of Object.entries(queues)) {
      expect(queue.Properties.SqsManagedSseEnabled, id).toBe(true);
      expect(queue.DeletionPolicy, id).toBe('Retain');
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Principal: { AWS: '*' },
            }),
          ]),
        },
      });
    }
    const dlqs = [durable.deadLetterQueue, durable.eventDeadLetterQueue].map((q) => logicalId(stack, q));
    for (const id of dlqs) expect(queues[id]?.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

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

  it('then the DLQ alarms say how to recover: a redrive for dispatch messages, re-invoking the router (never an SQS redrive) for events', () => {
    const description = (construct: { node: { defaultChild?: unknown } }) =>
      JSON.stringify(resourcesOf(template, 'AWS::CloudWatch::Alarm')[logicalId(stack, construct)]?.Properties.AlarmDescription);
    expect(description(durable.deadLetterQueueAlarm)).toContain('Start DLQ redrive');
    const events = description(durable.eventDeadLetterQueueAlarm);
    expect(events).toContain('aws lambda invoke --function-name ');
    expect(events).toContain(JSON.stringify({ Ref: logicalId(stack, durable.eventRouterFunction) }));
    expect(events).toContain('cannot re-invoke the router');
    expect(events).not.toContain('Start DLQ redrive');
  });

  it('then the five alarms watch the DLQs, worker errors and throttles, and the oldest message age', () => {
    const alarm = (construct: { node: { defaultChild?: unknown } }) =>
      resourcesOf(template, 'AWS::CloudWatch::Alarm')[logicalId(stack, construct)]?.Properties;
    const queueDim = (q: { node: { defaultChild?: unknown } }) => [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, q), 'QueueName'] } }];
    const fnDim = [{ Name: 'FunctionName', Value: { Ref: logicalId(stack, durable.workerFunction) } }];
    expect(alarm(durable.deadLetterQueueAlarm)).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Dimensions: queueDim(durable.deadLetterQueue),
      Statistic: 'Maximum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching',
    });
    expect(alarm(durable.eventDeadLetterQueueAlarm)).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: queueDim(durable.eventDeadLetterQueue), Threshold: 0,
    });
    expect(alarm(durable.workerErrorsAlarm)).toMatchObject({
      MetricName: 'Errors', Namespace: 'AWS/Lambda', Dimensions: fnDim, Statistic: 'Sum', Period: 300, Threshold: 0,
    });
    expect(alarm(durable.workerThrottlesAlarm)).toMatchObject({
      MetricName: 'Throttles', Namespace: 'AWS/Lambda', Dimensions: fnDim, Statistic: 'Sum', Threshold: 0,
    });
    expect(alarm(durable.queueAgeAlarm)).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage', Dimensions: queueDim(durable.queue), Statistic: 'Maximum',
      Threshold: 30 * 60, EvaluationPeriods: 5, ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(durable.alarms).toHaveLength(5);
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

describe('given invalid props', () => {
  const attempt = (props: Record<string, unknown>) => () => build(props);

  it('then a missing entry file is rejected, naming the path', () => {
    expect(attempt({ entry: '/nowhere/worker.ts' })).toThrow(/entry \/nowhere\/worker\.ts does not exist/);
  });

  it('then eventRouterConcurrency outside 1..1000 or fractional is rejected', () => {
    for (const eventRouterConcurrency of [0, 1001, 2.5]) {
      expect(() => build({ eventRouterConcurrency }), String(eventRouterConcurrency)).toThrow(/eventRouterConcurrency must be an integer from 1 to 1000/);
    }
  });

  it('then durableSlots outside 2..1000 or fractional is rejected', () => {
    for (const durableSlots of [1, 1001, 2.5]) expect(attempt({ durableSlots })).toThrow(/durableSlots must be an integer from 2 to 1000/);
  });

  it('then waiterShards and sweepShards outside 1..1000 or fractional are rejected, and given ones reach every function', () => {
    for (const n of [0, 1001, 2.5]) {
      expect(attempt({ waiterShards: n })).toThrow(/waiterShards must be a whole number from 1 to 1000/);
      expect(attempt({ sweepShards: n })).toThrow(/sweepShards must be a whole number from 1 to 1000/);
    }
    const { template } = build({ waiterShards: 32, sweepShards: 16 });
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) => f.Properties.Environment?.Variables?.[ENV.tableName]);
    expect(functions.length).toBeGreaterThanOrEqual(3);
    for (const f of functions) expect(f.Properties.Environment.Variables).toMatchObject({ [ENV.waiterShards]: '32', [ENV.sweepShards]: '16' });
  });

  it('then eventShards defaults to 1, rejects 0, 1001 and fractions, and reaches every function', () => {
    for (const n of [0, 1001, 2.5]) expect(attempt({ eventShards: n })).toThrow(/eventShards must be a whole number from 1 to 1000/);
    const fns = (t: ReturnType<typeof build>['template']) => Object.values(t.findResources('AWS::Lambda::Function')).filter((f) => f.Properties.Environment?.Variables?.[ENV.tableName]);
    for (const f of fns(build({}).template)) expect(f.Properties.Environment.Variables[ENV.eventShards]).toBe('1');
    const sharded = fns(build({ eventShards: 8 }).template);
    expect(sharded.length).toBeGreaterThanOrEqual(3);
    for (const f of sharded) expect(f.Properties.Environment.Variables[ENV.eventShards]).toBe('8');
  });

  it('then a retention that is not whole days is rejected', () => {
    expect(attempt({ retention: Duration.hours(36) })).toThrow(/retention must be a whole number of days/);
  });

  it('then environment cannot override a DURABLE_* name the construct sets', () => {
    expect(attempt({ environment: { [ENV.tableName]: 'other' } })).toThrow(/environment cannot set DURABLE_TABLE_NAME/);
  });
});

describe('given the large-payload bucket', () => {
  const { stack, durable, template } = build({ retention: Duration.days(7), maxPayloadBytes: 8 * 1024 * 1024 });
  const bucket = Object.values(resourcesOf(template, 'AWS::S3::Bucket'))[0]!;

  it('then it is encrypted (S3-managed keys), private, owner-enforced, retained like the table, and TLS-only', () => {
    expect(bucket.Properties.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(bucket.DeletionPolicy).toBe('Retain');
    const policy = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy'))[0]!;
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
  });

  it('then its lifecycle rule expires payload objects with their run: retention + 366 days (as the items\' TTL)', () => {
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([
      { Id: 'expire-with-runs', Prefix: 'runs/', Status: 'Enabled', ExpirationInDays: 7 + 366, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ]);
  });

  it('then every function gets the bucket name and maxPayloadBytes', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) => f.Properties.Environment?.Variables?.[ENV.tableName]);
    expect(functions).toHaveLength(3);
    for (const f of functions) {
      expect(f.Properties.Environment.Variables).toMatchObject({ [ENV.payloadBucket]: { Ref: logicalId(stack, durable.payloadBucket) }, [ENV.maxPayloadBytes]: String(8 * 1024 * 1024) });
    }
  });

  it('then maxPayloadBytes outside 1..512 MiB or fractional is rejected', () => {
    for (const maxPayloadBytes of [0, 512 * 1024 * 1024 + 1, 1.5]) {
      expect(() => build({ maxPayloadBytes })).toThrow(/maxPayloadBytes must be an integer from 1 to 536870912/);
    }
  });
});
