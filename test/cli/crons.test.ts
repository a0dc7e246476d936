/**
 * `durable crons list | create | delete` against the dev server (a test-environment client), and the same
 * through the `--aws` mode's DirectApi.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DirectApi } from '../../cli/api/direct-api.ts';
import { runMain, startHarness, type Harness } from './helpers.ts';

describe('durable crons', () => {
  let h: Harness;
  let url: string;
  beforeAll(async () => {
    h = await startHarness();
    url = h.server.url;
    h.env.durable.task({ name: 'cron-target', on: { cron: '*/10 * * * *' }, fn: async (input: unknown) => ({ got: input }) });
  });
  afterAll(() => h.close());

  test('create, list (next tick, latest runs), delete', async () => {
    const created = await runMain(['crons', 'create', 'hourly', 'cron-target', '0 * * * *', '{"region":"eu"}', '--url', url]);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toContain('created cron hourly: 0 * * * * → cron-target, next 2030-01-01 01:00:00Z');
    await h.env.advanceTime('1h');

    const listed = await runMain(['crons', 'list', '--json', '--url', url]);
    expect(listed.code).toBe(0);
    const crons = JSON.parse(listed.stdout) as { name: string; next: string; declared: boolean; input: unknown; lastRuns: { runId: string; status: string; tick: string }[] }[];
    expect(crons.map((c) => [c.name, c.next, c.declared, c.input])).toEqual([
      ['cron-target:*/10 * * * *', '2030-01-01T01:10:00.000Z', true, {}],
      ['hourly', '2030-01-01T02:00:00.000Z', false, { region: 'eu' }],
    ]);
    expect(crons[1]!.lastRuns).toEqual([{ runId: 'cron:hourly:2030-01-01T01:00:00.000Z', status: 'SUCCEEDED', tick: '2030-01-01T01:00:00.000Z' }]);
    expect(crons[0]!.lastRuns.map((r) => r.tick)).toEqual([
      '2030-01-01T01:00:00.000Z',
      '2030-01-01T00:50:00.000Z',
      '2030-01-01T00:40:00.000Z',
      '2030-01-01T00:30:00.000Z',
      '2030-01-01T00:20:00.000Z',
    ]);

    const table = await runMain(['crons', 'list', '--url', url]);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+TASK\s+EXPRESSION\s+NEXT \(UTC\)\s+INPUT\s+LAST RUNS$/);
    expect(table.stdout).toMatch(/hourly\s+cron-target\s+0 \* \* \* \*\s+2030-01-01 02:00:00Z\s+\{"region":"eu"\}\s+SUCCEEDED/);

    expect(await runMain(['crons', 'delete', 'hourly', '--url', url])).toMatchObject({ code: 0, stdout: 'deleted cron hourly\n' });
    const after = JSON.parse((await runMain(['crons', 'list', '--json', '--url', url])).stdout) as { name: string }[];
    expect(after.map((c) => c.name)).toEqual(['cron-target:*/10 * * * *']);
  });

  test('bad input: typed errors, exit code 1; a missing argument is a usage error', async () => {
    const [unknown, bad, declared, missing] = await Promise.all([
      runMain(['crons', 'delete', 'nope', '--url', url]),
      runMain(['crons', 'create', 'bad', 'cron-target', '61 * * * *', '--url', url]),
      runMain(['crons', 'delete', 'cron-target:*/10 * * * *', '--url', url]),
      runMain(['crons', 'create', 'x', 'cron-target', '--url', url]),
    ]);
    expect(unknown).toMatchObject({ code: 1 });
    expect(unknown.stderr).toContain("CronNotFoundError: cron 'nope' not found");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("InvalidDefinitionError: cron 'bad': invalid cron expression '61 * * * *'");
    expect(declared.stderr).toContain('declared in code');
    expect(missing.code).toBe(2);
    await runMain(['crons', 'create', 'twice', 'cron-target', '0 0 * * *', '--url', url]);
    const twice = await runMain(['crons', 'create', 'twice', 'cron-target', '0 1 * * *', '--url', url]);
    expect(twice.stderr).toContain("CronAlreadyExistsError: a cron named 'twice' already exists");
  });

  test('`durable crons` lists its verbs; --help exits 0', async () => {
    const [bare, help] = await Promise.all([runMain(['crons']), runMain(['crons', '--help'])]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('usage: durable crons list|create|delete');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("durable crons create NAME TASK 'EXPRESSION' [JSON]");
  });

  test('the --aws mode (DirectApi on a client) gives the same view', async () => {
    const api = new DirectApi(Promise.resolve(h.env.durable), 'AWS');
    await api.createCron({ name: 'direct', task: 'cron-target', expression: '30 * * * *', input: { n: 1 } });
    const direct = (await api.listCrons()).find((c) => c.name === 'direct');
    expect(direct).toMatchObject({ task: 'cron-target', expression: '30 * * * *', input: { n: 1 }, declared: false, lastRuns: [] });
    await api.deleteCron('direct');
    await expect(api.deleteCron('direct')).rejects.toThrow(/not found/);
  });
});
