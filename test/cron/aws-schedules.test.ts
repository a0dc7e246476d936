/**
 * Crons on EventBridge Scheduler: the request shapes (aws-sdk-client-mock at the SDK edge; Scheduler has no
 * emulator), and reconciling declared crons against the stored ones.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { createTestEnvironment } from 'durable-tasks/testing';
import { SchedulerCronSchedules, cronScheduleName } from '../../sdk/adapters/aws/cron-schedules.ts';
import { reconcileCrons } from '../../sdk/core/cron/service.ts';
import type { CronRecord } from '../../sdk/ports.ts';

const queueArn = 'arn:aws:sqs:us-east-1:123456789012:durable-dispatch';
const roleArn = 'arn:aws:iam::123456789012:role/durable-scheduler';
const groupName = 'durable-group';
const schedulerMock = mockClient(SchedulerClient);

const cron = (name: string, expression: string, extra: Partial<CronRecord> = {}): CronRecord => ({ name, task: 'report', expression, input: '{}', createdAt: 0, ...extra });

beforeEach(() => {
  schedulerMock.reset();
  schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
  schedulerMock.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
  schedulerMock.on(DeleteScheduleCommand).resolves({});
});

const schedules = () => new SchedulerCronSchedules({ scheduler: new SchedulerClient({ region: 'us-east-1' }), groupName, queueArn, roleArn });

describe('SchedulerCronSchedules', () => {
  it('creates a recurring schedule in the group, in six-field form, targeting the queue with the tick time', async () => {
    await schedules().put(cron('hourly-eu', '0 9 * * 1-5'));
    const [call] = schedulerMock.commandCalls(CreateScheduleCommand);
    expect(call!.args[0].input).toMatchObject({
      Name: 'cron.hourly-eu',
      GroupName: groupName,
      ScheduleExpression: 'cron(0 9 ? * MON,TUE,WED,THU,FRI *)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: { Arn: queueArn, RoleArn: roleArn, Input: '{"cron":"hourly-eu","tick":"<aws.scheduler.scheduled-time>"}' },
    });
    expect(call!.args[0].input.ActionAfterCompletion).toBeUndefined();
  });

  it('replaces a schedule that exists (delete, create: no UpdateSchedule grant needed); deletes, an unknown schedule being success', async () => {
    schedulerMock.on(CreateScheduleCommand).rejectsOnce(new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} })).resolves({ ScheduleArn: 'arn' });
    await schedules().put(cron('hourly-eu', '0 * * * *'));
    expect(schedulerMock.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
    expect(schedulerMock.commandCalls(DeleteScheduleCommand)[0]!.args[0].input).toEqual({ Name: 'cron.hourly-eu', GroupName: groupName });
    const creates = schedulerMock.commandCalls(CreateScheduleCommand);
    expect(creates).toHaveLength(2);
    expect(creates[1]!.args[0].input).toMatchObject({ Name: 'cron.hourly-eu', ScheduleExpression: 'cron(0 * * * ? *)' });
    schedulerMock.on(DeleteScheduleCommand).rejects(new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} }));
    await expect(schedules().delete('hourly-eu')).resolves.toBeUndefined();
  });

  it('names schedules validly, whatever the cron name (declared crons contain spaces)', () => {
    expect(cronScheduleName('hourly-eu')).toBe('cron.hourly-eu');
    const name = cronScheduleName('nightly-report:0 3 * * *');
    expect(name).toMatch(/^[0-9a-zA-Z_.-]{1,64}$/);
    expect(name).not.toBe(cronScheduleName('nightly-report:0 4 * * *'));
  });
});

describe('reconcileCrons (declared crons after a deploy)', () => {
  it('schedules and stores new declared crons, updates changed ones, removes stale ones, leaves API crons alone', async () => {
    const env = await createTestEnvironment();
    const puts: string[] = [];
    const deletes: string[] = [];
    env.backend.cronSchedules = { put: async (c) => void puts.push(`${c.name}`), delete: async (name) => void deletes.push(name) };
    const store = env.backend.crons!;
    await store.putCron(cron('gone:0 1 * * *', '0 1 * * *', { task: 'gone', declared: true }));
    await store.putCron(cron('report:0 3 * * *', '0 3 * * *', { declared: true }));
    await store.putCron(cron('api-made', '0 5 * * *'));
    env.durable.task({ name: 'report', on: { cron: ['0 3 * * *', '0 4 * * *'] }, fn: async () => 1 });
    env.durable.task({ name: 'api-made-clash', fn: async () => 1 });
    expect(await reconcileCrons(env.durable.engine)).toEqual({ put: ['report:0 4 * * *'], deleted: ['gone:0 1 * * *'] });
    expect(puts).toEqual(['report:0 4 * * *']);
    expect(deletes).toEqual(['gone:0 1 * * *']);
    expect((await store.listCrons()).map((c) => c.name).sort()).toEqual(['api-made', 'report:0 3 * * *', 'report:0 4 * * *']);
    // Nothing changed: nothing to do (one read).
    expect(await reconcileCrons(env.durable.engine)).toEqual({ put: [], deleted: [] });
    await env.close();
  });

  it('crons.create schedules through the backend and stores; a failed schedule leaves no cron behind', async () => {
    const env = await createTestEnvironment();
    const t = env.durable.task({ name: 't', fn: async () => 1 });
    let fail = true;
    env.backend.cronSchedules = {
      put: async () => {
        if (fail) throw new Error('AccessDeniedException');
      },
      delete: async () => undefined,
    };
    await expect(env.durable.crons.create(t, { name: 'c', expression: '0 * * * *' })).rejects.toThrow('AccessDeniedException');
    expect(await env.durable.crons.list()).toEqual([]);
    fail = false;
    await env.durable.crons.create(t, { name: 'c', expression: '0 * * * *' });
    expect((await env.durable.crons.list()).map((c) => c.name)).toEqual(['c']);
    await env.close();
  });
});
