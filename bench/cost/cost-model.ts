/**
 * Dollars per million operations, from the requests the embedded default made (real DynamoDB and SQS
 * requests against dynalite and fauxqs, counted by the AWS adapters' middleware and metered for capacity
 * by CapacityMeter) plus the AWS requests local mode does in-process, modelled:
 * - an SQS dispatch is also received and deleted by the Lambda event source mapping (1 ReceiveMessage
 *   per message, no batching assumed; DeleteMessage is counted locally);
 * - each dispatch is one worker Lambda invocation (no batching assumed);
 * - a pushed event is one EventBridge PutEvents entry and one event-router Lambda invocation;
 * - a sleep over 15 minutes is one EventBridge Scheduler invocation (≤ 15 min: SQS DelaySeconds, counted).
 * The engine's Lambda GB-seconds are modelled separately: awaited requests × assumed latency × memory.
 */
import { readFileSync } from 'node:fs';
import type { Capacity, CapacitySnapshot } from './capacity-meter.ts';
import { round } from '../lib/stats.ts';

interface Price {
  usdPerMillion?: number;
  usd?: number;
  status: string;
  source: string;
}
export interface Prices {
  checked: string;
  prices: Record<string, Price>;
  assumptions: { workerMemoryMB: number; awsRequestLatencyMs: number };
}

export function loadPrices(): Prices {
  return JSON.parse(readFileSync(new URL('../prices.json', import.meta.url), 'utf8')) as Prices;
}

/** What one operation costs, measured (per operation) on the embedded default. */
export interface MeasuredOperation {
  requests: Record<string, number>;
  capacity: CapacitySnapshot;
}

/** One line of the bill of an operation. */
export interface CostLine {
  item: string;
  quantity: number;
  unit: string;
  usdPerMillionOps: number;
  /** 'measured' (counted on dynalite/fauxqs) or 'modelled' (in-process locally, added per the rules above). */
  basis: 'measured' | 'modelled';
}

