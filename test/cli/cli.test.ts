/**
 * The `durable` command end to end: the real binary (bin/durable.js) as a child process, against a dev server
 * started in this process over a test-environment client. Output is piped, so it must be plain text.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ANSI, runCli, runMain, spawnCli, startHarness, waitFor, type Harness } from './helpers.ts';

let h: Harness;
let url: string;
beforeAll(async () => {
  h = await startHarness();
  url = h.server.url;
});
afterAll(() => h?.close());

const json = (stdout: string) => JSON.parse(stdout.trim());

describe('help and usage', () => {
  test('`durable --help` lists every command; `durable <command> --help` shows its usage and options', async () => {
    const [global, push, runs] = await Promise.all([runCli(['--help']), runMain(['push', '--help']), runMain(['runs', 'list', '-h'])]);
    expect(global.code).toBe(0);
    for (const name of ['dev', 'runs list', 'runs get', 'runs cancel', 'runs fork', 'start', 'push', 'tail']) expect(global.stdout).toContain(`  ${name} `);
    expect(push.code).toBe(0);
    expect(push.stdout).toMatch(/^usage: durable push KEY \[JSON\]/);
    expect(push.stdout).toContain('--scope S');
    expect(runs.stdout).toContain('--status S');
  });

  test('a usage mistake exits 2 and points to --help', async () => {
    const [missing, unknown, status, badJson] = await Promise.all([
      runCli(['runs', 'get', '--url', url]),
      runMain(['frobnicate']),
      runMain(['runs', 'list', '--status', 'DONE', '--url', url]),
      runMain(['start', 'x', '{bad', '--url', url]),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing RUN_ID');
    expect(missing.stderr).toContain('durable runs get --help');
    expect(unknown.code).toBe(2);
    expect(status.stderr).toContain("unknown status 'DONE'");
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain('the input is not valid JSON');
  });
});

describe('against a dev server (--url), piped output', () => {
  test('start, runs get, push, then tail follows the run to SUCCEEDED and exits 0', async () => {
    const started = await runCli(['start', 'process-order', '{"orderId":"cli-1","amount":9}', '--url', url, '--json']);
    expect(started.code).toBe(0);
    const { runId } = json(started.stdout);
    await h.env.settle();

    const got = await runCli(['runs', 'get', runId, '--url', url, '--json']);
    expect(got.code).toBe(0);
    expect(json(got.stdout)).toMatchObject({ runId, name: 'process-order', status: 'WAITING' });

    const tail = spawnCli(['tail', runId, '--url', url]);
    await waitFor(() => tail.output().includes("waiting for event 'order:shipped'"), 10_000, 'tail to show the wait');
    const pushed = await runCli(['push', 'order:shipped', '{"orderId":"cli-1"}', '--scope', 'tenant-a', '--url', url, '--json']);
    expect(pushed.code).toBe(0);
    expect(json(pushed.stdout).eventId).toEqual(expect.any(String));
    await h.env.settle();
    await h.env.advanceTime('1h');

    expect(await tail.exited).toBe(0);
    const out = tail.output();
    expect(out).toContain('process-order');
    expect(out).toMatch(/✓ step reserve-stock → \{"sku":"sku-42","reserved":true\}/);
    expect(out).toMatch(/✓ child charge-card run \S+ → \{"charged":9/);
    expect(out).toContain('… event order:shipped waiting for event \'order:shipped\' if input.orderId == "cli-1" (scope tenant-a)');
    expect(out).toContain('✓ event order:shipped');
    expect(out).toMatch(/SUCCEEDED in .+ → \{"orderId":"cli-1"/);
    expect(out).not.toMatch(ANSI);
  });

  test('tail exits 1 when the run does not succeed; --json prints one JSON object per line ending with `end`', async () => {
    const { body } = await post('/api/runs', { name: 'always-fails', input: {} });
    await h.env.settle();
    const [plain, lines] = await Promise.all([runCli(['tail', body.runId, '--url', url]), runCli(['tail', body.runId, '--url', url, '--json'])]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain('FAILED after');
    expect(plain.stdout).toContain('Error: the card was declined');
    expect(lines.code).toBe(1);
    const parsed = lines.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(parsed.at(-1)).toMatchObject({ type: 'end', run: { runId: body.runId, status: 'FAILED' } });
  });

  test('runs list as a table and as JSON, with filters', async () => {
    await post('/api/runs', { name: 'await-approval', input: { doc: 'list' } });
    await h.env.settle();
    const [table, filtered] = await Promise.all([
      runCli(['runs', 'list', '--url', url]),
      runCli(['runs', 'list', '--status', 'waiting', '--name', 'await-approval', '--limit', '5', '--url', url, '--json']),
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^STATUS\s+NAME\s+RUN ID\s+CREATED\s+DURATION$/);
    expect(table.stdout).toMatch(/WAITING\s+await-approval/);
    expect(table.stdout).not.toMatch(ANSI);
    const runs = json(filtered.stdout) as { name: string; status: string }[];
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.length).toBeLessThanOrEqual(5);
    expect(runs.every((r) => r.name === 'await-approval' && r.status === 'WAITING')).toBe(true);
  });

  test('runs get prints the timeline as plain text; runs cancel cancels', async () => {
    const { body } = await post('/api/runs', { name: 'await-approval', input: { doc: 'cancel' } });
    await h.env.settle();
    const shown = await runCli(['runs', 'get', body.runId, '--url', url]);
    expect(shown.stdout).toContain('await-approval  WAITING');
    expect(shown.stdout).toMatch(/… wait doc:approved\|sleep-1d waiting for event 'doc:approved' if input.doc == "cancel" or sleep until /);
    expect(shown.stdout).not.toMatch(ANSI);
    const cancelled = await runCli(['runs', 'cancel', body.runId, '--url', url]);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain('cancelled await-approval');
    const asJson = await runCli(['runs', 'cancel', body.runId, '--url', url, '--json']);
    expect(json(asJson.stdout)).toMatchObject({ runId: body.runId, status: 'CANCELLED' });
  });

  test('runs fork RUN_ID --from-step NAME forks a failed run; a missing --from-step is a usage error', async () => {
    let prepared = 0;
    let broken = true;
    h.env.durable.durableTask({
      name: 'cli-fork',
      retries: 0,
      fn: async (_: unknown, ctx) => {
        await ctx.step('prepare', () => ++prepared);
        return ctx.step('charge', () => {
          if (broken) throw new Error('declined');
          return 'paid';
        });
      },
    });
    const { body } = await post('/api/runs', { name: 'cli-fork', input: {} });
    await h.env.settle();
    broken = false;
    const forked = await runCli(['runs', 'fork', body.runId, '--from-step', 'charge', '--url', url]);
    expect(forked.code).toBe(0);
    const runId = /new run (\S+)$/m.exec(forked.stdout)?.[1];
    expect(forked.stdout).toContain(`forked ${body.runId} from step 'charge'`);
    await h.env.settle();
    expect(await h.env.durable.runs.get(runId!)).toMatchObject({ status: 'SUCCEEDED', output: 'paid', metadata: { forkedFrom: body.runId } });
    const asJson = await runCli(['runs', 'fork', body.runId, '--from-step', 'prepare', '--url', url, '--json']);
    expect(json(asJson.stdout)).toEqual({ runId: expect.any(String), forkedFrom: body.runId });
    await h.env.settle();
    expect(prepared).toBe(2);
    const missing = await runMain(['runs', 'fork', body.runId, '--url', url]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--from-step NAME');
    const unknown = await runCli(['runs', 'fork', body.runId, '--from-step', 'nope', '--url', url]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('StepNotFoundError');
    // With a key, running the command again prints the first fork instead of making another.
    const keyed = await Promise.all([1, 2].map(() => runCli(['runs', 'fork', body.runId, '--from-step', 'charge', '--idempotency-key', 'fix-7', '--url', url, '--json'])));
    expect(json(keyed[1]!.stdout).runId).toBe(json(keyed[0]!.stdout).runId);
    await h.env.settle();
    expect(await h.env.durable.runs.get(json(keyed[0]!.stdout).runId)).toMatchObject({ status: 'SUCCEEDED', idempotencyKey: 'fix-7' });
    expect((await h.env.durable.runs.list({ name: 'cli-fork' })).length).toBe(4);
    const badKey = await runCli(['runs', 'fork', body.runId, '--from-step', 'charge', '--idempotency-key', 'k'.repeat(513), '--url', url]);
    expect(badKey.code).not.toBe(0);
    expect(badKey.stderr).toContain('idempotencyKey must be a non-empty string');
  });

  test('runs list hides DAG task runs unless --task-runs', async () => {
    const { body } = await post('/api/runs', { name: 'etl-pipeline', input: {} });
    await h.env.settle();
    const taskRuns = (await h.env.durable.runs.list({ limit: 1000 })).filter((r) => r.workflowRunId === body.runId);
    expect(taskRuns.length).toBe(5);
    const [plain, all, table] = await Promise.all([
      runCli(['runs', 'list', '--limit', '1000', '--url', url, '--json']),
      runCli(['runs', 'list', '--limit', '1000', '--task-runs', '--url', url, '--json']),
      runCli(['runs', 'list', '--url', url]),
    ]);
    const ids = (out: string) => (json(out) as { runId: string }[]).map((r) => r.runId);
    expect(ids(plain.stdout)).toContain(body.runId);
    for (const t of taskRuns) expect(ids(plain.stdout)).not.toContain(t.runId);
    expect(ids(all.stdout)).toEqual(expect.arrayContaining([body.runId, ...taskRuns.map((t) => t.runId)]));
    expect(table.stdout).toContain(body.runId);
    for (const t of taskRuns) expect(table.stdout).not.toContain(t.runId);
  });

  test('runs get shows a pending sleep as sleeping until its due time, not done', async () => {
    const { body } = await post('/api/runs', { name: 'process-order', input: { orderId: 'cli-sleep', amount: 3 } });
    await h.env.settle();
    await runCli(['push', 'order:shipped', '{"orderId":"cli-sleep"}', '--scope', 'tenant-a', '--url', url]);
    await h.env.settle();
    const run = await h.env.durable.runs.get(body.runId);
    expect(run.status).toBe('WAITING');
    const due = run.operations.find((o) => o.kind === 'sleep')!.dueAt!;
    expect(Date.parse(due)).toBeGreaterThan(h.env.now().getTime());
    const shown = await runCli(['runs', 'get', body.runId, '--url', url]);
    expect(shown.stdout).toContain(`… sleep sleeping until ${due}`);
    expect(shown.stdout).not.toMatch(/✓ sleep/);
    const asJson = await runCli(['runs', 'get', body.runId, '--url', url, '--json']);
    expect(json(asJson.stdout).operations.find((o: { kind: string }) => o.kind === 'sleep')).toMatchObject({ status: 'sleeping', dueAt: due });
    await h.env.advanceTime('1h');
    const after = await runCli(['runs', 'get', body.runId, '--url', url]);
    expect(after.stdout).toContain(`✓ sleep woke at ${due}`);
  });

  test('push reads the payload from stdin with -; start --tail follows the run', async () => {
    const { body } = await post('/api/runs', { name: 'await-approval', input: { doc: 'stdin' } });
    await h.env.settle();
    const pushed = await runCli(['push', 'doc:approved', '-', '--url', url], { input: '{"doc":"stdin"}' });
    expect(pushed.stdout).toMatch(/^pushed doc:approved event \S+\n$/);
    await h.env.settle();
    expect((await h.env.durable.runs.get(body.runId)).status).toBe('SUCCEEDED');
    const startTail = await runCli(['start', 'charge-card', '{"amount":4}', '--tail', '--url', url]);
    expect(startTail.code).toBe(0);
    expect(startTail.stdout).toMatch(/^started charge-card \S+\n/);
    expect(startTail.stdout).toContain('SUCCEEDED in');
  });

  test('DURABLE_URL is the default target', async () => {
    const res = await runMain(['runs', 'list', '--json', '--limit', '1'], { env: { DURABLE_URL: url } });
    expect(res.code).toBe(0);
    expect(json(res.stdout)).toHaveLength(1);
  });

  test('errors: exit 1 with the error name and message; --json prints { error } on stdout', async () => {
    const [plain, asJson, unknownTask, down] = await Promise.all([
      runCli(['runs', 'get', 'no-such-run', '--url', url]),
      runCli(['runs', 'get', 'no-such-run', '--url', url, '--json']),
      runMain(['start', 'nope', '--url', url]),
      runMain(['runs', 'list', '--url', 'http://127.0.0.1:9']),
    ]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toBe("error: RunNotFoundError: run 'no-such-run' not found\n");
    expect(asJson.code).toBe(1);
    expect(json(asJson.stdout)).toEqual({ error: { name: 'RunNotFoundError', message: "run 'no-such-run' not found" } });
    expect(unknownTask.stderr).toMatch(/^error: TaskNotFoundError: /);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach a durable dev server at http://127.0.0.1:9');
    expect(down.stderr).toContain('npx durable dev');
  });
});

describe('colour', () => {
  test('on a TTY the output is coloured; NO_COLOR or a pipe turns it off', async () => {
    await post('/api/runs', { name: 'charge-card', input: { amount: 1 } });
    await h.env.settle();
    const args = ['runs', 'list', '--url', url];
    const tty = await runMain(args, { isTTY: true });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toMatch(ANSI);
    expect((await runMain(args, { isTTY: true, env: { NO_COLOR: '1' } })).stdout).not.toMatch(ANSI);
    expect((await runMain(args, { isTTY: false })).stdout).not.toMatch(ANSI);
  });
});

describe('`durable dev` as a process', () => {
  test('serves the entry module on 127.0.0.1, runs what it defines, and stops on SIGINT', async () => {
    const dev = spawnCli(['dev', '--entry', 'test/cli/fixtures/entry.ts', '--port', '0', '--json']);
    try {
      const line = await waitFor(() => dev.output().split('\n').find((l) => l.startsWith('{"url"')), 15_000, `the dev server to start; output: ${dev.output()}`);
      const banner = JSON.parse(line) as { url: string; definitions: string[] };
      expect(banner.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(banner.definitions).toEqual(expect.arrayContaining(['process-order', 'etl-pipeline']));
      const started = await runCli(['start', 'charge-card', '{"amount":2}', '--tail', '--url', banner.url]);
      expect(started.code).toBe(0);
      expect(started.stdout).toContain('SUCCEEDED');
    } finally {
      dev.kill('SIGINT');
    }
    expect(await dev.exited).toBe(0);
  });

  test('a missing entry file is a clear error', async () => {
    const res = await runMain(['dev', '--entry', 'test/cli/fixtures/missing.ts', '--port', '0']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('no entry file at');
    expect(res.stderr).toContain('export const durable');
  });
});

async function post(path: string, body: unknown) {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { runId: string } };
}
