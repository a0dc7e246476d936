import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { USER_ENTRY_MODULE } from '../../sdk/adapters/aws/env.ts';
import {
  AWS_SDK_MODULES,
  ESBUILD_TARGET,
  ESM_REQUIRE_BANNER,
  FUNCTION_ENTRIES,
  NEVER_BUNDLED,
} from '../../infra/constructs/bundling.ts';
import { FIXTURE_ENTRY } from './support.ts';

const EXAMPLES_WORKER = fileURLToPath(new URL('../../examples/worker.ts', import.meta.url));

/** Bundles a handler the way the construct's NodejsFunction does (same externals, alias, target, format). */
async function bundle(handler: string, userEntry: string, bundleAwsSdk: boolean) {
  const result = await build({
    entryPoints: [handler],
    bundle: true,
    write: false,
    metafile: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: ESBUILD_TARGET,
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    alias: { [USER_ENTRY_MODULE]: userEntry },
    external: [...NEVER_BUNDLED, ...(bundleAwsSdk ? [] : AWS_SDK_MODULES)],
    outfile: 'index.mjs',
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  return { bytes: output!.contents.byteLength, text: output!.text, metafile: result.metafile };
}

const inputs = (metafile: Metafile) => Object.keys(metafile.inputs);
const externalImports = (metafile: Metafile) =>
  Object.values(metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

describe('given the worker handler bundled with the fixture as the user entry', () => {
  it('then it builds, holds the fixture, carries no dynalite or fauxqs code, and its size is printed', async () => {
    const { bytes, metafile } = await bundle(FUNCTION_ENTRIES.worker, FIXTURE_ENTRY, true);
    console.log(`worker bundle (fixture entry, minified): ${kib(bytes)}`);
    expect(inputs(metafile).some((path) => path.endsWith('test/infra/fixtures/user-entry.ts'))).toBe(true);
    expect(inputs(metafile).filter((path) => /node_modules\/(dynalite|fauxqs)\//.test(path))).toEqual([]);
    expect(bytes).toBeGreaterThan(0);
  });

  it('then every handler file imports the user entry only, never aws-cdk-lib or constructs', async () => {
    for (const handler of Object.values(FUNCTION_ENTRIES)) {
      const source = readFileSync(handler, 'utf8');
      expect(source, handler).toContain(`from '${USER_ENTRY_MODULE}'`);
      expect(source, handler).not.toMatch(/aws-cdk-lib|from 'constructs'/);
      const { metafile } = await bundle(handler, FIXTURE_ENTRY, true);
      expect(externalImports(metafile), handler).toEqual([]);
    }
  });
});

describe.skipIf(!existsSync(EXAMPLES_WORKER))('given the worker handler bundled with examples/worker.ts (what cdk deploy ships)', () => {
  it('then with the AWS SDK bundled it builds, keeps dynalite and fauxqs out (not even referenced: Durable.local loads them at run time only)', async () => {
    const { bytes, metafile } = await bundle(FUNCTION_ENTRIES.worker, EXAMPLES_WORKER, true);
    console.log(`worker bundle (examples/worker.ts, minified, AWS SDK bundled): ${kib(bytes)}`);
    expect(inputs(metafile).filter((path) => /node_modules\/(dynalite|fauxqs)\//.test(path))).toEqual([]);
    expect(inputs(metafile).some((path) => path.includes('node_modules/@aws-sdk/client-dynamodb/'))).toBe(true);
    // The embedded default's module is imported through a specifier esbuild cannot read (sdk/durable.ts), so the
    // bundle neither holds it nor imports dynalite or fauxqs (NEVER_BUNDLED stays as a second line of defence).
    expect(inputs(metafile).filter((path) => path.includes('sdk/local/'))).toEqual([]);
    expect(externalImports(metafile).filter((path) => /^(dynalite|fauxqs|fastify|tsx)/.test(path))).toEqual([]);
    expect(externalImports(metafile).filter((path) => /^(aws-cdk-lib|constructs)/.test(path))).toEqual([]);
  });

  it('then with the runtime AWS SDK it builds without any @aws-sdk or @smithy code', async () => {
    const { bytes, metafile } = await bundle(FUNCTION_ENTRIES.worker, EXAMPLES_WORKER, false);
    console.log(`worker bundle (examples/worker.ts, minified, AWS SDK from the runtime): ${kib(bytes)}`);
    expect(inputs(metafile).filter((path) => /node_modules\/@(aws-sdk|smithy)\//.test(path))).toEqual([]);
    expect(inputs(metafile).filter((path) => /node_modules\/(dynalite|fauxqs)\//.test(path))).toEqual([]);
  });
});
