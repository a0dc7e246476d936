/**
 * The CLI's `--aws` mode calls a `Durable` client directly (DirectApi over `Durable.fromEnv()`): the same
 * adapter, here over a test-environment client.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { DirectApi } from '../../cli/api/direct-api.ts';
import { Durable } from '../../sdk/index.ts';
import { createTestEnvironment, type TestEnvironment } from '../../sdk/testing/index.ts';
import { defineFixtures } from './fixtures/definitions.ts';
import { runCli } from './helpers.ts';

let env: TestEnvironment;
let api: DirectApi;
beforeAll(async () => {
  env = await createTestEnvironment();
  defineFixtures(env.durable);
  api = new DirectApi(Promise.resolve(env.durable), 'test', 10);
});
afterAll(() => env?.close());

test('lists, gets, cancels, pushes and follows runs through the client', async () => {
  const a = await env.durable.engine.start('await-approval', { doc: 'direct' });
  const b = await env.durable.engine.start('await-approval', { doc: 'other' });
  await env.settle();
  expect((await api.listRuns({ name: 'await-approval', status: 'WAITING' })).map((r) => r.runId).sort()).toEqual([a.runId, b.runId].sort());
  const details = await api.getRun(a.runId);
  expect(details).toMatchObject({ runId: a.runId, status: 'WAITING', createdAt: env.now().toISOString() });

  const updates: string[] = [];
  const followed = api.follow(a.runId, (run) => updates.push(run.status));
  await api.push('doc:approved', { doc: 'direct' }, {});
  await env.settle();
  expect((await followed).status).toBe('SUCCEEDED');
  expect(updates.at(0)).toBe('WAITING');
  expect(updates.at(-1)).toBe('SUCCEEDED');

  expect((await api.cancelRun(b.runId)).status).toBe('CANCELLED');
  await expect(api.getRun('nope')).rejects.toMatchObject({ name: 'RunNotFoundError' });
});

test('forks through a client that does not define the task (`durable runs fork --aws`); the worker runs the current code', async () => {
  let calls = 0;
  env.durable.durableTask({ name: 'direct-fork', fn: async (_: unknown, ctx) => [await ctx.step('a', () => ++calls), await ctx.step('b', () => ++calls)] });
  const run = await env.durable.engine.start('direct-fork', {});
  await env.settle();
  const bare = new Durable({ backend: await env.durable.engine.backend(), embeddedWorker: 'none', log: () => undefined });
  const direct = new DirectApi(Promise.resolve(bare), 'aws', 10);
  const fork = await direct.forkRun(run.runId, 'b');
  expect(fork.forkedFrom).toBe(run.runId);
  await env.settle();
  expect(await api.getRun(fork.runId)).toMatchObject({ status: 'SUCCEEDED', output: [1, 3], metadata: { forkedFrom: run.runId, forkedFromStep: 'b' } });
  await expect(direct.forkRun(run.runId, 'c')).rejects.toMatchObject({ name: 'StepNotFoundError' });
});

test('exports a run\'s history (what `durable runs export --aws` prints)', async () => {
  const run = await env.durable.engine.start('await-approval', { doc: 'exported' });
  await env.settle();
  const history = await api.exportRun(run.runId);
  expect(history).toMatchObject({ format: 1, runId: run.runId, name: 'await-approval', status: 'WAITING', input: { doc: 'exported' } });
  expect(history.entries.map((e) => `${e.kind}:${e.status}`)).toEqual(['wait:pending']);
  await expect(api.exportRun('nope')).rejects.toMatchObject({ name: 'RunNotFoundError' });
});

test('start is refused with a message saying why and what to do instead', async () => {
  await expect(api.start('charge-card')).rejects.toMatchObject({ name: 'UnsupportedError', message: expect.stringContaining('needs the task') });
});

test('`durable runs list --aws` goes through Durable.fromEnv(): without its environment it fails, naming it', async () => {
  // No DURABLE_* or AWS_* variables: nothing here may reach a real AWS account.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('DURABLE_') && !key.startsWith('AWS_')) env[key] = value;
  const res = await runCli(['runs', 'list', '--aws'], { env, replaceEnv: true });
  expect(res.code).toBe(1);
  expect(res.stderr).toMatch(/^error: \w*Error: .*fromEnv/);
});
