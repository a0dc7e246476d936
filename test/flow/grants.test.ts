/**
 * Flow control's grants: workers write `CONC#` and `RATE#` items with their table grant; `grantRateLimits` lets a
 * function call `durable.rateLimits.upsert` (UpdateItem on `RATE#` partitions only).
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { CONCURRENCY_KEY_PREFIX, RATE_KEY_PREFIX } from '../../sdk/adapters/aws/env.ts';
import { slotPk } from '../../sdk/adapters/aws/dynamo-flow.ts';
import { actionsOf, build, logicalId, roleStatements } from '../infra/support.ts';

describe('given a user function granted rate limits', () => {
  let fn!: lambda.Function;
  const { stack, durable, template } = build({}, (s, d) => {
    fn = new lambda.Function(s, 'Admin', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('export const handler = async () => {};') });
    d.grantRateLimits(fn);
  });

  it('then it may update rate-limit items only (LeadingKeys RATE#*)', () => {
    expect(roleStatements(template, logicalId(stack, fn.role as iam.Role))).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:UpdateItem',
        Resource: { 'Fn::GetAtt': [logicalId(stack, durable.table), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RATE_KEY_PREFIX}*`] } },
      },
    ]);
  });

  it('then the worker may read and write the flow-control items (its table grant has no LeadingKeys condition)', () => {
    const statements = roleStatements(template, logicalId(stack, durable.workerFunction.role as iam.Role));
    const onTable = statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': [logicalId(stack, durable.table), 'Arn'] }));
    const unconditioned = onTable.filter((s) => s.Condition === undefined).flatMap(actionsOf);
    expect(unconditioned).toEqual(expect.arrayContaining(['dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem']));
    expect(slotPk('sync#u1').startsWith(CONCURRENCY_KEY_PREFIX)).toBe(true);
  });
});
