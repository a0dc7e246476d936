/**
 * The event bus on EventBridge: `events.push` is a PutEvents on the project's bus; a rule routes it to the
 * event router Lambda, which parses it back with `parseEventBridgeEvent`.
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from './env.ts';
import { DurableError, PayloadTooLargeError } from '../../core/errors.ts';
import type { DurableEvent, EventBus, RequestCounter } from '../../ports.ts';
import { InvalidEventError } from './invalid-event-error.ts';
import { countRequests } from './request-counter.ts';

import { MAX_EVENT_KEY_LENGTH } from '../../core/conditions.ts';

export { MAX_EVENT_KEY_LENGTH };

/** Options of {@link EventBridgeBus}. */
export interface EventBridgeBusOptions {
  client: EventBridgeClient;
  /** Name (or ARN) of the bus events are put on. */
  eventBusName: string;
  /** When given, the client is instrumented so every request is counted. */
  counter?: RequestCounter;
}

/**
 * EventBus on EventBridge: one PutEvents per event, `Source` = `durable-tasks`, `DetailType` =
 * `durable-tasks.event`, `Detail` = `{ eventId, key, payload, scope?, metadata?, time, seq? }`
 * (`seq`: the event's place in its key's push order, taken by `events.push`).
 *
 * @throws {PayloadTooLargeError} before sending, when the whole entry is over EventBridge's 256 KB (a payload
 *   within its own 256 KiB limit can still be, with its key, scope, metadata and envelope).
 * @throws {DurableError} when EventBridge rejects the entry (`FailedEntryCount` > 0), naming its error code.
 * @example
 * const bus = new EventBridgeBus({ client: new EventBridgeClient({}), eventBusName: process.env.DURABLE_EVENT_BUS_NAME! });
 * await bus.publish({ eventId: randomUUID(), key: 'order:paid', payload: { amount: 120 }, time: Date.now() });
 */
export class EventBridgeBus implements EventBus {
  private readonly client: EventBridgeClient;
  private readonly eventBusName: string;

  constructor(options: EventBridgeBusOptions) {
    this.client = options.client;
    this.eventBusName = options.eventBusName;
    if (options.counter) countRequests(this.client, options.counter);
  }

  async publish(event: DurableEvent): Promise<void> {
    const detail: Record<string, unknown> = { eventId: event.eventId, key: event.key, payload: event.payload };
    if (event.scope !== undefined) detail.scope = event.scope;
    if (event.metadata !== undefined) detail.metadata = event.metadata;
    if (event.traceparent !== undefined) detail.traceparent = event.traceparent;
    detail.time = event.time;
    if (event.seq !== undefined) detail.seq = event.seq;
    const sent = { EventBusName: this.eventBusName, Source: EVENT_SOURCE, DetailType: EVENT_DETAIL_TYPE, Detail: JSON.stringify(detail), Time: new Date(event.time) };
    const size = putEventsEntrySize(sent);
    if (size > MAX_EVENT_ENTRY_BYTES) throw new PayloadTooLargeError(`the EventBridge entry of event '${event.key}' (payload, key, scope, metadata and envelope)`, size, MAX_EVENT_ENTRY_BYTES);
    const result = await this.client.send(new PutEventsCommand({ Entries: [sent] }));
    const entry = result.Entries?.[0];
    if ((result.FailedEntryCount ?? 0) > 0 || entry?.ErrorCode) {
      throw new DurableError(
        `EventBridge rejected event '${event.key}' (${event.eventId}) on bus '${this.eventBusName}': ` +
          `${entry?.ErrorCode ?? 'unknown error'}${entry?.ErrorMessage ? ` ${entry.ErrorMessage}` : ''}`,
      );
    }
  }
}

/** EventBridge's limit on one PutEvents entry (256 KB), as AWS computes the entry's size. */
export const MAX_EVENT_ENTRY_BYTES = 256 * 1024;

/**
 * The size EventBridge counts for a PutEvents entry ("Calculating Amazon EventBridge PutEvents event entry
 * size"): 14 bytes for `Time` when given, plus the UTF-8 bytes of `Source`, `DetailType`, `Detail` and each of
 * `Resources`. The bus name is not counted.
 */
export function putEventsEntrySize(entry: { Time?: Date; Source?: string; DetailType?: string; Detail?: string; Resources?: string[] }): number {
  let size = entry.Time ? 14 : 0;
  for (const text of [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])]) if (text !== undefined) size += Buffer.byteLength(text);
  return size;
}

