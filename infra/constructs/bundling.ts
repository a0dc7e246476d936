import { fileURLToPath } from 'node:url';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { USER_ENTRY_MODULE } from '../constants.ts';

/**
 * How the Lambda bundles are built: one place, read by the construct and by the bundle test, so the size the test
 * prints is the size `cdk deploy` ships.
 */

/** The three Lambda entry points, by role. infra knows them by path only: it never imports them. */
export const FUNCTION_ENTRIES = {
  worker: fileURLToPath(new URL('../../functions/worker.ts', import.meta.url)),
  eventRouter: fileURLToPath(new URL('../../functions/event-router.ts', import.meta.url)),
  sweeper: fileURLToPath(new URL('../../functions/sweeper.ts', import.meta.url)),
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
