import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { USER_ENTRY_MODULE } from '../../sdk/adapters/aws/env.ts';

/**
 * How the Lambda bundles are built: one place, read by the construct and by the bundle test, so the size the test
 * prints is the size `cdk deploy` ships.
 */

/**
 * Whether this module runs from the repository's sources (`.ts`) or from the installed package (`dist/**\/*.js`):
 * the handlers sit beside it in the same form.
 */
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const handler = (name: string) => fileURLToPath(new URL(`../../functions/${name}${FROM_SOURCES ? '.ts' : '.js'}`, import.meta.url));

/** The three Lambda entry points, by role. infra knows them by path only: it never imports them. */
export const FUNCTION_ENTRIES = {
  worker: handler('worker'),
  eventRouter: handler('event-router'),
  sweeper: handler('sweeper'),
} as const;

/**
 * Never bundled: the local mode's servers (the sdk reaches them only through a dynamic import inside
 * `Durable.local`, which a Lambda never calls) and the CDK itself (should user code import it by mistake).
 */
export const NEVER_BUNDLED = ['dynalite', 'fauxqs', 'aws-cdk-lib', 'constructs'] as const;

/** The AWS SDK v3 packages the nodejs22.x runtime provides, left out when `bundleAwsSdk` is false. */
export const AWS_SDK_MODULES = ['@aws-sdk/*', '@smithy/*'] as const;

/**
 * esbuild's ESM output cannot `require` node built-ins that bundled CommonJS code asks for; this gives it one.
 * The odd local name avoids clashing with anything in the bundle.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __durableCreateRequire } from 'node:module'; const require = __durableCreateRequire(import.meta.url);";

/** The esbuild target matching the Lambda runtime the construct deploys (nodejs22.x). */
export const ESBUILD_TARGET = 'node22';

/**
 * NodejsFunction bundling for one entry point: local esbuild only (never Docker), minified ESM, the user's worker
 * module aliased in as {@link USER_ENTRY_MODULE}.
 *
 * @param userEntry absolute path of the user's worker module.
 * @param bundleAwsSdk ship the AWS SDK inside the bundle (pins its version) rather than use the runtime's copy.
 */
export function bundlingOptions(userEntry: string, bundleAwsSdk: boolean): BundlingOptions {
  assertEsbuildInstalled();
  return {
    forceDockerBundling: false,
    format: OutputFormat.ESM,
    target: ESBUILD_TARGET,
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    banner: ESM_REQUIRE_BANNER,
    bundleAwsSDK: bundleAwsSdk,
    externalModules: [...NEVER_BUNDLED, ...(bundleAwsSdk ? [] : AWS_SDK_MODULES)],
    esbuildArgs: { [`--alias:${USER_ENTRY_MODULE}`]: userEntry },
  };
}

/**
 * NodejsFunction bundles with the project's own esbuild (an optional peer dependency of durable-tasks); without it
 * the CDK falls back to Docker or fails with "esbuild not found" deep inside synth. Say what to install instead.
 */
function assertEsbuildInstalled(): void {
  for (const from of [join(process.cwd(), 'package.json'), import.meta.url]) {
    try {
      createRequire(from).resolve('esbuild');
      return;
    } catch {
      // try the next place
    }
  }
  throw new Error(
    'DurableTasks: esbuild is not installed. The construct bundles its Lambda functions with the local esbuild: ' +
      'run `npm install -D esbuild` (it is an optional peer dependency of durable-tasks).',
  );
}
