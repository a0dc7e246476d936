/**
 * Micro-benchmark: what the engine's conditional run updates cost dynalite's expression parser, and what a
 * whole lease costs in CPU in-process. `npx tsx bench/micro/lease-condition.ts` (about 30 s).
 *
 * 1. Equivalence, on dynalite itself: each rewrite `dynamo-expressions.ts` applies (`attribute_not_exists(x) OR
 *    x < :v` → `NOT x >= :v`, `... OR x > :v` → `NOT x <= :v`, `... OR x <> :v` → `NOT x = :v`, one-value
 *    `IN (:v)` → `= :v`) is checked against the original on items where the attribute is missing, lower,
 *    equal, higher (or true/false), through real conditional UpdateItem requests. DynamoDB's rule — a
 *    comparison with a missing attribute is false — must hold in dynalite too, or the rewrite would change
 *    what the embedded default accepts.
 * 2. Parse CPU: dynalite's `validateExpressions` (the UpdateExpression and ConditionExpression parsers, the
 *    work dynalite does per request before touching LevelDB) on the expressions the store sends today for
 *    a lease, a suspend and a finish, and on the lease expressions as rendered before the rewrite (a
 *    literal, `LEGACY_LEASE`), median of 5 rounds.
 * 3. CPU per lease end to end: `DynamoRunStore.updateRun` with the executor's lease patch and condition
 *    against an in-memory dynalite in this process (SDK + HTTP + dynalite + LevelDB), process CPU time
 *    (user + system) over 1,000 sequential leases of QUEUED runs, median of 3 rounds.
 *
 * Prints one JSON object.
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ExpressionBuilder, runConditionExpression, runUpdateExpression } from '../../sdk/adapters/aws/dynamo-expressions.ts';
import { sweepPlanFor } from '../../sdk/adapters/aws/dynamo-sweep.ts';
import { planIntent } from '../../sdk/adapters/shared/run-intents.ts';
import { DynamoRunStore } from '../../sdk/adapters/aws/dynamo-store.ts';
import { ensureTable } from '../../sdk/adapters/aws/table-setup.ts';
import { newRunRecord } from '../../sdk/core/run-record.ts';
import type { RunIntent } from '../../sdk/ports.ts';
import { median, round } from '../lib/stats.ts';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: object) => import('node:http').Server;
const { validateExpressions } = require('dynalite/validations') as { validateExpressions(data: object): unknown };

const TABLE = 'micro';
const WORKER = 'worker-1';
const LEASE_MS = 30_000;

/** The executor's intents (sdk/core/executor.ts: processRun, suspendRun, finish). */
const leaseIntent = (now: number): RunIntent => ({ type: 'lease', owner: WORKER, until: now + LEASE_MS, now });
const suspendIntent = (now: number): RunIntent => ({ type: 'suspend', owner: WORKER, wake: 0, wakeAt: now + 1_000, now, ranMs: 3, parked: [] });
const finishIntent = (now: number): RunIntent => ({ type: 'finish', owner: WORKER, outcome: { status: 'SUCCEEDED', output: '1' }, now, ranMs: 3, parked: [] });

/** The request expressions `DynamoRunStore` sends for `intent`. */
function expressions(runId: string, intent: RunIntent, now: number) {
  const b = new ExpressionBuilder();
  const { patch, condition } = planIntent(intent);
  const ConditionExpression = runConditionExpression(b, condition, now);
  const UpdateExpression = runUpdateExpression(b, patch, sweepPlanFor(intent, now), 'SWEEP#0');
  return { ConditionExpression, UpdateExpression, ...b.params(), runId };
}

/**
 * The lease's expressions as the store rendered them before the rewrite (git b37b82d), for comparison:
 * three `attribute_not_exists(x) OR ...` groups in parentheses and one-value `IN` lists.
 */
