import type { DispatchMessage, RouteContinuation } from '../ports.ts';

/** The body of a dispatch message on any queue: `{"runId":"..."}`. */
export function dispatchBody(message: DispatchMessage): string {
  return JSON.stringify({ runId: message.runId });
}

/**
 * Parses a dispatch message body (from a queue's `receive` or an SQS Lambda event record). Defensive: anything
 * but a JSON object with a non-empty string `runId` yields `undefined`, so a malformed message can be logged
 * and dropped instead of failing the batch.
 *
 * @example
 * parseDispatchBody('{"runId":"r-1"}'); // { runId: 'r-1' }
 * parseDispatchBody('hello');           // undefined
 */
export function parseDispatchBody(body: unknown): DispatchMessage | undefined {
  const runId = parseJsonObject(body)?.runId;
  return typeof runId === 'string' && runId.length > 0 ? { runId } : undefined;
}

/** A message body parsed as a JSON object; anything else (not a string, not JSON, not an object) is `undefined`. */
export function parseJsonObject(body: unknown): Record<string, unknown> | undefined {
  if (typeof body !== 'string') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}

/** `type` of a continuation message: the rest of an event's routing, on the dispatch queue beside dispatch messages. */
export const ROUTE_CONTINUATION_TYPE = 'durable-tasks.route-continuation';

/** The body of a continuation message: `{"type":"durable-tasks.route-continuation","continuation":{...}}`. */
export function continuationBody(continuation: RouteContinuation): string {
  return JSON.stringify({ type: ROUTE_CONTINUATION_TYPE, continuation });
}

/** The continuation of a continuation message body; `undefined` for anything else (a dispatch message among them). */
export function parseContinuationBody(body: unknown): RouteContinuation | undefined {
  if (typeof body !== 'string' || !body.includes(ROUTE_CONTINUATION_TYPE)) return undefined;
  let parsed: { type?: unknown; continuation?: Partial<RouteContinuation> };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return undefined;
  }
  const c = parsed?.continuation;
  const event = c?.event;
  if (parsed?.type !== ROUTE_CONTINUATION_TYPE || !c || !event || typeof event.key !== 'string' || typeof event.eventId !== 'string') return undefined;
  if (typeof event.time !== 'number' || typeof event.seq !== 'number' || !Number.isInteger(c.shard) || c.shard! < 0) return undefined;
  if (c.cursor !== undefined && typeof c.cursor !== 'string') return undefined;
  return { event, shard: c.shard!, ...(c.cursor !== undefined ? { cursor: c.cursor } : {}), ...(c.only === true ? { only: true as const } : {}) };
}
