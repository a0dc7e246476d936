import { beforeEach, describe, expect, test } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AwsTimers, atExpression, scheduleName } from '../../sdk/adapters/aws/timers.ts';
import { SqsDispatcher } from '../../sdk/adapters/aws/sqs-dispatcher.ts';

const QueueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/durable-dispatch';
const queueArn = 'arn:aws:sqs:us-east-1:123456789012:durable-dispatch';
const roleArn = 'arn:aws:iam::123456789012:role/durable-scheduler';
const groupName = 'durable-timers';
const NOW = Date.UTC(2030, 0, 1, 12, 0, 0, 0);

const sqsMock = mockClient(SQSClient);
const schedulerMock = mockClient(SchedulerClient);
let timers: AwsTimers;

beforeEach(() => {
  sqsMock.reset();
  schedulerMock.reset();
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm' });
  schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
  schedulerMock.on(DeleteScheduleCommand).resolves({});
  timers = new AwsTimers({
    sqs: { client: new SQSClient({ region: 'us-east-1' }), queueUrl: QueueUrl },
    scheduler: new SchedulerClient({ region: 'us-east-1' }),
    groupName,
    queueArn,
    roleArn,
    now: () => NOW,
  });
});

const sqsDelays = () => sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input.DelaySeconds);
const schedules = () => schedulerMock.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input);

describe('schedule', () => {
  test('up to 15 minutes: one SQS message, delay rounded up to whole seconds', async () => {
    await timers.schedule('t1', NOW + 10_000, { runId: 'r' });
    await timers.schedule('t2', NOW + 10_001, { runId: 'r' });
    await timers.schedule('t3', NOW + 900_000, { runId: 'r' });
    expect(sqsDelays()).toEqual([10, 11, 900]);
    expect(sqsMock.commandCalls(SendMessageCommand)[0]?.args[0].input).toEqual({ QueueUrl, MessageBody: '{"runId":"r"}', DelaySeconds: 10 });
    expect(schedules()).toEqual([]);
  });

  test('due now or in the past: sent at once', async () => {
    await timers.schedule('t', NOW, { runId: 'r' });
    await timers.schedule('t', NOW - 60_000, { runId: 'r' });
    expect(sqsDelays()).toEqual([undefined, undefined]);
  });

  test('beyond 15 minutes: a one-time schedule targeting the queue, deleted after it fires', async () => {
    await timers.schedule('run-1-0-3-0', NOW + 900_001, { runId: 'run-1' });
    expect(sqsDelays()).toEqual([]);
    expect(schedules()).toEqual([
      {
        Name: 'run-1-0-3-0',
        GroupName: groupName,
        ScheduleExpression: 'at(2030-01-01T12:15:01)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: { Arn: queueArn, RoleArn: roleArn, Input: '{"runId":"run-1"}' },
      },
    ]);
  });

  test('the at() time is UTC and rounded up to the second, never early', async () => {
    await timers.schedule('a', Date.UTC(2030, 5, 30, 23, 59, 59, 1), { runId: 'r' });
    await timers.schedule('b', Date.UTC(2031, 11, 31, 8, 7, 6, 0), { runId: 'r' });
    expect(schedules().map((s) => s.ScheduleExpression)).toEqual(['at(2030-07-01T00:00:00)', 'at(2031-12-31T08:07:06)']);
    expect(atExpression(Date.UTC(2030, 0, 2, 3, 4, 5, 999))).toBe('at(2030-01-02T03:04:06)');
  });

  test('an existing schedule (ConflictException) is success: idempotent per timer id', async () => {
    schedulerMock.on(CreateScheduleCommand).rejects(new ConflictException({ message: 'Schedule already exists', Message: 'Schedule already exists', $metadata: {} }));
    await expect(timers.schedule('t', NOW + 3_600_000, { runId: 'r' })).resolves.toBeUndefined();
  });

  test('other Scheduler errors propagate', async () => {
    schedulerMock.on(CreateScheduleCommand).rejects(new ValidationException({ message: 'bad', Message: 'bad', $metadata: {} }));
    await expect(timers.schedule('t', NOW + 3_600_000, { runId: 'r' })).rejects.toThrow('bad');
  });

  test('accepts an SqsDispatcher for the short timers', async () => {
    const dispatcher = new SqsDispatcher({ client: new SQSClient({ region: 'us-east-1' }), queueUrl: QueueUrl });
    const shared = new AwsTimers({ sqs: dispatcher, scheduler: new SchedulerClient({ region: 'us-east-1' }), groupName, queueArn, roleArn, now: () => NOW });
    await shared.schedule('t', NOW + 1_000, { runId: 'r' });
    expect(sqsDelays()).toEqual([1]);
  });
});

describe('scheduleName', () => {
  test('a valid id is used as is', () => {
    expect(scheduleName('0b6f5a0e-2f1c-4b7e-9a1d-1c2b3d4e5f60-0-12-1')).toBe('0b6f5a0e-2f1c-4b7e-9a1d-1c2b3d4e5f60-0-12-1');
    expect(scheduleName('a_b.c-D')).toBe('a_b.c-D');
  });

  test('invalid characters are replaced and a hash keeps distinct ids distinct', () => {
    const a = scheduleName('run:1/2');
    const b = scheduleName('run_1_2-x');
    expect(a).toMatch(/^run_1_2-[0-9a-f]{16}$/);
    expect(scheduleName('run:1/2')).toBe(a);
    expect(scheduleName('run/1:2')).not.toBe(a);
    expect(b).toBe('run_1_2-x');
  });

  test('ids over 64 characters are cut and hashed to exactly 64 valid characters', () => {
    const long = 'x'.repeat(100);
    const name = scheduleName(long);
    expect(name).toHaveLength(64);
    expect(name).toMatch(/^[0-9a-zA-Z_.-]+$/);
    expect(scheduleName(`${long}y`)).not.toBe(name);
  });

  test('the schedule is created and deleted under the sanitised name', async () => {
    await timers.schedule('a b', NOW + 3_600_000, { runId: 'r' });
    await timers.cancel('a b');
    expect(schedules()[0]?.Name).toBe(scheduleName('a b'));
    expect(schedulerMock.commandCalls(DeleteScheduleCommand)[0]?.args[0].input).toEqual({ Name: scheduleName('a b'), GroupName: groupName });
  });
});

describe('cancel', () => {
  test('deletes the schedule; a missing one (fired, or an SQS timer) is fine', async () => {
    await timers.cancel('t1');
    schedulerMock.on(DeleteScheduleCommand).rejects(new ResourceNotFoundException({ message: 'not found', Message: 'not found', $metadata: {} }));
    await expect(timers.cancel('t2')).resolves.toBeUndefined();
    expect(schedulerMock.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input)).toEqual([
      { Name: 't1', GroupName: groupName },
      { Name: 't2', GroupName: groupName },
    ]);
  });

  test('other errors propagate', async () => {
    schedulerMock.on(DeleteScheduleCommand).rejects(new ValidationException({ message: 'bad group', Message: 'bad group', $metadata: {} }));
    await expect(timers.cancel('t')).rejects.toThrow('bad group');
  });
});
