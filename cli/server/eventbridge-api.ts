/**
 * The dev server's EventBridge endpoint: `PutEvents` in the AWS JSON 1.1 protocol (`POST /` with
 * `X-Amz-Target: AWSEvents.PutEvents`), so `aws events put-events --endpoint-url ...` and
 * `@aws-sdk/client-eventbridge` push events locally as they do on AWS. The dev server plays the bus, the
 * construct's rule (source `durable-tasks`, detail-type `durable-tasks.event`) and the event router: each entry
 * is parsed by the router's own parser (`parseEventBridgeEvent`) and routed.
 *
 * As on AWS, entries are handled in order and one that fails gets `{ ErrorCode, ErrorMessage }` in its place
 * while the others go through; a request that is not a PutEvents request (more than 10 entries, a body that is
 * not JSON, another operation) fails whole with an AWS-shaped error (`{ __type, message }`).
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../sdk/adapters/aws/env.ts';
import type { Durable } from '../../sdk/index.ts';
import { parseEventBridgeEvent } from '../../sdk/adapters/aws/eventbridge-bus.ts';
import { isDurableError } from './http-errors.ts';

/** The name of the one bus the dev server plays (what `durable dev` prints as `DURABLE_EVENT_BUS_NAME`). */
export const LOCAL_EVENT_BUS_NAME = 'durable-tasks';
/** The `X-Amz-Target` of PutEvents. */
export const PUT_EVENTS_TARGET = 'AWSEvents.PutEvents';
/** PutEvents takes at most 10 entries per request (an EventBridge quota). */
export const MAX_PUT_EVENTS_ENTRIES = 10;
/** An entry's size limit on EventBridge (256 KiB). */
const MAX_ENTRY_BYTES = 256 * 1024;

/** A request-level failure, sent as AWS JSON 1.1 errors are: status 400 and `{ __type, message }`. */
export class AwsJsonError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** `PutEventsResultEntry`: an `EventId`, or an `ErrorCode` and `ErrorMessage`. */
export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export interface PutEventsResponse {
  FailedEntryCount: number;
  Entries: PutEventsResultEntry[];
}

/** Is this request meant for the EventBridge endpoint (an AWS JSON request on `/`)? */
export function isAwsJsonRequest(method: string | undefined, pathname: string, headers: Record<string, string | string[] | undefined>): boolean {
  return method === 'POST' && pathname === '/' && typeof headers['x-amz-target'] === 'string';
}

/**
 * Answers one AWS JSON request on the EventBridge endpoint.
 *
 * @throws {AwsJsonError} for a request that is not a well-formed PutEvents request.
 */
export async function handleAwsJson(durable: Durable, target: string, contentType: string, text: string): Promise<PutEventsResponse> {
  if (!/^application\/x-amz-json-1\.[01]\b/i.test(contentType)) {
    throw new AwsJsonError('SerializationException', `send the request as AWS JSON 1.1 ('content-type: application/x-amz-json-1.1'), not '${contentType || 'none'}'`);
  }
  if (target !== PUT_EVENTS_TARGET) {
    throw new AwsJsonError('UnknownOperationException', `the durable dev server's EventBridge endpoint answers ${PUT_EVENTS_TARGET} only, not '${target}'`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text === '' ? '{}' : text);
  } catch (error) {
    throw new AwsJsonError('SerializationException', `the request body is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(body)) throw new AwsJsonError('SerializationException', 'the request body must be a JSON object with Entries');
  const entries = body.Entries;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new AwsJsonError('ValidationException', "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must not be null and must have length greater than or equal to 1");
  }
  if (entries.length > MAX_PUT_EVENTS_ENTRIES) {
    throw new AwsJsonError(
      'ValidationException',
      `1 validation error detected: Value '[...${entries.length} entries]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_PUT_EVENTS_ENTRIES}`,
    );
  }
  const backend = await durable.engine.backend();
  const results: PutEventsResultEntry[] = [];
  // In order, as EventBridge attempts them: an event that resumes a run has been routed before the next one is.
  for (const entry of entries) results.push(await putEntry(durable, entry, backend.clock.now()));
  return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
}

