/**
 * The construct's stack output: one `<id>ShellExports` line that points `Durable.fromEnv()` (and the `durable`
 * CLI with `--aws`) at the stack, so any stack with the construct can be reached without hand-written outputs.
 */
import { CfnOutput, Fn, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** The output key of the ShellExports output of the construct `scope` (`DurableTasksShellExports` for id `DurableTasks`). */
export function shellExportsOutputKey(scope: Construct): string {
  return `${scope.node.id.replace(/[^A-Za-z0-9]/g, '')}ShellExports`;
}

/**
 * Adds `export NAME=value ...` (every `environment` variable, plus `AWS_REGION` of the stack) as a stack output
 * keyed {@link shellExportsOutputKey}. Lambda sets `AWS_REGION` itself, so it is only here, not in `environment`.
 */
export function addShellExportsOutput(scope: Construct, environment: Readonly<Record<string, string>>): CfnOutput {
  const pairs = { AWS_REGION: Stack.of(scope).region, ...environment };
  const output = new CfnOutput(scope, 'ShellExports', {
    value: Fn.join(' ', ['export', ...Object.entries(pairs).map(([name, value]) => Fn.join('', [name, '=', value]))]),
    description: 'eval this to point Durable.fromEnv() (and the durable CLI with --aws) at this stack',
  });
  output.overrideLogicalId(shellExportsOutputKey(scope));
  return output;
}
