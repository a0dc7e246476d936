/**
 * The worker Lambda bundle: functions/worker.ts built the way the DurableTasks construct builds it
 * (infra/constructs/bundling.ts: esbuild, minified ESM, node22, the user's module aliased in, dynalite/fauxqs
 * and the CDK never bundled), with the runtime's AWS SDK left out (the construct's default, `bundleAwsSdk:
 * false`) and with it inside (`bundleAwsSdk: true`). Cold import time: a fresh `node` process importing the bundle with the construct's environment
 * variables set (so the module takes the `Durable.fromEnv()` path, as on Lambda), median of 5.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { median, round } from '../lib/stats.ts';
import { figure, type BenchOptions, type Row } from '../lib/types.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = join(ROOT, 'bench', '.out');

/** What infra/constructs/bundling.ts says, read from it so the bench measures what `cdk deploy` ships. */
async function bundlingFacts() {
  try {
    const m = await import('../../infra/constructs/bundling.ts');
    const constants = await import('../../sdk/adapters/aws/env.ts');
    return {
      entry: m.FUNCTION_ENTRIES.worker,
      neverBundled: [...m.NEVER_BUNDLED],
      awsSdk: [...m.AWS_SDK_MODULES],
      banner: m.ESM_REQUIRE_BANNER,
      target: m.ESBUILD_TARGET,
      userEntryModule: constants.USER_ENTRY_MODULE,
      env: constants.ENV,
    };
  } catch (error) {
    throw new Error(`bundle: cannot read infra/constructs/bundling.ts (${(error as Error).message})`);
  }
}

export async function bundle(options: BenchOptions): Promise<Row> {
  const facts = await bundlingFacts();
  const esbuild = await import('esbuild');
  mkdirSync(OUT, { recursive: true });
  const build = async (withSdk: boolean) => {
    const outfile = join(OUT, withSdk ? 'worker-with-sdk.mjs' : 'worker-runtime-sdk.mjs');
    await esbuild.build({
      entryPoints: [facts.entry],
      outfile,
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'node',
      target: facts.target,
      mainFields: ['module', 'main'],
      banner: { js: facts.banner },
      external: [...facts.neverBundled, ...(withSdk ? [] : facts.awsSdk)],
      alias: { [facts.userEntryModule]: join(ROOT, 'examples', 'worker.ts') },
      logLevel: 'silent',
    });
    return outfile;
  };
  const withSdk = await build(true);
  const runtimeSdk = await build(false);
  const kb = (file: string) => round(statSync(file).size / 1024, 1);
  const gzKb = (file: string) => round(gzipSync(readFileSync(file)).length / 1024, 1);
  const runs = options.quick ? 1 : 5;
  const coldWith = coldImport(withSdk, runs, facts.env);
  const coldRuntime = coldImport(runtimeSdk, runs, facts.env);
  return {
    workload: 'bundle',
    system: 'worker Lambda',
    figures: [
      figure('bundle, runtime AWS SDK (construct default)', kb(runtimeSdk), 'KB'),
      figure('cold import (SDK from node_modules)', round(median(coldRuntime)), 'ms'),
      figure('bundle, AWS SDK inside (bundleAwsSdk: true)', kb(withSdk), 'KB'),
      figure('gzipped', gzKb(withSdk), 'KB'),
      figure('cold import', round(median(coldWith)), 'ms'),
    ],
    notes: [
      'esbuild minified ESM, node22, as infra/constructs/bundling.ts; user entry = examples/worker.ts',
      `cold import = fresh node process, import() of the bundle with the construct's env vars set, median of ${runs}`,
    ],
    data: { withSdk: { bytes: statSync(withSdk).size, coldMs: coldWith }, runtimeSdk: { bytes: statSync(runtimeSdk).size, coldMs: coldRuntime } },
  };
}

function coldImport(file: string, runs: number, env: Record<string, string>): number[] {
  const vars: Record<string, string> = {
    [env.tableName!]: 'durable-tasks',
    [env.queueUrl!]: 'https://sqs.us-east-1.amazonaws.com/123456789012/durable-tasks',
    [env.queueArn!]: 'arn:aws:sqs:us-east-1:123456789012:durable-tasks',
    [env.eventBusName!]: 'durable-tasks',
    [env.scheduleGroup!]: 'durable-tasks',
    [env.schedulerRoleArn!]: 'arn:aws:iam::123456789012:role/durable-tasks-scheduler',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
  };
  const script = `const t=performance.now();await import(${JSON.stringify(`file://${file}`)});process.stdout.write(String(performance.now()-t));`;
  const probe = join(dirname(file), 'cold-import.mjs');
  writeFileSync(probe, script);
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, ['--no-warnings', probe], { env: { PATH: process.env.PATH ?? '', ...vars }, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`cold import of ${file} failed: ${r.stderr.slice(0, 500)}`);
    out.push(Number(r.stdout));
  }
  return out.map((v) => round(v));
}
