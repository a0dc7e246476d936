/**
 * `durable dev` as a process on the embedded default: it prints its DynamoDB, SQS and EventBridge endpoints as
 * AWS_ENDPOINT_URL_* lines (and the DURABLE_* names), and with exactly those lines another process's
 * `Durable.fromEnv()`, the `durable --aws` CLI and the `aws` CLI work against it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import { REPO, runCli, spawnCli, waitFor } from './helpers.ts';

const AWS_CLI = await new Promise<boolean>((resolve) => execFile('aws', ['--version'], (error) => resolve(!error)));
if (!AWS_CLI) console.warn('\n*** SKIPPED: the `aws` CLI is not on PATH, so `aws events put-events` against `durable dev` is NOT tested here (the CI image has it) ***\n');

let dir: string;
let dev: ReturnType<typeof spawnCli>;
let env: Record<string, string>;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'durable-dev-endpoints-'));
  // --port 0: free ports for all three servers, so parallel test files never collide.
  dev = spawnCli(['dev', '--entry', 'test/cli/fixtures/entry.ts', '--port', '0', '--dir', dir], { DURABLE_FIXTURE_BACKEND: 'local' });
  await waitFor(() => /^DURABLE_SCHEDULER_ROLE_ARN=/m.test(dev.output()), 30_000, `durable dev to print its endpoints; output: ${dev.output()}`);
  env = Object.fromEntries(
    dev
      .output()
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  url = env.AWS_ENDPOINT_URL_EVENTBRIDGE!;
}, 40_000);

afterAll(async () => {
  dev?.kill('SIGINT');
  await dev?.exited;
  rmSync(dir, { recursive: true, force: true });
});

/** The printed lines as the whole environment of a child (plus PATH and HOME): nothing else leaks in. */
function childEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...(process.env.AWS_CA_BUNDLE ? { AWS_CA_BUNDLE: process.env.AWS_CA_BUNDLE } : {}), ...env };
}

async function api(path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.json();
}

describe('durable dev prints its endpoints', () => {
  test('three AWS_ENDPOINT_URL_* lines on 127.0.0.1 ports that answer, and the DURABLE_* names Durable.fromEnv() reads', async () => {
    for (const name of ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_SQS', 'AWS_ENDPOINT_URL_EVENTBRIDGE']) expect(env[name]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new Set([env.AWS_ENDPOINT_URL_DYNAMODB, env.AWS_ENDPOINT_URL_SQS, env.AWS_ENDPOINT_URL_EVENTBRIDGE]).size).toBe(3);
    expect(env).toMatchObject({ DURABLE_TABLE_NAME: 'durable-tasks', DURABLE_EVENT_BUS_NAME: 'durable-tasks' });
    expect(env.DURABLE_QUEUE_URL).toContain(`:${new URL(env.AWS_ENDPOINT_URL_SQS!).port}/`);
    // Real sockets: dynalite answers ListTables over HTTP, fauxqs answers GetQueueUrl.
    const config = { region: env.AWS_REGION!, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! } };
    const dynamodb = new DynamoDBClient({ ...config, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB! });
    const sqs = new SQSClient({ ...config, endpoint: env.AWS_ENDPOINT_URL_SQS! });
    try {
      expect((await dynamodb.send(new ListTablesCommand({}))).TableNames).toEqual(['durable-tasks']);
      expect(new URL((await sqs.send(new GetQueueUrlCommand({ QueueName: 'durable-tasks-dispatch' }))).QueueUrl!).pathname).toBe(new URL(env.DURABLE_QUEUE_URL!).pathname);
    } finally {
      dynamodb.destroy();
      sqs.destroy();
    }
  });

  test('with only those lines, a second process starts a run with Durable.fromEnv(), pushes its event through the EventBridge endpoint and reads the result', async () => {
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, ['--import', 'tsx', 'test/cli/fixtures/from-env-client.ts', 'second-process'], { cwd: REPO, env: childEnv(), timeout: 30_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout.trim().split('\n').pop()!) as { runId: string; waiting: string; output: any };
    expect(result.waiting).toBe('WAITING');
    expect(result.output).toEqual({ doc: 'second-process', decision: { 'doc:approved': { doc: 'second-process', by: 'from-env' } } });
    // The dev server (which executed it) shows the same run.
    expect(await api(`/api/runs/${encodeURIComponent(result.runId)}`)).toMatchObject({ status: 'SUCCEEDED', output: result.output });
    // And `durable ... --aws` reads it with the same lines.
    const cli = await runCli(['runs', 'get', result.runId, '--aws', '--json'], { env: childEnv(), replaceEnv: true });
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ runId: result.runId, status: 'SUCCEEDED' });
  }, 60_000);

  it.runIf(AWS_CLI)('`aws events put-events --endpoint-url` resumes a waiting run (aws CLI found on PATH)', async () => {
    const { runId } = await api('/api/runs', { name: 'await-approval', input: { doc: 'aws-cli' } });
    await waitFor(async () => (await api(`/api/runs/${encodeURIComponent(runId)}`)).status === 'WAITING', 15_000, 'the run to wait');
    const entries = [
      { EventBusName: env.DURABLE_EVENT_BUS_NAME, Source: 'durable-tasks', DetailType: 'durable-tasks.event', Detail: JSON.stringify({ key: 'doc:approved', payload: { doc: 'aws-cli', by: 'aws' } }) },
      { EventBusName: env.DURABLE_EVENT_BUS_NAME, Source: 'durable-tasks', DetailType: 'durable-tasks.event', Detail: '{"payload":{}}' },
    ];
    const out = await new Promise<{ error: Error | null; stdout: string; stderr: string }>((resolve) =>
      execFile('aws', ['events', 'put-events', '--endpoint-url', url, '--entries', JSON.stringify(entries), '--output', 'json'], { env: childEnv(), timeout: 30_000 }, (error, stdout, stderr) =>
        resolve({ error, stdout, stderr }),
      ),
    );
    expect(out.error, out.stderr).toBeNull();
    const response = JSON.parse(out.stdout) as { FailedEntryCount: number; Entries: Record<string, string>[] };
    expect(response.FailedEntryCount).toBe(1);
    expect(response.Entries[0]!.EventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.Entries[1]).toMatchObject({ ErrorCode: 'InvalidArgument', ErrorMessage: expect.stringContaining('detail.key') });
    const done = await waitFor(async () => {
      const run = await api(`/api/runs/${encodeURIComponent(runId)}`);
      return run.status === 'SUCCEEDED' ? run : undefined;
    }, 15_000, 'the run to resume');
    expect(done.output).toEqual({ doc: 'aws-cli', decision: { 'doc:approved': { doc: 'aws-cli', by: 'aws' } } });
  }, 60_000);
});
