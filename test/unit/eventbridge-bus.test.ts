import { beforeEach, describe, expect, test } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../sdk/adapters/aws/env.ts';
import { DurableError, PayloadTooLargeError } from '../../sdk/core/errors.ts';
import { EventBridgeBus, MAX_EVENT_ENTRY_BYTES, parseEventBridgeEvent, putEventsEntrySize } from '../../sdk/adapters/aws/eventbridge-bus.ts';
import { InvalidEventError } from '../../sdk/adapters/aws/invalid-event-error.ts';
import type { DurableEvent } from '../../sdk/ports.ts';

const eventsMock = mockClient(EventBridgeClient);
const EventBusName = 'durable-tasks-bus';
let bus: EventBridgeBus;

beforeEach(() => {
  eventsMock.reset();
  eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'eb-1' }] });
  bus = new EventBridgeBus({ client: new EventBridgeClient({ region: 'us-east-1' }), eventBusName: EventBusName });
});

const TIME = Date.UTC(2030, 0, 1);
const full: DurableEvent = { eventId: 'e-1', key: 'order:paid', payload: { amount: 120 }, scope: 'tenant-a', metadata: { by: 'test' }, time: TIME };

/** The event the router Lambda receives for a PutEvents entry. */
function asDelivered(entry: { Source?: string; DetailType?: string; Detail?: string; Time?: Date }, id = 'eb-1') {
  return {
    version: '0',
    id,
    'detail-type': entry.DetailType,
    source: entry.Source,
    account: '123456789012',
    time: (entry.Time ?? new Date(TIME)).toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: JSON.parse(entry.Detail ?? '{}') as unknown,
  };
}

describe('publish', () => {
  test('one PutEvents entry on the bus with source, detail-type and the event as detail', async () => {
    await bus.publish(full);
    const input = eventsMock.commandCalls(PutEventsCommand)[0]?.args[0].input;
    expect(input).toEqual({
      Entries: [{ EventBusName, Source: EVENT_SOURCE, DetailType: EVENT_DETAIL_TYPE, Detail: expect.any(String), Time: new Date(TIME) }],
    });
    expect(JSON.parse(input!.Entries![0]!.Detail!)).toEqual({ eventId: 'e-1', key: 'order:paid', payload: { amount: 120 }, scope: 'tenant-a', metadata: { by: 'test' }, time: TIME });
  });

  test('optional fields are left out of the detail', async () => {
    await bus.publish({ eventId: 'e-2', key: 'k', payload: null, time: TIME });
    const detail = JSON.parse(eventsMock.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!.Detail!) as Record<string, unknown>;
    expect(detail).toEqual({ eventId: 'e-2', key: 'k', payload: null, time: TIME });
    expect(Object.keys(detail)).not.toContain('scope');
  });

  test('a failed entry rejects with a DurableError naming the error code', async () => {
    eventsMock.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });
    const error = await bus.publish(full).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DurableError);
    expect((error as Error).message).toContain('InternalFailure');
    expect((error as Error).message).toContain('order:paid');
  });

  test('what publish puts, parseEventBridgeEvent reads back unchanged', async () => {
    await bus.publish(full);
    await bus.publish({ eventId: 'e-3', key: 'k', payload: [1, 'two'], time: TIME + 1 });
    const entries = eventsMock.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]!);
    expect(parseEventBridgeEvent(asDelivered(entries[0]!))).toEqual(full);
    expect(parseEventBridgeEvent(asDelivered(entries[1]!))).toEqual({ eventId: 'e-3', key: 'k', payload: [1, 'two'], time: TIME + 1 });
  });

  test('the sequence number events.push took travels in the detail and is read back', async () => {
    await bus.publish({ eventId: 'e-4', key: 'k', payload: 1, time: TIME, seq: 1_893_456_000_000_123 });
    const entry = eventsMock.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(JSON.parse(entry.Detail!)).toMatchObject({ seq: 1_893_456_000_000_123 });
    expect(parseEventBridgeEvent(asDelivered(entry))).toEqual({ eventId: 'e-4', key: 'k', payload: 1, time: TIME, seq: 1_893_456_000_000_123 });
  });
});

