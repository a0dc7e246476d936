import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one wildcard-resource finding of cdk-nag's AwsSolutions-IAM5 on `scope` (and nothing else: any other
 * wildcard in the same policy still fails). Uses aws-cdk-lib's own `Validations`, so the construct needs no cdk-nag
 * at run time; the finding id is cdk-nag's flattened form of the resource (`Ref` → `<Id>`, `Fn::GetAtt` →
 * `<Id.Attr>`, `Fn::Join` → concatenation), computed from the resolved ARN so it also holds for stacks with a
 * fixed account and region.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resourceArn: string, reason: string): void {
  const flat = flatten(Stack.of(scope).resolve(resourceArn));
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
}

function flatten(node: unknown): string {
  if (typeof node === 'string') return node;
  if (node !== null && typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    if ('Ref' in obj) return `<${flatten(obj['Ref'])}>`;
    if ('Fn::GetAtt' in obj) {
      const [resource, attribute] = obj['Fn::GetAtt'] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if ('Fn::Join' in obj) {
      const [delimiter, parts] = obj['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(delimiter);
    }
  }
  return JSON.stringify(node);
}