export interface OperationCost {
  operation: string;
  lines: CostLine[];
  /** Requests (and request units) only: DynamoDB, SQS, EventBridge, Scheduler, Lambda invocations. */
  usdPerMillion: number;
  /** Plus the engine's own Lambda GB-seconds at the assumed request latency. */
  usdPerMillionWithDuration: number;
  target?: number;
  /** Which lines make most of the cost, largest first. */
  dominant: string[];
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function perM(prices: Prices, key: string): number {
  const p = prices.prices[key];
  if (!p || p.usdPerMillion === undefined) throw new Error(`prices.json: no usdPerMillion for ${key}`);
  return p.usdPerMillion;
}

/**
 * Builds the bill of one operation.
 *
 * @param extra modelled requests to add, e.g. `{ 'EventBridge.PutEvents': 1 }`.
 */
export function costOf(operation: string, measured: MeasuredOperation, prices: Prices, extra: Record<string, number> = {}, target?: number): OperationCost {
  const lines: CostLine[] = [];
  const cap = Object.values(measured.capacity) as Capacity[];
  const wru = sum(cap.map((c) => c.wru));
  const gsiWru: Record<string, number> = {};
  for (const c of cap) for (const [index, units] of Object.entries(c.gsiWru)) gsiWru[index] = (gsiWru[index] ?? 0) + units;
  const strongRru = sum(cap.map((c) => c.rru - c.eventualRru));
  const eventualRru = sum(cap.map((c) => c.eventualRru));
  const wruPrice = perM(prices, 'dynamodb.writeRequestUnit');
  const rruPrice = perM(prices, 'dynamodb.readRequestUnit');
  const dynamoOps = Object.entries(measured.requests)
    .filter(([op]) => /^DynamoDB\.(PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/.test(op))
    .map(([op, n]) => `${op.slice(9)} ×${round(n, 3)}`)
    .join(', ');
  lines.push({ item: `DynamoDB table writes (${dynamoOps})`, quantity: round(wru, 3), unit: 'WRU', usdPerMillionOps: wru * wruPrice, basis: 'measured' });
  for (const [index, units] of Object.entries(gsiWru)) {
    const what = index === 'gsi1' ? 'waiter index' : index === 'gsi2' ? 'sweep index' : index;
    lines.push({ item: `DynamoDB ${index} (${what}) writes`, quantity: round(units, 3), unit: 'WRU', usdPerMillionOps: units * wruPrice, basis: 'measured' });
  }
  const reads = Object.entries(measured.requests)
    .filter(([op]) => /^DynamoDB\.(GetItem|Query|Scan)$/.test(op))
    .map(([op, n]) => `${op.slice(9)} ×${round(n, 3)}`)
    .join(', ');
  if (strongRru) lines.push({ item: `DynamoDB strongly consistent reads${reads ? ` (${reads})` : ''}`, quantity: round(strongRru, 3), unit: 'RRU', usdPerMillionOps: strongRru * rruPrice, basis: 'measured' });
  if (eventualRru) lines.push({ item: 'DynamoDB eventually consistent reads (GSI)', quantity: round(eventualRru, 3), unit: 'RRU', usdPerMillionOps: eventualRru * rruPrice, basis: 'measured' });

  const sqsPrice = perM(prices, 'sqs.standardRequest');
  const sends = measured.requests['SQS.SendMessage'] ?? 0;
  for (const op of ['SQS.SendMessage', 'SQS.DeleteMessage', 'SQS.ChangeMessageVisibility']) {
    const n = measured.requests[op] ?? 0;
    if (n) lines.push({ item: op, quantity: round(n, 3), unit: 'request', usdPerMillionOps: n * sqsPrice, basis: 'measured' });
  }
  const receives = extra['SQS.ReceiveMessage'] ?? sends;
  if (receives) lines.push({ item: 'SQS.ReceiveMessage (event source mapping, 1 per dispatch)', quantity: round(receives, 3), unit: 'request', usdPerMillionOps: receives * sqsPrice, basis: 'modelled' });
  const putEvents = extra['EventBridge.PutEvents'] ?? 0;
  if (putEvents) lines.push({ item: 'EventBridge.PutEvents (custom event)', quantity: round(putEvents, 4), unit: 'event', usdPerMillionOps: putEvents * perM(prices, 'eventbridge.customEvent'), basis: 'modelled' });
  const schedules = extra['Scheduler.Invocation'] ?? 0;
  if (schedules) lines.push({ item: 'EventBridge Scheduler invocation', quantity: schedules, unit: 'invocation', usdPerMillionOps: schedules * perM(prices, 'scheduler.invocation'), basis: 'modelled' });
  const invocations = sends + (extra['Lambda.Invoke'] ?? 0);
  if (invocations) lines.push({ item: 'Lambda invocations (worker per dispatch, router per event)', quantity: round(invocations, 3), unit: 'request', usdPerMillionOps: invocations * perM(prices, 'lambda.request'), basis: 'modelled' });

  const awaited = sum(Object.entries(measured.requests).filter(([op]) => op.startsWith('DynamoDB.') || op === 'SQS.SendMessage').map(([, n]) => n));
  const gbSeconds = (awaited * prices.assumptions.awsRequestLatencyMs) / 1000 * (prices.assumptions.workerMemoryMB / 1024);
  const gbs = prices.prices['lambda.gbSecond']!.usd!;
  const usdPerMillion = sum(lines.map((l) => l.usdPerMillionOps));
  const durationUsd = gbSeconds * gbs * 1e6;
  const dominant = [...lines].sort((a, b) => b.usdPerMillionOps - a.usdPerMillionOps).slice(0, 3).map((l) => `${l.item}: $${round(l.usdPerMillionOps, 3)}/M`);
  for (const line of lines) line.usdPerMillionOps = round(line.usdPerMillionOps, 4);
  return {
    operation,
    lines,
    usdPerMillion: round(usdPerMillion, 3),
    usdPerMillionWithDuration: round(usdPerMillion + durationUsd, 3),
    ...(target !== undefined ? { target } : {}),
    dominant,
  };
}

/** `a - b` per operation, for removing a step from a measured event wait. */
export function subtract(a: MeasuredOperation, b: MeasuredOperation): MeasuredOperation {
  const requests: Record<string, number> = { ...a.requests };
  for (const [op, n] of Object.entries(b.requests)) requests[op] = round((requests[op] ?? 0) - n, 3);
  const capacity: CapacitySnapshot = {};
  for (const op of new Set([...Object.keys(a.capacity), ...Object.keys(b.capacity)])) {
    const x = a.capacity[op];
    const y = b.capacity[op];
    const gsiWru: Record<string, number> = { ...(x?.gsiWru ?? {}) };
    for (const [index, units] of Object.entries(y?.gsiWru ?? {})) gsiWru[index] = round((gsiWru[index] ?? 0) - units, 3);
    capacity[op] = {
      requests: round((x?.requests ?? 0) - (y?.requests ?? 0), 3),
      wru: round((x?.wru ?? 0) - (y?.wru ?? 0), 3),
      gsiWru,
      rru: round((x?.rru ?? 0) - (y?.rru ?? 0), 3),
      eventualRru: round((x?.eventualRru ?? 0) - (y?.eventualRru ?? 0), 3),
      conditionalFailures: round((x?.conditionalFailures ?? 0) - (y?.conditionalFailures ?? 0), 3),
    };
  }
  return { requests, capacity };
}

/** Peers' list prices per million operations, for the table. */
export function peerPrices(prices: Prices): { name: string; usdPerMillion: number }[] {
  return [
    { name: 'Step Functions Standard (per state transition)', usdPerMillion: perM(prices, 'stepFunctions.standardTransition') },
    { name: 'AWS Lambda durable functions (per durable operation)', usdPerMillion: perM(prices, 'lambdaDurable.operation') },
  ];
}
