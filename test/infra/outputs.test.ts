/**
 * The construct outputs what `Durable.fromEnv()` (and `durable ... --aws`) needs: one `<id>ShellExports` line
 * with every `DURABLE_*` variable of `durable.environment` (names from sdk/adapters/aws/env.ts) and the region.
 */
import { Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../sdk/adapters/aws/env.ts';
import { DurableTasks } from '../../infra/index.ts';
import { build, FIXTURE_ENTRY, logicalId, testApp } from './support.ts';
import { Template } from 'aws-cdk-lib/assertions';

/** A CloudFormation value as text: `Ref`s as `{Ref:Id}`, `GetAtt`s as `{Id.Attr}`, joins joined. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v.Ref) return `{Ref:${v.Ref}}`;
  if (v['Fn::GetAtt']) return `{${v['Fn::GetAtt'].join('.')}}`;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(render).join(v['Fn::Join'][0]);
  throw new Error(`unexpected CloudFormation value ${JSON.stringify(value)}`);
}

describe('given a DurableTasks in any stack', () => {
  const { stack, durable, template } = build();

  it('then the stack outputs <id>ShellExports: `export` of every DURABLE_* variable the construct sets, plus AWS_REGION', () => {
    const outputs = template.findOutputs('*') as Record<string, { Value: unknown; Description?: string }>;
    expect(Object.keys(outputs)).toEqual(['DurableShellExports']);
    const line = render(outputs.DurableShellExports!.Value);
    expect(line.startsWith('export ')).toBe(true);
    const names = line
      .slice('export '.length)
      .split(' ')
      .map((pair) => pair.slice(0, pair.indexOf('=')));
    expect(names.sort()).toEqual(['AWS_REGION', ...Object.values(ENV)].sort());
    expect(Object.keys(durable.environment).sort()).toEqual([...Object.values(ENV)].sort());
    // Each value is the resource the functions get, not a copy.
    expect(line).toContain(`${ENV.tableName}={Ref:${logicalId(stack, durable.table)}}`);
    expect(line).toContain(`${ENV.queueUrl}={Ref:${logicalId(stack, durable.queue)}}`);
    expect(line).toContain(`${ENV.queueArn}={${logicalId(stack, durable.queue)}.Arn}`);
    expect(line).toContain(`${ENV.eventBusName}={Ref:${logicalId(stack, durable.eventBus)}}`);
    expect(line).toContain(`${ENV.schedulerRoleArn}={${logicalId(stack, durable.schedulerRole)}.Arn}`);
    expect(line).toContain('AWS_REGION={Ref:AWS::Region}');
    expect(line).toMatch(new RegExp(`${ENV.retentionDays}=\\d+`));
    expect(outputs.DurableShellExports!.Description).toMatch(/Durable\.fromEnv\(\)/);
  });

  it('then two constructs in one stack get one output each, keyed by their ids', () => {
    const stack2 = new Stack(testApp(), 'Two');
    new DurableTasks(stack2, 'Orders', { entry: FIXTURE_ENTRY });
    new DurableTasks(stack2, 'Billing-Tasks', { entry: FIXTURE_ENTRY });
    expect(Object.keys(Template.fromStack(stack2).findOutputs('*')).sort()).toEqual(['BillingTasksShellExports', 'OrdersShellExports']);
  });
});
