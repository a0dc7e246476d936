import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { SqsDispatcher, delaySecondsFor } from '../../sdk/adapters/aws/sqs-dispatcher.ts';
import { parseDispatchBody } from '../../sdk/core/dispatch-message.ts';

const QueueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/durable-dispatch';
const sqsMock = mockClient(SQSClient);
let dispatcher: SqsDispatcher;

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm1' });
  dispatcher = new SqsDispatcher({ client: new SQSClient({ region: 'us-east-1' }), queueUrl: QueueUrl });
});
afterEach(() => sqsMock.reset());

const sent = () => sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input);

describe('dispatch', () => {
  test('sends {"runId"} with no delay', async () => {
    await dispatcher.dispatch({ runId: 'r-1' });
    await dispatcher.dispatch({ runId: 'r-2' }, { delayMs: 0 });
    expect(sent()).toEqual([
      { QueueUrl, MessageBody: '{"runId":"r-1"}' },
      { QueueUrl, MessageBody: '{"runId":"r-2"}' },
    ]);
  });

  test('rounds a delay up to whole seconds (never early) and caps it at 900', async () => {
    for (const delayMs of [1, 999, 1000, 1001, 59_500, 900_000, 900_001, 3_600_000]) await dispatcher.dispatch({ runId: 'r' }, { delayMs });
    expect(sent().map((i) => i.DelaySeconds)).toEqual([1, 1, 1, 2, 60, 900, 900, 900]);
  });

  test('a negative or non-finite delay sends at once', async () => {
    await dispatcher.dispatch({ runId: 'r' }, { delayMs: -5_000 });
    await dispatcher.dispatch({ runId: 'r' }, { delayMs: Number.NaN });
    expect(sent().map((i) => i.DelaySeconds)).toEqual([undefined, undefined]);
    expect(delaySecondsFor(Number.POSITIVE_INFINITY)).toBe(900);
  });

  test('only runId goes on the wire', async () => {
    await dispatcher.dispatch({ runId: 'r', extra: 'x' } as { runId: string });
    expect(sent()[0]?.MessageBody).toBe('{"runId":"r"}');
  });
});

describe('receive', () => {
  test('long-polls with WaitTimeSeconds rounded up (max 20) and MaxNumberOfMessages clamped to 1..10', async () => {
    sqsMock.on(ReceiveMessageCommand).resolves({});
    await dispatcher.receive(5, 1500);
    await dispatcher.receive(50, 60_000);
    await dispatcher.receive(0, 0);
    expect(sqsMock.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl, MaxNumberOfMessages: 5, WaitTimeSeconds: 2 },
      { QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20 },
      { QueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0 },
    ]);
  });

  test('each message acks with DeleteMessage and retries with ChangeMessageVisibility', async () => {
    sqsMock.on(ReceiveMessageCommand).resolves({
      Messages: [
        { Body: '{"runId":"r-1"}', ReceiptHandle: 'h1' },
        { Body: 'not json', ReceiptHandle: 'h2' },
      ],
    });
    sqsMock.on(DeleteMessageCommand).resolves({});
    sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
    const [first, second] = await dispatcher.receive(10, 1000);
    expect(first).toMatchObject({ message: { runId: 'r-1' }, body: '{"runId":"r-1"}' });
    expect(second).toMatchObject({ message: undefined, body: 'not json' });
    await first!.ack();
    await second!.retry(2500);
    await second!.retry(100 * 3_600_000);
    expect(sqsMock.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input)).toEqual([{ QueueUrl, ReceiptHandle: 'h1' }]);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl, ReceiptHandle: 'h2', VisibilityTimeout: 3 },
      { QueueUrl, ReceiptHandle: 'h2', VisibilityTimeout: 43_200 },
    ]);
  });

  test('passes the abort signal to the SDK; an aborted poll resolves with nothing', async () => {
    const controller = new AbortController();
    sqsMock.on(ReceiveMessageCommand).callsFake(() => {
      controller.abort();
      throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    });
    expect(await dispatcher.receive(1, 20_000, controller.signal)).toEqual([]);
    expect((sqsMock.commandCalls(ReceiveMessageCommand)[0]?.args as unknown[] | undefined)?.[1]).toEqual({ abortSignal: controller.signal });
    expect(await dispatcher.receive(1, 20_000, controller.signal)).toEqual([]);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(1);
  });

  test('other receive errors propagate', async () => {
    sqsMock.on(ReceiveMessageCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    await expect(dispatcher.receive(1, 1000)).rejects.toThrow('denied');
  });
});

describe('parseDispatchBody', () => {
  test('accepts {"runId": non-empty string} and nothing else', () => {
    expect(parseDispatchBody('{"runId":"r-1"}')).toEqual({ runId: 'r-1' });
    expect(parseDispatchBody('{"runId":"r-1","other":1}')).toEqual({ runId: 'r-1' });
    for (const body of ['', 'x', '[]', 'null', '"r"', '{}', '{"runId":""}', '{"runId":7}', '["runId"]', '{"runId":null}']) {
      expect(parseDispatchBody(body), body).toBeUndefined();
    }
  });
});
