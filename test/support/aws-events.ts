/** The AWS event shapes the Lambda handlers receive. */
import { randomUUID } from 'node:crypto';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../sdk/adapters/aws/env.ts';

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