const LEGACY_LEASE = {
  ConditionExpression:
    'attribute_exists(#a1) AND (attribute_not_exists(#a0) OR #a0 > :v0) AND (#a2 IN (:v1) OR #a2 IN (:v2) AND #a3 <> #a4 OR #a2 IN (:v3) AND #a5 <= :v4 OR #a2 IN (:v5) AND (attribute_not_exists(#a6) OR #a6 < :v6))',
  UpdateExpression: 'SET #a2 = :v7, #a7 = :v8, #a6 = :v9, #a8 = :v10, #a4 = #a3 REMOVE #a5',
  ExpressionAttributeNames: { '#a0': 'ttl', '#a1': 'pk', '#a2': 'status', '#a3': 'wake', '#a4': 'seen', '#a5': 'wakeAt', '#a6': 'leaseUntil', '#a7': 'leaseOwner', '#a8': 'updatedAt' },
  ExpressionAttributeValues: {
    ':v0': { N: '1700000000' },
    ':v1': { S: 'QUEUED' },
    ':v2': { S: 'WAITING' },
    ':v3': { S: 'WAITING' },
    ':v4': { N: '1700000000000' },
    ':v5': { S: 'RUNNING' },
    ':v6': { N: '1700000000000' },
    ':v7': { S: 'RUNNING' },
    ':v8': { S: WORKER },
    ':v9': { N: '1700000030000' },
    ':v10': { N: '1700000000000' },
  },
};

/** CPU ms (user + system) of `fn`. */
async function cpuMs(fn: () => unknown | Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await fn();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}

/**
 * CPU ms per call of `validateExpressions` for each named request: every form warmed up first, then
 * `rounds` rounds of `n` calls each, the forms interleaved (so JIT warm-up and GC favour none); medians.
 */
async function parseCpu(forms: Record<string, object>, n: number, rounds = 7): Promise<Record<string, number>> {
  for (const [name, data] of Object.entries(forms)) {
    const error = validateExpressions(structuredClone(data));
    if (error) throw new Error(`dynalite rejects the ${name} expressions: ${String(error)}`);
  }
  for (let i = 0; i < 300; i++) for (const data of Object.values(forms)) validateExpressions(structuredClone(data));
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(forms).map((name) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, data] of Object.entries(forms)) {
      const copies = Array.from({ length: n }, () => structuredClone(data));
      samples[name]!.push((await cpuMs(() => copies.forEach((c) => validateExpressions(c)))) / n);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, round(median(s), 4)]));
}

