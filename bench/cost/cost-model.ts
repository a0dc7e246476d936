/**
 * Dollars per million operations, from the requests the embedded default made (real DynamoDB and SQS
 * requests against dynalite and fauxqs, counted by the AWS adapters' middleware and metered for capacity
 * by CapacityMeter) plus the AWS requests local mode does in-process, modelled:
 * - an SQS dispatch is received and deleted by the Lambda event source mapping, which also invokes the
 *   worker: one ReceiveMessage, one DeleteMessageBatch and one invocation per batch of dispatches (each
 *   operation is costed at 1 and at 10 messages per batch; locally the worker deletes each message itself,
 *   and those counted deletes are divided by the batch);
 * - a pushed event is one EventBridge PutEvents entry and one event-router Lambda invocation;
 * - a sleep over 15 minutes is one EventBridge Scheduler invocation (≤ 15 min: SQS DelaySeconds, counted).
 * The engine's Lambda GB-seconds are modelled separately: awaited requests × assumed latency × memory.
 */
import { readFileSync } from 'node:fs';
import { METERED_INDEXES, combineSnapshots, type Capacity, type CapacitySnapshot } from './capacity-meter.ts';
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
  /** Dispatch messages per worker Lambda invocation assumed (the event source mapping's batch). */
  messagesPerBatch: number;
  lines: CostLine[];
  /** Requests (and request units) only: DynamoDB, SQS, EventBridge, Scheduler, Lambda invocations. */
  usdPerMillion: number;
  /** Plus the engine's own Lambda GB-seconds at the assumed request latency. */
  usdPerMillionWithDuration: number;
  target?: number;
  /** Which lines make most of the cost, largest first. */
  dominant: string[];
  /** What was measured but not charged to the operation (the sweeper's periodic queries), if any. */
  excluded?: string;
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
 * @param messagesPerBatch messages per worker Lambda invocation (the event source mapping's batch): its
 *   ReceiveMessage, its DeleteMessageBatch and the invocation are shared by that many dispatches.
 */
export function costOf(
  operation: string,
  measured: MeasuredOperation,
  prices: Prices,
  extra: Record<string, number> = {},
  target?: number,
  messagesPerBatch = 1,
): OperationCost {
  const lines: CostLine[] = [];
  // Woken runs the event router resumes itself on AWS (worker.eventRouterHandler): locally the router hands them
  // to the worker like any dispatch, so their dispatch is taken back out (no message, no worker invocation).
  const inline = extra['Router.InlineResumes'] ?? 0;
  if (inline) {
    const requests = { ...measured.requests };
    for (const op of ['SQS.SendMessage', 'SQS.DeleteMessage']) requests[op] = Math.max(0, (requests[op] ?? 0) - inline);
    measured = { ...measured, requests };
  }
  // The sweeper's index queries and its reads of the runs they name (the only BatchGetItem) run on a timer
  // (a few per sweep whatever the load): a fixed cost per deployment that lands in a measured window by
  // chance. Listed, not charged to the operation (a held sweep key is costed as its own modelled line).
  const isPeriodic = (op: string) => op.startsWith('Query ') || op === 'BatchGetItem';
  const periodic = Object.entries(measured.capacity).filter(([op]) => isPeriodic(op));
  const cap = Object.fromEntries(Object.entries(measured.capacity).filter(([op]) => !isPeriodic(op)));
  const all = Object.values(cap) as Capacity[];
  const wru = sum(all.map((c) => c.wru));
  const strongRru = sum(all.map((c) => c.rru - c.eventualRru));
  const eventualRru = sum(all.map((c) => c.eventualRru));
  const wruPrice = perM(prices, 'dynamodb.writeRequestUnit');
  const rruPrice = perM(prices, 'dynamodb.readRequestUnit');
  const n = (v: number) => fmtQty(v);
  // Table writes, by operation: "PutItem ×1 → 1 WRU; BatchWriteItem ×1.5 (4 items) → 4 WRU".
  const writes = Object.entries(cap)
    .filter(([op, c]) => /^(PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/.test(op) && (c.requests || c.wru))
    .map(([op, c]) => `${op} ×${n(c.requests)}${op === 'BatchWriteItem' ? ` (${n(c.items)} items)` : ''}${c.conditionalFailures ? ` (${n(c.conditionalFailures)} failed conditions)` : ''} → ${n(c.wru)} WRU`)
    .join('; ');
  lines.push({ item: `DynamoDB table writes: ${writes || 'none'}`, quantity: round(wru, 3), unit: 'WRU', usdPerMillionOps: wru * wruPrice, basis: 'measured' });
  for (const index of METERED_INDEXES) {
    const units = sum(all.map((c) => c.gsiWru[index.name] ?? 0));
    const kinds = (['put', 'delete', 'update'] as const)
      .map((kind) => [kind, sum(all.map((c) => c.gsiWrites[`${index.name} ${kind}`] ?? 0))] as const)
      .filter(([, count]) => Math.abs(count) >= 0.0005)
      .map(([kind, count]) => `${kind} ×${n(count)}`)
      .join(', ');
    lines.push({ item: `DynamoDB ${index.shortLabel} writes: ${kinds || 'none'}`, quantity: round(units, 3), unit: 'WRU', usdPerMillionOps: units * wruPrice, basis: 'measured' });
  }
  const reads = Object.entries(cap)
    .filter(([op, c]) => /^(GetItem|Query|Scan)$/.test(op) && c.requests)
    .map(([op, c]) => `${op} ×${n(c.requests)}`)
    .join(', ');
  if (strongRru) lines.push({ item: `DynamoDB strongly consistent reads${reads ? ` (${reads})` : ''}`, quantity: round(strongRru, 3), unit: 'RRU', usdPerMillionOps: strongRru * rruPrice, basis: 'measured' });
  if (eventualRru) lines.push({ item: 'DynamoDB eventually consistent reads', quantity: round(eventualRru, 3), unit: 'RRU', usdPerMillionOps: eventualRru * rruPrice, basis: 'measured' });
  const held = extra['Sweeper.HeldReads'] ?? 0;
  if (held) {
    // A parked run holding an early sweep key is read (BatchGetItem, eventually consistent, 0.5 RRU) by every
    // one-minute sweep until its timer fires: worst case, one read per minute of the hold.
    lines.push({ item: `DynamoDB sweeper reads while the sweep key is held (worst case: ${n(held)} sweeps × 0.5 RRU)`, quantity: held * 0.5, unit: 'RRU', usdPerMillionOps: held * 0.5 * rruPrice, basis: 'modelled' });
  }
  const excluded: string[] = periodic.filter(([, c]) => Math.abs(c.requests) >= 0.0005).map(([op, c]) => `${op} ×${n(c.requests)} (${n(c.rru)} RRU)`);

  const sqsPrice = perM(prices, 'sqs.standardRequest');
  const sends = measured.requests['SQS.SendMessage'] ?? 0;
  if (sends) lines.push({ item: 'SQS.SendMessage (dispatch)', quantity: round(sends, 3), unit: 'request', usdPerMillionOps: sends * sqsPrice, basis: 'measured' });
  const visibility = measured.requests['SQS.ChangeMessageVisibility'] ?? 0;
  if (visibility) lines.push({ item: 'SQS.ChangeMessageVisibility', quantity: round(visibility, 3), unit: 'request', usdPerMillionOps: visibility * sqsPrice, basis: 'measured' });
  const batch = `1 per batch of ${messagesPerBatch}`;
  const receives = (extra['SQS.ReceiveMessage'] ?? sends) / messagesPerBatch;
  if (receives) lines.push({ item: `SQS.ReceiveMessage (event source mapping, ${batch})`, quantity: round(receives, 3), unit: 'request', usdPerMillionOps: receives * sqsPrice, basis: 'modelled' });
  // Locally the worker deletes each message it handled (counted); on AWS the event source mapping deletes a batch in one request.
  const deletes = (measured.requests['SQS.DeleteMessage'] ?? 0) / messagesPerBatch;
  if (deletes) lines.push({ item: `SQS.DeleteMessageBatch (event source mapping, ${batch}; measured deletes ÷ ${messagesPerBatch})`, quantity: round(deletes, 3), unit: 'request', usdPerMillionOps: deletes * sqsPrice, basis: 'modelled' });
  const putEvents = extra['EventBridge.PutEvents'] ?? 0;
  if (putEvents) lines.push({ item: 'EventBridge.PutEvents (custom event)', quantity: round(putEvents, 4), unit: 'event', usdPerMillionOps: putEvents * perM(prices, 'eventbridge.customEvent'), basis: 'modelled' });
  const schedules = extra['Scheduler.Invocation'] ?? 0;
  if (schedules) lines.push({ item: 'EventBridge Scheduler invocation', quantity: schedules, unit: 'invocation', usdPerMillionOps: schedules * perM(prices, 'scheduler.invocation'), basis: 'modelled' });
  const lambdaPrice = perM(prices, 'lambda.request');
  const workers = sends / messagesPerBatch;
  if (workers) lines.push({ item: `Lambda invocations: worker (${batch})`, quantity: round(workers, 3), unit: 'request', usdPerMillionOps: workers * lambdaPrice, basis: 'modelled' });
  const routers = extra['Lambda.Invoke'] ?? 0;
  if (routers) lines.push({ item: 'Lambda invocations: event router (1 per event)', quantity: round(routers, 4), unit: 'request', usdPerMillionOps: routers * lambdaPrice, basis: 'modelled' });
  if (inline) {
    lines.push({ item: 'woken run resumed inside the router invocation (1 per event): no dispatch message, no worker invocation', quantity: round(inline, 4), unit: 'run', usdPerMillionOps: 0, basis: 'modelled' });
  }

  const periodicRequests = sum(periodic.map(([, c]) => c.requests));
  const awaited = sum(Object.entries(measured.requests).filter(([op]) => op.startsWith('DynamoDB.') || op === 'SQS.SendMessage').map(([, v]) => v)) - periodicRequests;
  const gbSeconds = (awaited * prices.assumptions.awsRequestLatencyMs) / 1000 * (prices.assumptions.workerMemoryMB / 1024);
  const gbs = prices.prices['lambda.gbSecond']!.usd!;
  const usdPerMillion = sum(lines.map((l) => l.usdPerMillionOps));
  const durationUsd = gbSeconds * gbs * 1e6;
  const dominant = [...lines].sort((a, b) => b.usdPerMillionOps - a.usdPerMillionOps).slice(0, 3).map((l) => `${l.item}: $${round(l.usdPerMillionOps, 3)}/M`);
  for (const line of lines) line.usdPerMillionOps = round(line.usdPerMillionOps, 4);
  return {
    operation,
    messagesPerBatch,
    lines,
    usdPerMillion: round(usdPerMillion, 3),
    usdPerMillionWithDuration: round(usdPerMillion + durationUsd, 3),
    ...(target !== undefined ? { target } : {}),
    dominant,
    ...(excluded.length ? { excluded: `sweeper index queries in the measured window, not charged: ${excluded.join(', ')}` } : {}),
  };
}

function fmtQty(v: number): string {
  return String(round(v, 3));
}

/** `a - b` per operation, for removing a step from a measured event wait. */
export function subtract(a: MeasuredOperation, b: MeasuredOperation): MeasuredOperation {
  const requests: Record<string, number> = { ...a.requests };
  for (const [op, v] of Object.entries(b.requests)) requests[op] = round((requests[op] ?? 0) - v, 3);
  return { requests, capacity: combineSnapshots(a.capacity, b.capacity, (x, y) => round(x - y, 3)) };
}

/** Peers' list prices per million operations, for the table. */
export function peerPrices(prices: Prices): { name: string; usdPerMillion: number }[] {
  return [
    { name: 'Step Functions Standard (per state transition)', usdPerMillion: perM(prices, 'stepFunctions.standardTransition') },
    { name: 'AWS Lambda durable functions (per durable operation)', usdPerMillion: perM(prices, 'lambdaDurable.operation') },
  ];
}
