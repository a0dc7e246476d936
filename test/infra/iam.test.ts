import { describe, expect, it } from 'vitest';
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
  const logs = (group: { node: { defaultChild?: unknown } }) => ({
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: arn(group),
  });
  const indexQuery = { Effect: 'Allow', Action: 'dynamodb:Query', Resource: indexArn('gsi2') };
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

  it("then no allowed resource is '*', and the only one containing '*' is the schedule group's schedules", () => {
    const wildcards: unknown[] = [];
    for (const statement of allStatements(template).filter((s) => s.Effect === 'Allow')) {
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      for (const resource of resources) {
        if (statement.Resource === undefined) continue;
        expect(resource, JSON.stringify(statement)).not.toBe('*');
        if (JSON.stringify(resource).includes('*')) wildcards.push(resource);
      }
    }
    // ... and the payload bucket's objects under runs/ (keys are generated per run and payload), for the worker and the router.
    const payloadObjects = { 'Fn::Join': ['', [arn(durable.payloadBucket), '/runs/*']] };
    expect(wildcards).toEqual([schedulesArn, payloadObjects, schedulesArn, payloadObjects]);
  });

  it('then the only Deny statements are the TLS-only guards on the three queues and the payload bucket', () => {
    const denies = allStatements(template).filter((s) => s.Effect === 'Deny');
    expect(denies).toHaveLength(4);
    const bucket = denies.filter((d) => d.Action === 's3:*');
    expect(bucket).toHaveLength(1);
    expect(bucket[0]).toMatchObject({ Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    for (const deny of denies.filter((d) => d.Action !== 's3:*')) {
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

  // Which table, queue, schedule and event actions each role needs is proven by what the code sends:
  // test/infra/recorded-grants.integration.test.ts records every request of the worker, the router and the sweeper
  // and checks it against these policies. What no recorded process does (the Lambda service consuming the queue,
  // delivering to the router's DLQ, writing logs) is asserted here.
  const statementsOf = (fn: { role?: unknown }) => roleStatements(template, role(fn));

  it('then each function role writes logs to its own log group only', () => {
    for (const [fn, construct] of [
      [durable.workerFunction, worker],
      [durable.eventRouterFunction, router],
      [durable.sweeperFunction, sweeper],
    ] as const) {
      expect(statementsOf(fn)).toContainEqual(logs(construct.logGroup));
    }
  });

  it('then the worker consumes the dispatch queue (its event source), and no other role does', () => {
    const consume = {
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
      Resource: queueArn,
    };
    expect(statementsOf(durable.workerFunction)).toContainEqual(consume);
    for (const fn of [durable.eventRouterFunction, durable.sweeperFunction]) {
      expect(statementsOf(fn).flatMap(actionsOf).filter((a) => a === 'sqs:ReceiveMessage' || a === 'sqs:DeleteMessage')).toEqual([]);
    }
  });

  it('then the router may send to its event DLQ (Lambda asynchronous failures)', () => {
    expect(statementsOf(durable.eventRouterFunction)).toContainEqual({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arn(durable.eventDeadLetterQueue) });
  });

  it('then the sweeper writes nothing: no item write, no schedule, no event, and its item reads are limited to RUN# keys', () => {
    const actions = statementsOf(durable.sweeperFunction).flatMap(actionsOf);
    expect(actions.filter((a) => /Put|Update|Delete|Write|scheduler:|events:|iam:/.test(a) && !a.startsWith('logs:'))).toEqual([]);
    const onTable = statementsOf(durable.sweeperFunction).filter((s) => JSON.stringify(s.Resource) === JSON.stringify(tableArn));
    expect(onTable.map((s) => s.Condition)).toEqual([{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RUN#*'] } }]);
    expect(statementsOf(durable.sweeperFunction)).toContainEqual(dispatch);
    expect(statementsOf(durable.sweeperFunction)).toContainEqual(indexQuery);
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
