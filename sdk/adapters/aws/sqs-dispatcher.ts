/**
 * The dispatch queue on SQS: tiny `{"runId":"..."}` messages asking some worker to replay a run.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DispatchMessage, Dispatcher, ReceivedMessage, RequestCounter, RouteContinuation } from '../../ports.ts';
import { countRequests } from './request-counter.ts';
import { continuationBody, dispatchBody, parseDispatchBody } from '../../core/dispatch-message.ts';

/** SQS caps `DelaySeconds` at 15 minutes. */
export const MAX_DELAY_SECONDS = 900;
/** SQS caps long polling at 20 seconds. */
export const MAX_WAIT_SECONDS = 20;
/** SQS caps `VisibilityTimeout` at 12 hours. */
export const MAX_VISIBILITY_SECONDS = 43_200;
/** SQS returns at most 10 messages per receive. */
export const MAX_RECEIVE = 10;

/** Options of {@link SqsDispatcher}. */
export interface SqsDispatcherOptions {
  client: SQSClient;
  queueUrl: string;
  /** When given, the client is instrumented so every request is counted. */
  counter?: RequestCounter;
}

/**
 * Dispatcher on one SQS standard queue. `dispatch` is one SendMessage; a delay is rounded up to whole
 * seconds (a message never arrives early) and capped at 15 minutes (longer waits belong to `AwsTimers`).
 *
 * @example
 * const queue = new SqsDispatcher({ client: new SQSClient({}), queueUrl: process.env.DURABLE_QUEUE_URL! });
 * await queue.dispatch({ runId }, { delayMs: 5_000 });
 */
export class SqsDispatcher implements Dispatcher {
  readonly client: SQSClient;
  readonly queueUrl: string;

  constructor(options: SqsDispatcherOptions) {
    this.client = options.client;
    this.queueUrl = options.queueUrl;
    if (options.counter) countRequests(this.client, options.counter);
  }

  async dispatch(message: DispatchMessage, options?: { delayMs?: number }): Promise<void> {
    const delaySeconds = delaySecondsFor(options?.delayMs ?? 0);
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: dispatchBody(message),
        ...(delaySeconds > 0 ? { DelaySeconds: delaySeconds } : {}),
      }),
    );
  }

  /** One SendMessage: the rest of an event's routing, for the worker's Lambda handler to give to the router. */
  async continueRoute(continuation: RouteContinuation): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: continuationBody(continuation) }));
  }

  /**
   * One ReceiveMessage long poll (`waitMs` rounded up to seconds, at most 20 s; `max` clamped to 1..10).
   * An abort through `signal` resolves with no messages rather than rejecting, so a stopping worker
   * simply sees an empty poll.
   */
  async receive(max: number, waitMs: number, signal?: AbortSignal): Promise<ReceivedMessage[]> {
    if (signal?.aborted) return [];
    let messages;
    try {
      ({ Messages: messages } = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: Math.min(MAX_RECEIVE, Math.max(1, Math.floor(max))),
          WaitTimeSeconds: Math.min(MAX_WAIT_SECONDS, Math.max(0, Math.ceil(waitMs / 1000))),
        }),
        signal ? { abortSignal: signal } : {},
      ));
    } catch (error) {
      if (signal?.aborted) return [];
      throw error;
    }
    return (messages ?? []).map((m) => this.received(m.Body ?? '', m.ReceiptHandle ?? ''));
  }

  private received(body: string, receiptHandle: string): ReceivedMessage {
    return {
      message: parseDispatchBody(body),
      body,
      ack: async () => {
        await this.client.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle }));
      },
      retry: async (delayMs: number) => {
        await this.client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: this.queueUrl,
            ReceiptHandle: receiptHandle,
            VisibilityTimeout: Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(delayMs / 1000))),
          }),
        );
      },
    };
  }
}

/** `DelaySeconds` for a delay: rounded up, never negative, at most 900. */
export function delaySecondsFor(delayMs: number): number {
  if (!(delayMs > 0)) return 0;
  return Math.min(MAX_DELAY_SECONDS, Math.ceil(delayMs / 1000));
}
