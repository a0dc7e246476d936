import type { DispatchMessage } from '../ports.ts';

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
