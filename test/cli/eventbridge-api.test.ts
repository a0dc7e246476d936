/**
 * The dev server's EventBridge endpoint (PutEvents, AWS JSON 1.1) driven by `@aws-sdk/client-eventbridge`,
 * against a test-environment client (virtual clock) served on a free port.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { startHarness, type Harness } from './helpers.ts';

let h: Harness;
let client: EventBridgeClient;
beforeAll(async () => {
  h = await startHarness();
  client = new EventBridgeClient({ endpoint: h.server.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
});
afterAll(async () => {
  client?.destroy();
  await h?.close();
});

const BUS = 'durable-tasks';
const entry = (detail: unknown, extra: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  EventBusName: BUS,
  Source: 'durable-tasks',
  DetailType: 'durable-tasks.event',
  Detail: typeof detail === 'string' ? detail : JSON.stringify(detail),
  ...extra,
});

async function rawPut(body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${h.server.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents', ...headers },
    body,
  });
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Record<string, any> };
}

describe('given a dev server, PutEvents on its EventBridge endpoint', () => {
  test('resumes a waiting run; a malformed entry fails alone with an AWS error code while the others go through', async () => {
    const ref = await h.defs.approval.runNoWait({ doc: 'eb-1' });
    await h.env.settle();
    expect((await h.env.durable.runs.get(ref.runId)).status).toBe('WAITING');

    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          entry('{not json'),
          entry({ key: 'doc:approved', payload: { doc: 'eb-1', by: 'sdk' } }),
          entry({ payload: { doc: 'eb-1' } }),
          entry({ key: 'doc:approved', payload: {} }, { Source: 'my-app' }),
          entry({ key: 'doc:approved', payload: {} }, { EventBusName: undefined }),
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(4);
    expect(out.Entries).toHaveLength(5);
    expect(out.Entries![0]).toMatchObject({ ErrorCode: 'MalformedDetail' });
    expect(out.Entries![1]!.EventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.Entries![1]!.ErrorCode).toBeUndefined();
    expect(out.Entries![2]).toMatchObject({ ErrorCode: 'InvalidArgument', ErrorMessage: expect.stringContaining('detail.key') });
    expect(out.Entries![3]).toMatchObject({ ErrorCode: 'InvalidArgument', ErrorMessage: expect.stringContaining("Source 'my-app'") });
    expect(out.Entries![4]).toMatchObject({ ErrorCode: 'InvalidArgument', ErrorMessage: expect.stringContaining('default bus') });

    await h.env.settle();
    const done = await h.env.durable.runs.get(ref.runId);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toMatchObject({ doc: 'eb-1', decision: { 'doc:approved': { doc: 'eb-1', by: 'sdk' } } });
  });

  test('an event bus ARN naming the local bus is accepted; scope and a workflow start behave as on AWS', async () => {
    const out = await client.send(
      new PutEventsCommand({
        Entries: [entry({ key: 'order:placed', payload: { total: 10 } }, { EventBusName: `arn:aws:events:us-east-1:000000000000:event-bus/${BUS}` })],
      }),
    );
    expect(out.FailedEntryCount).toBe(0);
    const eventId = out.Entries![0]!.EventId!;
    await h.env.settle();
    // A workflow whose onEvents names the key starts once per event, keyed by the event id the router saw.
    const run = await h.env.durable.runs.get(`order-fulfilment:${eventId}`);
    expect(run.name).toBe('order-fulfilment');
  });

  test('more than 10 entries is a ValidationException for the whole request, as on AWS', async () => {
    const entries = Array.from({ length: 11 }, (_, i) => entry({ key: 'nobody:waits', payload: { i } }));
    const error = await client.send(new PutEventsCommand({ Entries: entries })).then(
      () => undefined,
      (e: Error & { $metadata?: { httpStatusCode?: number } }) => e,
    );
    expect(error?.name).toBe('ValidationException');
    expect(error?.message).toContain('less than or equal to 10');
    expect(error?.$metadata?.httpStatusCode).toBe(400);
  });

  test('a body that is not JSON, another operation or another content type get AWS-shaped errors with __type', async () => {
    const notJson = await rawPut('{"Entries": [');
    expect(notJson.status).toBe(400);
    expect(notJson.type).toBe('application/x-amz-json-1.1');
    expect(notJson.body).toMatchObject({ __type: 'SerializationException', message: expect.stringContaining('not valid JSON') });

    const noEntries = await rawPut('{}');
    expect(noEntries.body.__type).toBe('ValidationException');

    const other = await rawPut('{}', { 'x-amz-target': 'AWSEvents.ListRules' });
    expect(other.status).toBe(400);
    expect(other.body).toMatchObject({ __type: 'UnknownOperationException', message: expect.stringContaining('AWSEvents.PutEvents') });

    const wrongType = await rawPut('{}', { 'content-type': 'text/plain' });
    expect(wrongType.body.__type).toBe('SerializationException');
  });

  test('the dashboard and JSON API on the same port are unchanged (GET / is still the page)', async () => {
    const res = await fetch(`${h.server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  });
});
