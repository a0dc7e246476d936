/**
 * The construct's queues: the dispatch queue that wakes workers, its dead-letter queue, and the dead-letter queue
 * of pushed events the router could not handle. SSE-SQS, not KMS: same AES-256 at rest with no key policy to open to
 * EventBridge, Scheduler and every producer, and no KMS request per message.
 */
import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { DurableSettings } from './settings.ts';

/** The three queues of a DurableTasks, as its public properties name them. */
export interface DurableQueues {
  readonly deadLetterQueue: sqs.Queue;
  readonly queue: sqs.Queue;
  readonly eventDeadLetterQueue: sqs.Queue;
}

/** Creates `DeadLetterQueue`, `Queue` and `EventDeadLetterQueue` in `scope`, in that order. */
export function createQueues(scope: Construct, settings: DurableSettings): DurableQueues {
  const { removalPolicy, workerTimeout, maxBatchingWindow } = settings;
  const deadLetterQueue = new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy,
  });
  const queue = new sqs.Queue(scope, 'Queue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    // AWS's rule for Lambda event sources: at least 6 times the function timeout, plus the batching window.
    visibilityTimeout: Duration.seconds(workerTimeout.toSeconds() * 6 + (maxBatchingWindow?.toSeconds() ?? 0)),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
    removalPolicy,
  });
  const eventDeadLetterQueue = new sqs.Queue(scope, 'EventDeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy,
  });
  return { deadLetterQueue, queue, eventDeadLetterQueue };
}
