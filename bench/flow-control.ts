/**
 * `npx tsx bench/flow-control.ts`: what flow control costs and how fast one hot key goes, on the embedded default
 * (the AWS adapters against dynalite + fauxqs in this process; every request counted by the adapters).
 *
 * Prints: requests added per flow-controlled start (a free slot and a rate-limit unit; a contended key with a
 * queue and hand-overs), their $ per million starts at on-demand prices (bench/prices.json; flow items are under
 * 1 KB: one write or strongly consistent read request unit each), and runs/s through one `maxRuns: 10` key
 * against the same runs without flow control. dynalite is not DynamoDB: throughput here is this process's, and
 * on AWS one key's slot item is bounded by its partition (about 1,000 writes/s, 2 to 4 writes per run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Durable, RateLimitDuration } from 'durable-tasks';
import { loadPrices } from './cost/cost-model.ts';

const N = Number(process.env.FLOW_BENCH_RUNS ?? 100);
const HOT = Number(process.env.FLOW_BENCH_HOT_RUNS ?? 60);
const dir = mkdtempSync(join(tmpdir(), 'durable-flow-bench-'));
const durable = Durable.local({ dir, log: () => undefined });

const plain = durable.task({ name: 'plain', fn: async (input: { n: number }) => input.n });
const flowed = durable.task({
  name: 'flowed',
  concurrency: { expression: 'input.key', maxRuns: 10 },
  rateLimits: [{ staticKey: 'bench-api', units: 1 }],
  fn: async (input: { n: number; key: string }) => input.n,
});
const contended = durable.task({ name: 'contended', concurrency: { expression: 'input.key', maxRuns: 1 }, fn: async (input: { n: number; key: string }) => input.n });
const hot = durable.task({ name: 'hot', concurrency: { expression: 'input.key', maxRuns: 10 }, fn: async (input: { n: number; key: string }) => input.n });
const hotPlain = durable.task({ name: 'hot-plain', fn: async (input: { n: number }) => input.n });
await durable.rateLimits.upsert({ key: 'bench-api', limit: 1_000_000, duration: RateLimitDuration.SECOND });

const snapshot = () => ({ ...durable.metrics().requests });
function perRun(before: Record<string, number>, after: Record<string, number>, runs: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, v] of Object.entries(after)) {
    const d = (v - (before[op] ?? 0)) / runs;
    if (d !== 0) out[op] = Math.round(d * 1000) / 1000;
  }
  return out;
}
async function measure(label: string, start: (n: number) => Promise<{ result(): Promise<unknown> }>, runs: number, concurrent: boolean) {
  const before = snapshot();
  if (concurrent) {
    const refs = await Promise.all(Array.from({ length: runs }, (_, n) => start(n)));
    await Promise.all(refs.map((r) => r.result()));
  } else {
    for (let n = 0; n < runs; n++) await (await start(n)).result();
  }
  // Let the last releases and acknowledgements land before reading the counters.
  await new Promise((r) => setTimeout(r, 200));
  const requests = perRun(before, snapshot(), runs);
  console.log(`${label}: ${JSON.stringify(requests)}`);
  return requests;
}
function difference(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const op of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = Math.round(((a[op] ?? 0) - (b[op] ?? 0)) * 1000) / 1000;
    if (d !== 0) out[op] = d;
  }
  return out;
}
const prices = loadPrices().prices;
function usdPerMillion(requests: Record<string, number>): number {
  let usd = 0;
  for (const [op, count] of Object.entries(requests)) {
    if (/DynamoDB\.(PutItem|UpdateItem|DeleteItem)/.test(op)) usd += count * prices['dynamodb.writeRequestUnit']!.usdPerMillion!;
    else if (/DynamoDB\.(GetItem|Query)/.test(op)) usd += count * prices['dynamodb.readRequestUnit']!.usdPerMillion!;
    else if (op.startsWith('SQS.')) usd += count * prices['sqs.standardRequest']!.usdPerMillion!;
  }
  return Math.round(usd * 1000) / 1000;
}

await plain.run({ n: -1 }); // warm-up
await flowed.run({ n: -1, key: 'warm' });
const base = await measure('plain start, per run', (n) => plain.runNoWait({ n }), N, false);
const free = await measure('flow-controlled start (free slot, one rate-limit unit), per run', (n) => flowed.runNoWait({ n, key: `k${n % 10}` }), N, false);
const added = difference(free, base);
console.log(`=> added per flow-controlled start: ${JSON.stringify(added)}; $${usdPerMillion(added)} per million starts`);
const queued = await measure('contended key (maxRuns 1, all started at once), per run', (n) => contended.runNoWait({ n, key: 'one' }), 20, true);
const addedQueued = difference(queued, base);
console.log(`=> added per queued start (queue item, hand-over, re-gate): ${JSON.stringify(addedQueued)}; $${usdPerMillion(addedQueued)} per million starts`);

async function throughput(label: string, start: (n: number) => Promise<{ result(): Promise<unknown> }>): Promise<number> {
  const t0 = performance.now();
  const refs = await Promise.all(Array.from({ length: HOT }, (_, n) => start(n)));
  await Promise.all(refs.map((r) => r.result()));
  const rate = HOT / ((performance.now() - t0) / 1000);
  console.log(`${label}: ${HOT} runs in ${((performance.now() - t0) / 1000).toFixed(2)} s = ${rate.toFixed(1)} runs/s`);
  return rate;
}
const hotRate = await throughput('one hot key, maxRuns 10', (n) => hot.runNoWait({ n, key: 'hot' }));
const plainRate = await throughput('same runs without flow control', (n) => hotPlain.runNoWait({ n }));
console.log(`=> the hot key ran at ${((hotRate / plainRate) * 100).toFixed(0)}% of the unkeyed rate on this machine`);

await durable.close();
rmSync(dir, { recursive: true, force: true });