/**
 * Turns an EventBridge event, as a Lambda target receives it, into a DurableEvent. Events put by any
 * application or service are routed, with or without this SDK, as long as they carry `source: durable-tasks`
 * and `detail-type: durable-tasks.event` (the `DurableTasks` construct's rule matches exactly these two, and
 * drops anything else before it reaches the router) and a `detail` with a `key` and a `payload`:
 *
 * ```json
 * { "id": "6a7e8feb-...", "source": "durable-tasks", "detail-type": "durable-tasks.event", "time": "2030-01-01T00:00:00Z",
 *   "detail": { "key": "order:paid", "payload": { "amount": 120 }, "scope": "tenant-a", "metadata": {},
 *               "eventId": "optional, defaults to the EventBridge id", "time": 1893456000000 } }
 * ```
 *
 * `detail.eventId` defaults to the event's `id`, `detail.time` (epoch ms) to its `time`. This function itself
 * accepts any non-empty `source` (for a rule of your own that routes other sources to the router), but with the
 * construct's rule an entry put with another source never arrives.
 *
 * @example
 * // aws events put-events --entries '[{"EventBusName":"<bus>","Source":"durable-tasks",
 * //   "DetailType":"durable-tasks.event","Detail":"{\"key\":\"order:paid\",\"payload\":{\"amount\":120}}"}]'
 * const pushed = parseEventBridgeEvent(lambdaEvent); // { eventId, key: 'order:paid', payload: { amount: 120 }, time }
 * @throws {InvalidEventError} naming the field that is missing or wrong.
 */
export function parseEventBridgeEvent(event: unknown): DurableEvent {
  if (!isObject(event)) throw new InvalidEventError('event', `must be an object, got ${describe(event)}`);
  if (typeof event.source !== 'string' || event.source === '') throw new InvalidEventError('source', `must be a non-empty string, got ${describe(event.source)}`);
  if (event['detail-type'] !== EVENT_DETAIL_TYPE) {
    throw new InvalidEventError('detail-type', `must be '${EVENT_DETAIL_TYPE}', got ${describe(event['detail-type'])}`);
  }
  let detail = event.detail;
  if (typeof detail === 'string') {
    try {
      detail = JSON.parse(detail) as unknown;
    } catch {
      throw new InvalidEventError('detail', 'is a string that is not JSON');
    }
  }
  if (!isObject(detail)) throw new InvalidEventError('detail', `must be an object, got ${describe(detail)}`);

  const key = detail.key;
  if (typeof key !== 'string' || key === '') throw new InvalidEventError('detail.key', `must be a non-empty string, got ${describe(key)}`);
  if (key.length > MAX_EVENT_KEY_LENGTH) throw new InvalidEventError('detail.key', `must be at most ${MAX_EVENT_KEY_LENGTH} characters, got ${key.length}`);
  if (!('payload' in detail)) throw new InvalidEventError('detail.payload', 'is missing (use null for an event without data)');

  const eventId = detail.eventId ?? event.id;
  if (typeof eventId !== 'string' || eventId === '') {
    throw new InvalidEventError(detail.eventId === undefined ? 'id' : 'detail.eventId', `must be a non-empty string, got ${describe(eventId)}`);
  }
  const time = eventTime(detail.time, event.time);

  const out: DurableEvent = { eventId, key, payload: detail.payload, time };
  if (detail.scope !== undefined) {
    if (typeof detail.scope !== 'string') throw new InvalidEventError('detail.scope', `must be a string, got ${describe(detail.scope)}`);
    out.scope = detail.scope;
  }
  if (detail.seq !== undefined) {
    if (typeof detail.seq !== 'number' || !Number.isSafeInteger(detail.seq) || detail.seq < 1) {
      throw new InvalidEventError('detail.seq', `must be a positive integer (its place in the key's push order, set by events.push), got ${describe(detail.seq)}`);
    }
    out.seq = detail.seq;
  }
  if (detail.metadata !== undefined) {
    if (!isObject(detail.metadata)) throw new InvalidEventError('detail.metadata', `must be an object, got ${describe(detail.metadata)}`);
    out.metadata = detail.metadata;
  }
  // Trace context (OpenTelemetry) is optional and never fails an event: anything but a string is ignored.
  if (typeof detail.traceparent === 'string') out.traceparent = detail.traceparent;
  return out;
}

function eventTime(detailTime: unknown, envelopeTime: unknown): number {
  if (detailTime !== undefined) {
    if (typeof detailTime !== 'number' || !Number.isFinite(detailTime)) {
      throw new InvalidEventError('detail.time', `must be epoch milliseconds, got ${describe(detailTime)}`);
    }
    return detailTime;
  }
  const parsed = typeof envelopeTime === 'string' ? Date.parse(envelopeTime) : Number.NaN;
  if (Number.isNaN(parsed)) throw new InvalidEventError('time', `must be an ISO-8601 timestamp, got ${describe(envelopeTime)}`);
  return parsed;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
