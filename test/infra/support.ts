/**
 * Builds a DurableTasks stack for the infra tests without bundling: the `aws:cdk:bundling-stacks` context set to
 * [] makes NodejsFunction skip esbuild (the bundle has its own test), so a synth takes well under a second.
 */
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DurableTasks } from '../../infra/index.ts';
import type { DurableTasksProps } from '../../infra/index.ts';

/** A stub worker module (default export with the three handler factories). */
export const FIXTURE_ENTRY = fileURLToPath(new URL('./fixtures/user-entry.ts', import.meta.url));

export interface Built {
  app: App;
  stack: Stack;
  durable: DurableTasks;
  template: Template;
}

/** A test App that never bundles. */
export function testApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] } });
}

/** One stack holding one DurableTasks (entry = the fixture unless overridden); `extend` runs before synthesis. */
export function build(props: Partial<DurableTasksProps> = {}, extend?: (stack: Stack, durable: DurableTasks) => void): Built {
  const app = testApp();
  const stack = new Stack(app, 'TestStack');
  const durable = new DurableTasks(stack, 'Durable', { entry: FIXTURE_ENTRY, ...props });
  extend?.(stack, durable);
  return { app, stack, durable, template: Template.fromStack(stack) };
}

/** The logical id CloudFormation gives a construct's default child (e.g. a Role's AWS::IAM::Role). */
export function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

/** A resource as it appears in a template. */
export type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

/** Every resource of `type` in `template`, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

/** IAM statement as it appears in a template. */
export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
  Principal?: unknown;
}

/** Every statement of the AWS::IAM::Policy attached to the role with this logical id. */
export function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleLogicalId }]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** Every IAM statement in the template: identity policies, role trust policies, queue and bus resource policies. */
export function allStatements(template: Template): Statement[] {
  const json = template.toJSON() as { Resources: Record<string, { Type: string; Properties?: Record<string, any> }> };
  const out: Statement[] = [];
  for (const resource of Object.values(json.Resources)) {
    const p = resource.Properties ?? {};
    for (const doc of [p.PolicyDocument, p.AssumeRolePolicyDocument]) if (doc) out.push(...(doc.Statement as Statement[]));
  }
  return out;
}

/** Actions of a statement, always as an array. */
export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}
