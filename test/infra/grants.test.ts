import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { CRON_PARTITION, ENV, EVENT_DETAIL_TYPE, EVENT_SEQUENCE_KEY_PREFIX, EVENT_SOURCE, RUN_KEY_PREFIX, WAITER_KEY_PREFIX } from '../../sdk/adapters/aws/env.ts';
import { sequencePk } from '../../sdk/adapters/aws/dynamo-events.ts';
import { cronScheduleName } from '../../sdk/adapters/aws/cron-schedules.ts';
import { runPk, waiterKeyPk } from '../../sdk/adapters/aws/dynamo-keys.ts';
import { DurableTasks } from '../../infra/index.ts';
import { actionsOf, build, FIXTURE_ENTRY, logicalId, roleStatements, testApp } from './support.ts';

/** A plain Lambda function of the user's, in the same stack. */
function userFunction(scope: ConstructScope, id: string): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => {};'),
  });
}
type ConstructScope = ConstructorParameters<typeof lambda.Function>[0];

describe('given a user function granted push', () => {
  let fn!: lambda.Function;
  const { stack, durable, template } = build({}, (s, d) => {
    fn = userFunction(s, 'Webhook');
    d.grantPush(fn);
  });

  it('then it may put only durable-tasks events, on the bus only, and take event sequence numbers (UpdateItem on EVTSEQ# items only)', () => {
    expect(roleStatements(template, logicalId(stack, fn.role as iam.Role))).toEqual([
      {
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: { 'Fn::GetAtt': [logicalId(stack, durable.eventBus as never), 'Arn'] },
        Condition: { StringEquals: { 'events:source': EVENT_SOURCE, 'events:detail-type': EVENT_DETAIL_TYPE } },
      },
      {
        Effect: 'Allow',
        Action: 'dynamodb:UpdateItem',
        Resource: { 'Fn::GetAtt': [logicalId(stack, durable.table), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${EVENT_SEQUENCE_KEY_PREFIX}*`] } },
      },
    ]);
  });

  it("then the LeadingKeys prefix is the one the AWS store's sequence items use", () => {
    expect(sequencePk('order:paid').startsWith(EVENT_SEQUENCE_KEY_PREFIX)).toBe(true);
  });

  it('then it gets DURABLE_EVENT_BUS_NAME (and the other DURABLE_* names Durable.fromEnv() reads)', () => {
    const variables = template.findResources('AWS::Lambda::Function')[logicalId(stack, fn)]?.Properties.Environment.Variables;
    expect(variables[ENV.eventBusName]).toEqual({ Ref: logicalId(stack, durable.eventBus as never) });
    expect(Object.keys(variables).sort()).toEqual(Object.values(ENV).sort());
  });
});

describe('given a user function granted start', () => {
  let fn!: lambda.Function;
  let grant!: iam.Grant;
  const { stack, durable, template } = build({}, (s, d) => {
    fn = userFunction(s, 'Api');
    grant = d.grantStart(fn);
  });

  // Which actions it needs is proven by recording what start, get, cancel and schedule send:
  // test/infra/recorded-grants.integration.test.ts. Here: the shape of the grant.
  it('then its table items are limited to run and waiter-key partitions (LeadingKeys RUN#*, WAITKEY#*), with no Scan', () => {
    const statements = roleStatements(template, logicalId(stack, fn.role as iam.Role));
    const onTable = statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': [logicalId(stack, durable.table), 'Arn'] }));
    // Starting runs, and listing them (grantList: BatchGetItem of the runs the listing indexes name, RUN# only).
    expect(onTable).toHaveLength(2);
    expect(onTable[0]!.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RUN_KEY_PREFIX}*`, `${WAITER_KEY_PREFIX}*`] } });
    expect(onTable[1]!.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RUN_KEY_PREFIX}*`] } });
    expect(actionsOf(onTable[1]!)).toEqual(['dynamodb:BatchGetItem']);
    for (const statement of statements) expect(actionsOf(statement)).not.toContain('dynamodb:Scan');
    expect(grant.success).toBe(true);
  });

  it('then it may pass the scheduler role to EventBridge Scheduler only', () => {
    expect(roleStatements(template, logicalId(stack, fn.role as iam.Role))).toContainEqual({
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: { 'Fn::GetAtt': [logicalId(stack, durable.schedulerRole), 'Arn'] },
      Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
  });

  it('then it gets the table name and queue URL (and the other DURABLE_* names)', () => {
    const variables = template.findResources('AWS::Lambda::Function')[logicalId(stack, fn)]?.Properties.Environment.Variables;
    expect(variables).toMatchObject({
      [ENV.tableName]: { Ref: logicalId(stack, durable.table) },
      [ENV.queueUrl]: { Ref: logicalId(stack, durable.queue) },
    });
    expect(Object.keys(variables).sort()).toEqual(Object.values(ENV).sort());
  });

  it("then the LeadingKeys prefix is the one the AWS store's run keys use", () => {
    expect(runPk('r-1').startsWith(RUN_KEY_PREFIX)).toBe(true);
    expect(waiterKeyPk('order:paid', 0).startsWith(WAITER_KEY_PREFIX)).toBe(true);
  });
});

describe('given a role (not a function) granted push and start', () => {
  let role!: iam.Role;
  const { stack, template } = build({}, (s, d) => {
    role = new iam.Role(s, 'Ci', { assumedBy: new iam.AccountRootPrincipal() });
    d.grantPush(role);
    d.grantStart(role);
  });

  it('then it gets the two push statements and the five start statements (two of them listing), and no error for lacking an environment', () => {
    const statements = roleStatements(template, logicalId(stack, role));
    expect(statements.map((s) => actionsOf(s)[0])).toEqual([
      'events:PutEvents',
      'dynamodb:UpdateItem',
      'dynamodb:GetItem',
      'sqs:SendMessage',
      'scheduler:CreateSchedule',
      'iam:PassRole',
      'dynamodb:Query', // grantList: the listing indexes
      'dynamodb:BatchGetItem', // grantList: the runs they name
    ]);
  });
});

describe('given a function in another stack granted start', () => {
  const app = testApp();
  const durable = new DurableTasks(new Stack(app, 'Durable'), 'Durable', { entry: FIXTURE_ENTRY });
  const other = new Stack(app, 'Other');
  durable.grantStart(userFunction(other, 'Api'));
  const template = Template.fromStack(other);

  it('then the env vars cross the stack boundary by reference (exports)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.tableName]: { 'Fn::ImportValue': Match.anyValue() } }) },
    });
  });
});

describe('given a user function granted crons', () => {
  let fn!: lambda.Function;
  const { stack, durable, template } = build({}, (s, d) => {
    fn = userFunction(s, 'Admin');
    d.grantCrons(fn);
  });

  it('then it may read and write the cron items only (LeadingKeys CRONS), manage cron.* schedules in the group, and pass the scheduler role to Scheduler', () => {
    const statements = roleStatements(template, logicalId(stack, fn.role as iam.Role));
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        Resource: { 'Fn::GetAtt': [logicalId(stack, durable.table), 'Arn'] },
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [CRON_PARTITION] } },
      },
      {
        Effect: 'Allow',
        Action: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'],
        Resource: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:schedule/${durable.scheduleGroup.scheduleGroupName}/cron.*`],
          ],
        },
      },
      {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [logicalId(stack, durable.schedulerRole), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
    ]);
  });

  it("then the LeadingKeys partition is the one the AWS cron store writes, and the schedule names match cron.*", () => {
    expect(cronScheduleName('hourly-eu').startsWith('cron.')).toBe(true);
    expect(cronScheduleName('nightly-report:0 3 * * *').startsWith('cron.')).toBe(true);
    expect(CRON_PARTITION).toBe('CRONS');
  });

  it('then it gets the DURABLE_* names Durable.fromEnv() reads', () => {
    const variables = template.findResources('AWS::Lambda::Function')[logicalId(stack, fn)]?.Properties.Environment.Variables;
    expect(Object.keys(variables).sort()).toEqual(Object.values(ENV).sort());
  });
});
