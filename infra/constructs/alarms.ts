import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** How to recover a dispatch message: SQS's redrive moves it back to the dispatch queue, which the worker consumes. */
export const REDRIVE_DISPATCH = 'Inspect the messages, fix the cause, then redrive them (SQS console: "Start DLQ redrive").';

/**
 * How to recover a pushed event: its message body is the EventBridge event, and only invoking the router with it
 * routes it again (an SQS redrive would move it to a queue nothing routes from). Re-invoking keeps the event's id,
 * so runs it already woke are not woken twice.
 */
export function redeliverEvents(routerFunctionName: string): string {
  return (
    'Each message body is the EventBridge event. Fix the cause, then re-invoke the event router with each body and ' +
    `delete the message: aws lambda invoke --function-name ${routerFunctionName} --invocation-type Event ` +
    '--cli-binary-format raw-in-base64-out --payload "$BODY" /dev/null. An SQS DLQ redrive cannot re-invoke the ' +
    'router. infra/README.md ("Re-deliver failed events") has a loop that does this.'
  );
}

/** An alarm that fires as soon as a dead-letter queue holds a message; `remedy` says what to do. */
export function deadLetterAlarm(scope: Construct, id: string, queue: sqs.IQueue, what: string, remedy: string = REDRIVE_DISPATCH): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription: `${what} ${remedy}`,
    metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/** An alarm on any non-zero sum of a function metric over 5 minutes (errors, throttles). */
export function functionMetricAlarm(
  scope: Construct,
  id: string,
  metric: cloudwatch.Metric,
  description: string,
): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription: description,
    metric: metric.with({ period: Duration.minutes(5), statistic: 'Sum' }),
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/** An alarm when the oldest dispatch message has waited longer than `threshold` for 5 minutes in a row. */
export function queueAgeAlarm(scope: Construct, id: string, queue: sqs.IQueue, threshold: Duration): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription:
      `Dispatch messages wait longer than ${threshold.toHumanString()}: workers are not keeping up ` +
      '(raise durableSlots) or are failing (see the worker errors alarm and logs).',
    metric: queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
    threshold: threshold.toSeconds(),
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 5,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/** What the five alarms watch. */
export interface AlarmSources {
  readonly deadLetterQueue: sqs.IQueue;
  readonly eventDeadLetterQueue: sqs.IQueue;
  readonly queue: sqs.IQueue;
  readonly workerFunction: lambda.IFunction;
  readonly eventRouterFunction: lambda.IFunction;
}

/** The alarms an operator needs, as DurableTasks names them. */
export interface DurableAlarms {
  readonly deadLetterQueueAlarm: cloudwatch.Alarm;
  readonly eventDeadLetterQueueAlarm: cloudwatch.Alarm;
  readonly workerErrorsAlarm: cloudwatch.Alarm;
  readonly workerThrottlesAlarm: cloudwatch.Alarm;
  readonly queueAgeAlarm: cloudwatch.Alarm;
}

/** Creates the five alarms in `scope`: the DLQs' depth, worker errors and throttles, the oldest message's age. */
export function createAlarms(scope: Construct, sources: AlarmSources, queueAgeThreshold: Duration): DurableAlarms {
  return {
    deadLetterQueueAlarm: deadLetterAlarm(
      scope,
      'DeadLetterQueueAlarm',
      sources.deadLetterQueue,
      'A dispatch message failed repeatedly and was moved to the dead-letter queue; its run may be stuck until the next sweep.',
    ),
    eventDeadLetterQueueAlarm: deadLetterAlarm(
      scope,
      'EventDeadLetterQueueAlarm',
      sources.eventDeadLetterQueue,
      'A pushed event could not be routed; runs waiting for it were not woken.',
      redeliverEvents(sources.eventRouterFunction.functionName),
    ),
    workerErrorsAlarm: functionMetricAlarm(
      scope,
      'WorkerErrorsAlarm',
      sources.workerFunction.metricErrors(),
      'A worker invocation threw (a failed run does not: it is recorded). See the worker log group.',
    ),
    workerThrottlesAlarm: functionMetricAlarm(
      scope,
      'WorkerThrottlesAlarm',
      sources.workerFunction.metricThrottles(),
      'Worker invocations were throttled: the account concurrency limit is reached (durableSlots cannot be met).',
    ),
    queueAgeAlarm: queueAgeAlarm(scope, 'QueueAgeAlarm', sources.queue, queueAgeThreshold),
  };
}