/** Writes an AWS JSON response. */
export function sendAwsJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-requestid': randomUUID(),
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** The error body of an AWS JSON 1.1 response. */
export function awsJsonErrorBody(error: AwsJsonError): { __type: string; message: string } {
  return { __type: error.type, message: error.message };
}

async function putEntry(durable: Durable, entry: unknown, now: number): Promise<PutEventsResultEntry> {
  if (!isObject(entry)) return failed('InvalidArgument', 'each entry must be an object');
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    if (typeof entry[field] !== 'string' || entry[field] === '') return failed('InvalidArgument', `Parameter ${field} is not valid. Reason: ${field} is a required argument.`);
  }
  if (Buffer.byteLength(JSON.stringify(entry)) > MAX_ENTRY_BYTES) return failed('InvalidArgument', `the entry is over EventBridge's ${MAX_ENTRY_BYTES}-byte limit`);
  const bus = busName(entry.EventBusName);
  if (bus !== LOCAL_EVENT_BUS_NAME) {
    return failed(
      'InvalidArgument',
      bus === undefined
        ? `the entry names no EventBusName: on AWS it would go to the default bus, which the DurableTasks rule does not watch; set EventBusName to '${LOCAL_EVENT_BUS_NAME}' here (your stack's DURABLE_EVENT_BUS_NAME on AWS)`
        : `no event bus '${bus}' on the durable dev server: its bus is '${LOCAL_EVENT_BUS_NAME}'`,
    );
  }
  if (entry.Source !== EVENT_SOURCE || entry.DetailType !== EVENT_DETAIL_TYPE) {
    // On AWS the entry would be accepted and dropped by the rule; here it fails, so a typo is not silent.
    return failed(
      'InvalidArgument',
      `no rule on the bus matches Source '${String(entry.Source)}' and DetailType '${String(entry.DetailType)}': durable-tasks routes Source '${EVENT_SOURCE}' with DetailType '${EVENT_DETAIL_TYPE}' (on AWS this entry would be accepted and never reach a run)`,
    );
  }
  let time: string;
  try {
    time = entryTime(entry.Time, now);
  } catch (error) {
    return failed('InvalidArgument', (error as Error).message);
  }
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail as string);
  } catch {
    return failed('MalformedDetail', 'Detail is malformed: it is not valid JSON.');
  }
  if (!isObject(detail)) return failed('MalformedDetail', 'Detail is malformed: it must be a JSON object.');
  const id = randomUUID();
  // The event as the construct's rule hands it to the router Lambda.
  const envelope = { version: '0', id, 'detail-type': entry.DetailType, source: entry.Source, time, region: 'us-east-1', resources: entry.Resources ?? [], detail: entry.Detail };
  try {
    const event = parseEventBridgeEvent(envelope);
    await durable.engine.route(event);
    return { EventId: id };
  } catch (error) {
    if (isDurableError(error)) return failed('InvalidArgument', (error as Error).message);
    return failed('InternalFailure', `routing the event failed: ${String((error as Error)?.message ?? error)}`);
  }
}

/** `EventBusName` as a name (an ARN's `event-bus/<name>` suffix), or undefined when absent. */
function busName(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const text = String(value);
  const arn = /^arn:[^:]+:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(text);
  return arn ? arn[1] : text;
}

/** `Time` as AWS JSON sends a timestamp (epoch seconds, possibly fractional), or an ISO string; now when absent. */
function entryTime(value: unknown, now: number): string {
  if (value === undefined || value === null) return new Date(now).toISOString();
  const ms = typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new Error(`Parameter Time is not valid: ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

function failed(code: string, message: string): PutEventsResultEntry {
  return { ErrorCode: code, ErrorMessage: message };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
