/**
 * Timers on AWS: up to 15 minutes, an SQS message with `DelaySeconds` (one request); beyond, a one-time
 * EventBridge Scheduler schedule that sends the same message to the queue and deletes itself.
 */
import { createHash } from 'node:crypto';
import { CreateScheduleCommand, DeleteScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DispatchMessage, RequestCounter, Timers } from '../../ports.ts';
import { countRequests } from './request-counter.ts';
import { MAX_DELAY_SECONDS, SqsDispatcher } from './sqs-dispatcher.ts';
import { dispatchBody } from '../../core/dispatch-message.ts';

/** Options of {@link AwsTimers}. */
export interface AwsTimersOptions {
  /** The dispatch queue, for timers due within 15 minutes. */
  sqs: SqsDispatcher | { client: SQSClient; queueUrl: string };
  scheduler: SchedulerClient;
  /** Schedule group holding the timers' schedules. */
  groupName: string;
  /** ARN of the dispatch queue (the schedules' target). */
  queueArn: string;
  /** Role EventBridge Scheduler assumes to send to the queue. */
  roleArn: string;
  /** @default Date.now */
  now?: () => number;
  /** When given, the clients are instrumented so every request is counted. */
  counter?: RequestCounter;
}

/** Longest delay SQS can carry. */
const SQS_LIMIT_MS = MAX_DELAY_SECONDS * 1000;
const NAME_PATTERN = /^[0-9a-zA-Z_.-]{1,64}$/;

/**
 * Timers on SQS delays and EventBridge Scheduler. `schedule` is idempotent per timer id (a schedule that
 * already exists is success). Timers never fire early: delays and schedule times are rounded up to the
 * next whole second.
 *
 * `cancel` deletes the schedule if there is one (one Scheduler request, whichever way the timer was set,
 * since the id does not say). A timer carried by an SQS delay cannot be recalled: it fires, and the worker
 * it wakes finds the run not due and does nothing.
 *
 * @example
 * const timers = new AwsTimers({ sqs: dispatcher, scheduler: new SchedulerClient({}), groupName, queueArn, roleArn });
 * await timers.schedule(`${runId}-0-3-0-${dueAt}`, dueAt, { runId });
 */
export class AwsTimers implements Timers {
  private readonly sqs: SqsDispatcher;
  private readonly scheduler: SchedulerClient;
  private readonly groupName: string;
  private readonly queueArn: string;
  private readonly roleArn: string;
  private readonly now: () => number;

  constructor(options: AwsTimersOptions) {
    this.sqs =
      options.sqs instanceof SqsDispatcher
        ? options.sqs
        : new SqsDispatcher({ client: options.sqs.client, queueUrl: options.sqs.queueUrl, ...(options.counter ? { counter: options.counter } : {}) });
    this.scheduler = options.scheduler;
    this.groupName = options.groupName;
    this.queueArn = options.queueArn;
    this.roleArn = options.roleArn;
    this.now = options.now ?? Date.now;
    if (options.counter) {
      countRequests(this.scheduler, options.counter);
      countRequests(this.sqs.client, options.counter);
    }
  }

  async schedule(timerId: string, dueAt: number, message: DispatchMessage): Promise<void> {
    const delayMs = dueAt - this.now();
    if (delayMs <= SQS_LIMIT_MS) {
      await this.sqs.dispatch(message, { delayMs });
      return;
    }
    try {
      await this.scheduler.send(
        new CreateScheduleCommand({
          Name: scheduleName(timerId),
          GroupName: this.groupName,
          ScheduleExpression: atExpression(dueAt),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: { Arn: this.queueArn, RoleArn: this.roleArn, Input: dispatchBody(message) },
        }),
      );
    } catch (error) {
      if (errorName(error) !== 'ConflictException') throw error;
    }
  }

  async cancel(timerId: string): Promise<void> {
    try {
      await this.scheduler.send(new DeleteScheduleCommand({ Name: scheduleName(timerId), GroupName: this.groupName }));
    } catch (error) {
      if (errorName(error) !== 'ResourceNotFoundException') throw error;
    }
  }
}

/**
 * A Scheduler one-time expression for `dueAt` (epoch ms), in UTC, rounded up to the next whole second.
 *
 * @example
 * atExpression(Date.UTC(2030, 0, 2, 3, 4, 5, 1)); // 'at(2030-01-02T03:04:06)'
 */
export function atExpression(dueAt: number): string {
  const seconds = Math.ceil(dueAt / 1000);
  return `at(${new Date(seconds * 1000).toISOString().slice(0, 19)})`;
}

/**
 * A valid schedule name for a timer id: the id itself when it fits `[0-9a-zA-Z-_.]{1,64}`; otherwise the
 * id with other characters replaced by `_`, cut to 47 characters, plus `-` and 16 hex digits of its
 * SHA-256 (so two ids never share a name).
 */
export function scheduleName(timerId: string): string {
  if (NAME_PATTERN.test(timerId)) return timerId;
  const hash = createHash('sha256').update(timerId).digest('hex').slice(0, 16);
  return `${timerId.replace(/[^0-9a-zA-Z_.-]/g, '_').slice(0, 64 - 17)}-${hash}`;
}

function errorName(error: unknown): unknown {
  return (error as { name?: unknown } | null)?.name;
}
