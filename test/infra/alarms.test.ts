import { describe, expect, it } from 'vitest';
import { build, logicalId, resourcesOf } from './support.ts';

/** infra/constructs/alarms.ts: what each alarm watches and what its description tells the operator. */
describe('given a DurableTasks with default props', () => {
  const { stack, durable, template } = build();

  it('then the DLQ alarms say how to recover: a redrive for dispatch messages, re-invoking the router (never an SQS redrive) for events', () => {
    const description = (construct: { node: { defaultChild?: unknown } }) =>
      JSON.stringify(resourcesOf(template, 'AWS::CloudWatch::Alarm')[logicalId(stack, construct)]?.Properties.AlarmDescription);
    expect(description(durable.deadLetterQueueAlarm)).toContain('Start DLQ redrive');
    const events = description(durable.eventDeadLetterQueueAlarm);
    expect(events).toContain('aws lambda invoke --function-name ');
    expect(events).toContain(JSON.stringify({ Ref: logicalId(stack, durable.eventRouterFunction) }));
    expect(events).toContain('cannot re-invoke the router');
    expect(events).not.toContain('Start DLQ redrive');
  });

  it('then the five alarms watch the DLQs, worker errors and throttles, and the oldest message age', () => {
    const alarm = (construct: { node: { defaultChild?: unknown } }) =>
      resourcesOf(template, 'AWS::CloudWatch::Alarm')[logicalId(stack, construct)]?.Properties;
    const queueDim = (q: { node: { defaultChild?: unknown } }) => [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, q), 'QueueName'] } }];
    const fnDim = [{ Name: 'FunctionName', Value: { Ref: logicalId(stack, durable.workerFunction) } }];
    expect(alarm(durable.deadLetterQueueAlarm)).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Dimensions: queueDim(durable.deadLetterQueue),
      Statistic: 'Maximum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching',
    });
    expect(alarm(durable.eventDeadLetterQueueAlarm)).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: queueDim(durable.eventDeadLetterQueue), Threshold: 0,
    });
    expect(alarm(durable.workerErrorsAlarm)).toMatchObject({
      MetricName: 'Errors', Namespace: 'AWS/Lambda', Dimensions: fnDim, Statistic: 'Sum', Period: 300, Threshold: 0,
    });
    expect(alarm(durable.workerThrottlesAlarm)).toMatchObject({
      MetricName: 'Throttles', Namespace: 'AWS/Lambda', Dimensions: fnDim, Statistic: 'Sum', Threshold: 0,
    });
    expect(alarm(durable.queueAgeAlarm)).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage', Dimensions: queueDim(durable.queue), Statistic: 'Maximum',
      Threshold: 30 * 60, EvaluationPeriods: 5, ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(durable.alarms).toHaveLength(5);
  });
});
