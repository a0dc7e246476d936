import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SqsDispatcher } from '../../sdk/adapters/aws/sqs-dispatcher.ts';
import { InMemoryRequestCounter } from '../../sdk/adapters/aws/request-counter.ts';
import { createQueue, sqsClient, startFauxqs, type LocalServer } from '../support/servers.ts';

let fauxqs: LocalServer;
let client: SQSClient;
beforeAll(async () => {
  fauxqs = await startFauxqs();
  client = sqsClient(fauxqs.endpoint);
});
afterAll(async () => {
  client?.destroy();
  await fauxqs?.stop();
});

let queueUrl: string;
let counter: InMemoryRequestCounter;
let dispatcher: SqsDispatcher;
beforeEach(async () => {
  queueUrl = await createQueue(client, `dispatch-${randomUUID()}`, { VisibilityTimeout: '30' });
  counter = new InMemoryRequestCounter();
  dispatcher = new SqsDispatcher({ client, queueUrl, counter });
});

describe('SqsDispatcher on fauxqs', () => {
  test('dispatch, receive, ack: an acknowledged message is gone', async () => {
    await dispatcher.dispatch({ runId: 'r-1' });
    const [received, ...rest] = await dispatcher.receive(10, 1000);
    expect(rest).toEqual([]);
    expect(received).toMatchObject({ message: { runId: 'r-1' }, body: '{"runId":"r-1"}' });
    await received!.ack();
    expect(await dispatcher.receive(10, 0)).toEqual([]);
    expect(counter.snapshot()).toEqual({ 'SQS.SendMessage': 1, 'SQS.ReceiveMessage': 2, 'SQS.DeleteMessage': 1 });
  });

  test('a delayed dispatch (1 s) is not received at once, and is received after the delay', async () => {
    const sentAt = Date.now();
    await dispatcher.dispatch({ runId: 'later' }, { delayMs: 1 });
    expect(await dispatcher.receive(10, 0)).toEqual([]);
    const received = await dispatcher.receive(10, 3000);
    expect(received.map((m) => m.message)).toEqual([{ runId: 'later' }]);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(900);
  });

  test('retry makes a message visible again after the delay', async () => {
    await dispatcher.dispatch({ runId: 'r-2' });
    const [first] = await dispatcher.receive(1, 1000);
    await first!.retry(1000);
    expect(await dispatcher.receive(1, 0)).toEqual([]);
    const [again] = await dispatcher.receive(1, 3000);
    expect(again?.message).toEqual({ runId: 'r-2' });
    await again!.ack();
  });

  test('a malformed body is delivered as message: undefined with the raw body', async () => {
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'hello, not json' }));
    const [received] = await dispatcher.receive(1, 1000);
    expect(received?.message).toBeUndefined();
    expect(received?.body).toBe('hello, not json');
    await received!.ack();
  });

  test('receive returns up to max messages', async () => {
    for (let i = 0; i < 5; i++) await dispatcher.dispatch({ runId: `r-${i}` });
    const got: string[] = [];
    for (let i = 0; i < 5 && got.length < 5; i++) {
      const batch = await dispatcher.receive(3, 500);
      expect(batch.length).toBeLessThanOrEqual(3);
      got.push(...batch.map((m) => m.message!.runId));
    }
    expect(got.sort()).toEqual(['r-0', 'r-1', 'r-2', 'r-3', 'r-4']);
  });

  test('an aborted long poll resolves with nothing, promptly', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    expect(await dispatcher.receive(1, 20_000, controller.signal)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
