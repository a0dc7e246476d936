import { describe, expect, it } from 'vitest';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../infra/constants.ts';
import { actionsOf, allStatements, build, logicalId, roleStatements, type Statement } from './support.ts';

/**
 * Every IAM statement the construct writes, one by one: identity policies (exact lists per role), trust policies,
 * and the resource policies on queues. Wildcards: never in an allowed action; in a resource only where IAM offers
 * nothing narrower (timer schedules are created at run time under generated names), and that case is asserted
 * exactly.
 */
describe('given a DurableTasks', () => {
  const { stack, durable, template } = build();
  const arn = (construct: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [logicalId(stack, construct), 'Arn'] });
  const tableArn = arn(durable.table);
  const indexArn = (name: string) => ({ 'Fn::Join': ['', [tableArn, `/index/${name}`]] });
  const queueArn = arn(durable.queue);
  const schedulesArn = {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':scheduler:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:schedule/${durable.scheduleGroup.scheduleGroupName}/*`,
      ],
    ],
  };
  const cronSchedulesArn = JSON.parse(JSON.stringify(schedulesArn).replace('/*"', '/cron.*"'));
  const logs = (group: { node: { defaultChild?: unknown } }) => ({
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: arn(group),
  });
  const table = [
    {
      Effect: 'Allow',
      Action: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
      ],
      Resource: tableArn,
    },
    { Effect: 'Allow', Action: 'dynamodb:Query', Resource: indexArn('gsi2') },
  ];
  const dispatch = { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queueArn };
  const role = (fn: { role?: unknown }) => logicalId(stack, fn.role as never);
  const worker = durable.node.findChild('Worker') as unknown as { logGroup: never };
  const router = durable.node.findChild('EventRouter') as unknown as { logGroup: never };
  const sweeper = durable.node.findChild('Sweeper') as unknown as { logGroup: never };

  it('then no allowed action anywhere is a wildcard', () => {
    const allowed = allStatements(template).filter((s) => s.Effect === 'Allow');
    expect(allowed.length).toBeGreaterThan(20);
    for (const statement of allowed) {
      for (const action of actionsOf(statement)) {
        expect(action, JSON.stringify(statement)).not.toBe('*');
        expect(action, JSON.stringify(statement)).not.toMatch(/\*/);
      }
    }
  });

  it("then no allowed resource is '*', and the only ones containing '*' are the schedule group's schedules (all for timers, cron.* for crons)", () => {
    const wildcards: unknown[] = [];
    for (const statement of allStatements(template).filter((s) => s.Effect === 'Allow')) {
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      for (const resource of resources) {
        if (statement.Resource === undefined) continue;
        expect(resource, JSON.stringify(statement)).not.toBe('*');
        if (JSON.stringify(resource).includes('*')) wildcards.push(resource);
      }
    }
    expect(wildcards).toEqual([schedulesArn, schedulesArn, cronSchedulesArn]);
  });

  it('then the only Deny statements are the TLS-only guards on the three queues', () => {
    const denies = allStatements(template).filter((s) => s.Effect === 'Deny');
    expect(denies).toHaveLength(3);
    for (const deny of denies) {
      expect(deny).toMatchObject({ Action: 'sqs:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    }
  });

  it('then no role has a managed policy (logs permissions are granted on each log group instead)', () => {
    for (const roleResource of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(roleResource.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('then the three function roles are assumable by Lambda only', () => {
    for (const fn of [durable.workerFunction, durable.eventRouterFunction, durable.sweeperFunction]) {
      const trust = (template.findResources('AWS::IAM::Role')[role(fn)]?.Properties.AssumeRolePolicyDocument.Statement ?? []) as Statement[];
      expect(trust).toEqual([{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } }]);
    }
  });

  /** What replaying user code needs (worker and router alike): its schedules, passing the scheduler role, pushing events. */
  const replay = () => [
    { Effect: 'Allow', Action: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'], Resource: schedulesArn },
    {
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: arn(durable.schedulerRole),
      Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    },
    {
      Effect: 'Allow',
      Action: 'events:PutEvents',
      Resource: arn(durable.eventBus as never),
      Condition: { StringEquals: { 'events:source': EVENT_SOURCE, 'events:detail-type': EVENT_DETAIL_TYPE } },
    },
  ];

  it('then the worker may use the table and indexes, consume and send dispatch messages, manage schedules in its group, pass the scheduler role to Scheduler, and push durable-tasks events', () => {
    expect(roleStatements(template, role(durable.workerFunction))).toEqual([
      logs(worker.logGroup),
      {
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        Resource: queueArn,
      },
      ...table,
      dispatch,
      ...replay(),
    ]);
  });

  it('then the router may do what a replay does (it resumes the first run an event wakes) and send to its DLQ, but not consume the queue', () => {
    expect(roleStatements(template, role(durable.eventRouterFunction))).toEqual([
      logs(router.logGroup),
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arn(durable.eventDeadLetterQueue) },
      ...table,
      dispatch,
      ...replay(),
    ]);
  });

  it('then the sweeper may use the table and indexes, send dispatch messages, and manage the cron schedules (reconciling declared crons), nothing else', () => {
    expect(roleStatements(template, role(durable.sweeperFunction))).toEqual([
      logs(sweeper.logGroup),
      ...table,
      dispatch,
      {
        Effect: 'Allow',
        Action: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:GetSchedule', 'scheduler:DeleteSchedule'],
        Resource: cronSchedulesArn,
      },
      {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: arn(durable.schedulerRole),
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
    ]);
  });

  it('then the scheduler role may only send to the dispatch queue', () => {
    expect(roleStatements(template, logicalId(stack, durable.schedulerRole))).toEqual([dispatch]);
  });

  it('then the template holds exactly four identity policies, one per role above', () => {
    const roles = Object.values(template.findResources('AWS::IAM::Policy')).map((p) => p.Properties.Roles);
    const expected = [durable.workerFunction, durable.eventRouterFunction, durable.sweeperFunction].map(role);
    expected.push(logicalId(stack, durable.schedulerRole));
    expect(roles.map((r) => JSON.stringify(r)).sort()).toEqual(expected.map((id) => JSON.stringify([{ Ref: id }])).sort());
  });
});