async function main() {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const client = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  });
  try {
    await ensureTable(client, TABLE);
    const equivalence = await checkEquivalence(client);

    const now = 1_700_000_000_000;
    const strip = ({ runId: _r, ...e }: ReturnType<typeof expressions>) => e;
    const lease = strip(expressions('r', leaseIntent(now), now));
    const suspend = strip(expressions('r', suspendIntent(now), now));
    const finish = strip(expressions('r', finishIntent(now), now));
    const parse = await parseCpu({ leaseBeforeRewrite: LEGACY_LEASE, lease, suspend, finish }, 300);

    const perLease = await leaseCpu(client, 1_000, 3);
    process.stdout.write(
      `${JSON.stringify(
        {
          node: process.version,
          equivalence,
          expressions: { lease: lease.ConditionExpression, suspend: suspend.ConditionExpression, finish: finish.ConditionExpression },
          parseCpuMsPerRequest: parse,
          leaseEndToEnd: perLease,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    client.destroy();
    await new Promise<void>((ok) => server.close(() => ok()));
  }
}

/** CPU ms per `updateRun` lease (SDK + HTTP + dynalite, same process), median of `rounds` rounds of `n`. */
async function leaseCpu(client: DynamoDBClient, n: number, rounds: number) {
  const store = new DynamoRunStore({ client, tableName: TABLE });
  const samples: number[] = [];
  const wall: number[] = [];
  for (let r = -1; r < rounds; r++) {
    const ids = Array.from({ length: n }, (_, i) => `lease-${r}-${i}`);
    for (const runId of ids) await store.createRun(newRunRecord({ runId, name: 'micro', input: '{}' }, Date.now()));
    const started = performance.now();
    const ms = await cpuMs(async () => {
      for (const runId of ids) {
        const now = Date.now();
        if (!(await store.lease(runId, { owner: WORKER, until: now + LEASE_MS, now }))) throw new Error(`lease of ${runId} refused`);
      }
    });
    if (r >= 0) {
      samples.push(ms / n);
      wall.push((performance.now() - started) / n);
    }
  }
  return { cpuMsPerLease: round(median(samples), 3), wallMsPerLease: round(median(wall), 3), samples: samples.map((s) => round(s, 3)) };
}

/**
 * Each rewrite against the original, on dynalite: same accept/reject on every case. A case is an item
 * (attributes besides the key) and the two conditions; `:v` is bound to `value`.
 */
async function checkEquivalence(client: DynamoDBClient) {
  type Attr = { N: string } | { S: string } | { BOOL: boolean } | undefined;
  const num = (n: number): Attr => ({ N: String(n) });
  const forms: { name: string; original: string; rewritten: string; value: Attr; states: Attr[] }[] = [
    { name: 'lease expired', original: 'attribute_not_exists(#x) OR #x < :v', rewritten: 'NOT #x >= :v', value: num(10), states: [undefined, num(9), num(10), num(11)] },
    { name: 'ttl not passed', original: 'attribute_not_exists(#x) OR #x > :v', rewritten: 'NOT #x <= :v', value: num(10), states: [undefined, num(9), num(10), num(11)] },
    { name: 'no cancel requested', original: 'attribute_not_exists(#x) OR #x <> :v', rewritten: 'NOT #x = :v', value: { BOOL: true }, states: [undefined, { BOOL: true }, { BOOL: false }] },
    { name: 'one-value IN', original: '#x IN (:v)', rewritten: '#x = :v', value: { S: 'QUEUED' }, states: [undefined, { S: 'QUEUED' }, { S: 'RUNNING' }] },
  ];
  const results: { form: string; state: string; original: boolean; rewritten: boolean }[] = [];
  let n = 0;
  for (const form of forms) {
    for (const state of form.states) {
      for (const which of ['original', 'rewritten'] as const) {
        const key = { pk: { S: `eq-${n++}` }, sk: { S: 'RUN' } };
        await client.send(new PutItemCommand({ TableName: TABLE, Item: { ...key, ...(state ? { x: state } : {}) } }));
        let accepted = true;
        try {
          await client.send(
            new UpdateItemCommand({
              TableName: TABLE,
              Key: key,
              UpdateExpression: 'SET #done = :done',
              ConditionExpression: form[which],
              ExpressionAttributeNames: { '#x': 'x', '#done': 'done' },
              ExpressionAttributeValues: { ':v': form.value!, ':done': { BOOL: true } },
            }),
          );
        } catch (error) {
          if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
          accepted = false;
        }
        const { Item } = await client.send(new GetItemCommand({ TableName: TABLE, Key: key, ConsistentRead: true }));
        if ((Item?.done !== undefined) !== accepted) throw new Error('dynalite: the item does not match the outcome of the request');
        const last = results.at(-1);
        if (which === 'original') results.push({ form: form.name, state: JSON.stringify(state ?? 'missing'), original: accepted, rewritten: false });
        else last!.rewritten = accepted;
      }
    }
  }
  const mismatches = results.filter((r) => r.original !== r.rewritten);
  if (mismatches.length) throw new Error(`rewrite not equivalent on dynalite: ${JSON.stringify(mismatches)}`);
  return { cases: results.length, allEquivalent: true, table: results.map((r) => `${r.form}, x = ${r.state}: ${r.original ? 'accepted' : 'rejected'}`) };
}

await main();
