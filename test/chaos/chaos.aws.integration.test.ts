/**
 * The chaos suite over the AWS adapters: DynamoRunStore on dynalite and SqsDispatcher on fauxqs (both on
 * loopback), with the in-process timers and bus on the same virtual clock as the memory suite. Fewer runs
 * (every call is an HTTP request); `CHAOS_AWS_RUNS` for more, `CHAOS_AWS_BASE_SEED` for other seeds.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoRunStore } from '../../sdk/adapters/aws/dynamo-store.ts';
import { SqsDispatcher } from '../../sdk/adapters/aws/sqs-dispatcher.ts';
import { ensureTable } from '../../sdk/adapters/aws/table-setup.ts';
import { createQueue, dynamoClient, sqsClient, startDynalite, startFauxqs, type LocalServer } from '../support/servers.ts';
import { runSchedule } from './driver.ts';
import { PROFILES } from './profiles.ts';
import { describeFailure, type ScheduleReport } from './report.ts';
import type { BackendFactory } from './world.ts';
import { dynamoRawEntries } from './raw-journal.ts';
import { summarize } from './summary.ts';

const RUNS_PER_SCHEDULE = 6;
const totalRuns = Number(process.env.CHAOS_AWS_RUNS ?? 24);
const baseSeed = Number(process.env.CHAOS_AWS_BASE_SEED ?? 9_001);

let dynalite: LocalServer;
let fauxqs: LocalServer;
let dynamodb: DynamoDBClient;
let sqs: SQSClient;

beforeAll(async () => {
  [dynalite, fauxqs] = await Promise.all([startDynalite(), startFauxqs()]);
  dynamodb = dynamoClient(dynalite.endpoint);
  sqs = sqsClient(fauxqs.endpoint);
});
afterAll(async () => {
  dynamodb?.destroy();
  sqs?.destroy();
  await Promise.all([dynalite?.stop(), fauxqs?.stop()]);
});

/** A fresh table and queue per schedule; the store reads the virtual clock (TTL filtering, sweep index). */
const awsBackend: BackendFactory = async (clock) => {
  const tableName = `chaos-${randomUUID()}`;
  await ensureTable(dynamodb, tableName);
  const queueUrl = await createQueue(sqs, `chaos-${randomUUID()}`);
  const store = new DynamoRunStore({ client: dynamodb, tableName, now: () => clock.now() });
  return {
    store,
    inspect: store,
    rawEntries: (runId) => dynamoRawEntries(dynamodb, tableName, runId),
    transport: new SqsDispatcher({ client: sqs, queueUrl }),
    close: async () => undefined,
  };
};

describe('chaos (aws adapters on dynalite + fauxqs, virtual clock)', () => {
  // Ten minutes per 24 runs: every call is an HTTP request, and a shared machine may be slow.
  test('every run reaches its oracle outcome and the invariants hold', { timeout: Math.max(1, totalRuns / 24) * 10 * 60_000 }, async () => {
    const reports: ScheduleReport[] = [];
    const failed: string[] = [];
    const schedules = Math.max(1, Math.ceil(totalRuns / RUNS_PER_SCHEDULE));
    for (let i = 0; i < schedules; i++) {
      const seed = baseSeed + i;
      const profile = { ...PROFILES[seed % PROFILES.length]!, realDelayMs: 3 };
      const report = await runSchedule({ seed, runs: RUNS_PER_SCHEDULE, profile, factory: awsBackend });
      reports.push(report);
      if (report.failures.length) {
        console.error(describeFailure(report, `CHAOS_AWS_BASE_SEED=${seed} CHAOS_AWS_RUNS=${RUNS_PER_SCHEDULE} npx vitest run test/chaos/chaos.aws.integration.test.ts`));
        failed.push(`seed ${report.seed} (${profile.name}): ${report.failures[0]}`);
      }
    }
    console.log(summarize('aws', reports));
    expect(failed).toEqual([]);
  });
});