describe('parseEventBridgeEvent', () => {
  const base = () => ({
    id: 'eb-42',
    source: 'my-app',
    'detail-type': EVENT_DETAIL_TYPE,
    time: '2030-01-01T00:00:05Z',
    detail: { key: 'order:paid', payload: { amount: 5 } } as Record<string, unknown>,
  });

  test('an event put without the SDK: eventId and time come from the envelope', () => {
    expect(parseEventBridgeEvent(base())).toEqual({ eventId: 'eb-42', key: 'order:paid', payload: { amount: 5 }, time: Date.UTC(2030, 0, 1, 0, 0, 5) });
  });

  test('a detail given as JSON text is accepted; null is a payload', () => {
    const event = { ...base(), detail: JSON.stringify({ key: 'k', payload: null, scope: 's' }) };
    expect(parseEventBridgeEvent(event)).toMatchObject({ key: 'k', payload: null, scope: 's' });
  });

  const invalid: [string, (e: ReturnType<typeof base>) => unknown, string][] = [
    ['not an object', () => 'hello', 'event'],
    ['null', () => null, 'event'],
    ['no source', (e) => ({ ...e, source: undefined }), 'source'],
    ['wrong detail-type', (e) => ({ ...e, 'detail-type': 'Object Created' }), 'detail-type'],
    ['no detail', (e) => ({ ...e, detail: undefined }), 'detail'],
    ['detail not JSON', (e) => ({ ...e, detail: '{nope' }), 'detail'],
    ['detail an array', (e) => ({ ...e, detail: [] }), 'detail'],
    ['no key', (e) => ({ ...e, detail: { payload: 1 } }), 'detail.key'],
    ['empty key', (e) => ({ ...e, detail: { key: '', payload: 1 } }), 'detail.key'],
    ['key not a string', (e) => ({ ...e, detail: { key: 7, payload: 1 } }), 'detail.key'],
    ['key too long', (e) => ({ ...e, detail: { key: 'k'.repeat(257), payload: 1 } }), 'detail.key'],
    ['no payload', (e) => ({ ...e, detail: { key: 'k' } }), 'detail.payload'],
    ['scope not a string', (e) => ({ ...e, detail: { key: 'k', payload: 1, scope: 3 } }), 'detail.scope'],
    ['metadata not an object', (e) => ({ ...e, detail: { key: 'k', payload: 1, metadata: 'x' } }), 'detail.metadata'],
    ['eventId empty', (e) => ({ ...e, detail: { key: 'k', payload: 1, eventId: '' } }), 'detail.eventId'],
    ['no id at all', (e) => ({ ...e, id: undefined }), 'id'],
    ['detail.time not a number', (e) => ({ ...e, detail: { key: 'k', payload: 1, time: 'soon' } }), 'detail.time'],
    ['no time at all', (e) => ({ ...e, time: undefined }), 'time'],
    ['seq not a number', (e) => ({ ...e, detail: { key: 'k', payload: 1, seq: '5' } }), 'detail.seq'],
    ['seq zero', (e) => ({ ...e, detail: { key: 'k', payload: 1, seq: 0 } }), 'detail.seq'],
    ['seq fractional', (e) => ({ ...e, detail: { key: 'k', payload: 1, seq: 1.5 } }), 'detail.seq'],
  ];

  test.each(invalid)('%s: InvalidEventError naming %s', (_label, make, field) => {
    let caught: unknown;
    try {
      parseEventBridgeEvent(make(base()));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidEventError);
    expect(caught).toBeInstanceOf(DurableError);
    expect((caught as InvalidEventError).field).toBe(field);
    expect((caught as Error).message).toContain(`'${field}'`);
    expect((caught as Error).name).toBe('InvalidEventError');
  });

  test('a 256-character key is accepted', () => {
    const key = 'k'.repeat(256);
    expect(parseEventBridgeEvent({ ...base(), detail: { key, payload: 1 } }).key).toBe(key);
  });
});

describe('publish: the whole entry is size-checked before PutEvents', () => {
  test('a payload just under 256 KiB, whose entry is over 256 KB with its envelope, is a PayloadTooLargeError and nothing is sent', async () => {
    const payload = 'p'.repeat(256 * 1024 - 10); // within the payload limit (JSON adds 2 quotes)
    const error = await bus.publish({ eventId: 'e-big', key: 'order:paid', payload, scope: 'tenant-a', time: TIME }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    const tooLarge = error as PayloadTooLargeError;
    expect(tooLarge.limit).toBe(MAX_EVENT_ENTRY_BYTES);
    expect(tooLarge.size).toBeGreaterThan(MAX_EVENT_ENTRY_BYTES);
    expect(tooLarge.message).toContain(`${tooLarge.size} bytes`);
    expect(tooLarge.message).toContain(`${MAX_EVENT_ENTRY_BYTES}-byte limit`);
    expect(eventsMock.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  test('the size is computed as AWS does: 14 bytes for Time plus the UTF-8 bytes of Source, DetailType and Detail; at the limit it is sent', async () => {
    const overhead = putEventsEntrySize({ Time: new Date(TIME), Source: EVENT_SOURCE, DetailType: EVENT_DETAIL_TYPE, Detail: JSON.stringify({ eventId: 'e', key: 'k', payload: '', time: TIME }) });
    expect(overhead).toBe(14 + Buffer.byteLength(EVENT_SOURCE) + Buffer.byteLength(EVENT_DETAIL_TYPE) + Buffer.byteLength(JSON.stringify({ eventId: 'e', key: 'k', payload: '', time: TIME })));
    // 'é' is 2 bytes in UTF-8: the check counts bytes, not characters.
    expect(putEventsEntrySize({ Source: 'é', DetailType: 'd', Detail: 'ü' })).toBe(5);
    const exact = 'a'.repeat(MAX_EVENT_ENTRY_BYTES - overhead);
    await bus.publish({ eventId: 'e', key: 'k', payload: exact, time: TIME });
    const sent = eventsMock.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(putEventsEntrySize(sent)).toBe(MAX_EVENT_ENTRY_BYTES);
    await expect(bus.publish({ eventId: 'e', key: 'k', payload: `${exact}a`, time: TIME })).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect(eventsMock.commandCalls(PutEventsCommand)).toHaveLength(1);
  });
});
