/**
 * Crons on EventBridge Scheduler: one recurring schedule per cron, in the construct's schedule group, whose
 * target is the dispatch queue. Each invocation sends `{"cron":"<name>","tick":"<aws.scheduler.scheduled-time>"}`
 * (Scheduler fills in the scheduled time), which the worker turns into the tick's one run (sdk/core/cron).
 */
import { CreateScheduleCommand, DeleteScheduleCommand, type CreateScheduleCommandInput, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { toSchedulerCron } from '../../core/cron/scheduler-expression.ts';
import { cronTickBody } from '../../core/cron/tick-message.ts';
import type { CronRecord, CronSchedules, RequestCounter } from '../../ports.ts';
import { countRequests } from './request-counter.ts';
import { scheduleName } from './timers.ts';

/** Options of {@link SchedulerCronSchedules}. */
export interface SchedulerCronSchedulesOptions {
  scheduler: SchedulerClient;
  /** The construct's schedule group. */
  groupName: string;
  /** ARN of the dispatch queue (the schedules' target). */
  queueArn: string;
  /** Role EventBridge Scheduler assumes to send to the queue. */
  roleArn: string;
  /** When given, the client is instrumented so every request is counted. */
  counter?: RequestCounter;
}

/**
 * `put` is CreateSchedule, or DeleteSchedule and CreateSchedule when the schedule exists (ConflictException);
 * `delete` is DeleteSchedule, an unknown schedule being success.
 *
 * @example
 * const schedules = new SchedulerCronSchedules({ scheduler: new SchedulerClient({}), groupName, queueArn, roleArn });
 * await schedules.put({ name: 'hourly-eu', task: 'report', expression: '0 * * * *', input: '{}', createdAt: Date.now() });
 */
export class SchedulerCronSchedules implements CronSchedules {
  constructor(private readonly options: SchedulerCronSchedulesOptions) {
    if (options.counter) countRequests(options.scheduler, options.counter);
  }

  async put(cron: CronRecord): Promise<void> {
    const input: CreateScheduleCommandInput = {
      Name: cronScheduleName(cron.name),
      GroupName: this.options.groupName,
      ScheduleExpression: toSchedulerCron(cron.expression, `cron '${cron.name}'`),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Description: `durable-tasks cron '${cron.name}' (${cron.expression}) starts '${cron.task}'`.slice(0, 512),
      Target: { Arn: this.options.queueArn, RoleArn: this.options.roleArn, Input: cronTickBody(cron.name) },
    };
    try {
      await this.options.scheduler.send(new CreateScheduleCommand(input));
    } catch (error) {
      if (errorName(error) !== 'ConflictException') throw error;
      // Replace rather than UpdateSchedule: the worker's grants (create and delete in the group) suffice. A tick due
      // in the milliseconds between the two requests is missed, as any tick while nothing is scheduled.
      await this.delete(cron.name);
      await this.options.scheduler.send(new CreateScheduleCommand(input));
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await this.options.scheduler.send(new DeleteScheduleCommand({ Name: cronScheduleName(name), GroupName: this.options.groupName }));
    } catch (error) {
      if (errorName(error) !== 'ResourceNotFoundException') throw error;
    }
  }
}

/**
 * The schedule name of cron `name`: `cron.<name>` when that is a valid schedule name, else hashed (timers.ts
 * `scheduleName`). Timer schedules are named after run ids and never start with `cron.`.
 */
export function cronScheduleName(name: string): string {
  return scheduleName(`cron.${name}`);
}

function errorName(error: unknown): unknown {
  return (error as { name?: unknown } | null)?.name;
}
