import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { ENV, EVENT_DETAIL_TYPE, EVENT_SEQUENCE_KEY_PREFIX, EVENT_SOURCE, RUN_KEY_PREFIX } from '../../infra/constants.ts';
import { sequencePk } from '../../sdk/adapters/aws/dynamo-events.ts';
import { runPk } from '../../sdk/adapters/aws/dynamo-keys.ts';
import { DurableTasks } from '../../infra/index.ts';
import { build, FIXTURE_ENTRY, logicalId, roleStatements, testApp } from './support.ts';

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

  it('then it may read and write run items only (LeadingKeys RUN#*) and send dispatch messages', () => {
    expect(roleStatements(template, logicalId(stack, fn.role as iam.Role))).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [logicalId(stack, durable.table), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RUN_KEY_PREFIX}*`] } },
      },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [logicalId(stack, durable.queue), 'Arn'] } },
    ]);
    expect(grant.success).toBe(true);
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
  });
});

describe('given a role (not a function) granted push and start', () => {
  let role!: iam.Role;
  const { stack, template } = build({}, (s, d) => {
    role = new iam.Role(s, 'Ci', { assumedBy: new iam.AccountRootPrincipal() });
    d.grantPush(role);
    d.grantStart(role);
  });

  it('then it gets the same four statements and no error for lacking an environment', () => {
    const statements = roleStatements(template, logicalId(stack, role));
    expect(statements.map((s) => s.Action)).toEqual([
      'events:PutEvents',
      'dynamodb:UpdateItem',
      ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      'sqs:SendMessage',
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
