/**
 * A client whose runs are processed only when the test hands their messages to a worker's Lambda handler
 * (as SQS would), on memory adapters and a virtual clock; and the AWS event shapes the handlers receive.
 */
import { randomUUID } from 'node:crypto';
import { Durable, type Worker } from 'durable-tasks';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../infra/constants.ts';
import { createMemoryBackend, VirtualClock } from '../../sdk/adapters/memory/index.ts';

/** An SQS record as the Lambda event source delivers it. */
export function sqsRecord(body: string) {
  const messageId = randomUUID();
  return {
    messageId,
    receiptHandle: `AQEB${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1893456000000', SenderId: 'AIDA', ApproximateFirstReceiveTimestamp: '1893456000000' },
    messageAttributes: {},
    md5OfBody: 'x',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:durable-dispatch',
    awsRegion: 'us-east-1',
  };
}

/** An EventBridge event as a rule target receives it. */
export function eventBridgeEvent(detail: unknown, extra: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': EVENT_DETAIL_TYPE,
    source: EVENT_SOURCE,
    account: '123456789012',
    time: '2030-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail,
    ...extra,
  };
}

export function manualClient() {
  const clock = new VirtualClock();
  const backend = createMemoryBackend(clock);
  const durable = new Durable({ backend, embeddedWorker: 'none', cancelPollMs: 0, log: () => undefined });
  return {
    durable,
    backend,
    clock,
    /** Feeds every queued dispatch to `worker`'s Lambda handler, batch after batch, until the queue is empty. */
    async drain(worker: Worker) {
      const handler = worker.lambdaHandler();
      for (;;) {
        const messages = await backend.dispatcher.receive(10, 0);
        if (messages.length === 0) return;
        const response = await handler({ Records: messages.map((m) => sqsRecord(m.body)) });
        if (response.batchItemFailures.length) throw new Error(`unexpected batch failures: ${JSON.stringify(response.batchItemFailures)}`);
      }
    },
    /** Drops every queued dispatch (the test delivers by hand). */
    async discardQueue() {
      while ((await backend.dispatcher.receive(10, 0)).length > 0);
    },
    close: () => durable.close(),
  };
}

export type ManualClient = ReturnType<typeof manualClient>;

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection, but it resolved');
}

/** The error a function throws. */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}
