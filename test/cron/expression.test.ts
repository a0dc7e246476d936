import { describe, expect, it } from 'vitest';
import { InvalidDefinitionError } from 'durable-tasks';
import { parseCron } from '../../sdk/core/cron/expression.ts';
import { toSchedulerCron } from '../../sdk/core/cron/scheduler-expression.ts';
import { cronRunId, cronTickBody, parseCronTickBody } from '../../sdk/core/cron/tick-message.ts';

const at = (iso: string) => Date.parse(iso);

describe('parseCron (croner, five fields, UTC)', () => {
  it.each([
    ['*/15 * * * *', '2030-01-01T00:00:00Z', '2030-01-01T00:15:00.000Z'],
    ['0 3 * * *', '2030-01-01T03:00:00Z', '2030-01-02T03:00:00.000Z'],
    ['0 9 * * 1-5', '2030-01-04T10:00:00Z', '2030-01-07T09:00:00.000Z'], // Friday 10:00 -> Monday 09:00
    ['30 2 1 * *', '2030-01-15T00:00:00Z', '2030-02-01T02:30:00.000Z'],
    ['0 0 29 2 *', '2030-01-01T00:00:00Z', '2032-02-29T00:00:00.000Z'],
    ['0 12 * * SUN', '2030-01-01T00:00:00Z', '2030-01-06T12:00:00.000Z'],
    ['0 12 * * 7', '2030-01-01T00:00:00Z', '2030-01-06T12:00:00.000Z'],
  ])('%s after %s is %s', (expression, after, next) => {
    expect(new Date(parseCron(expression, 'x').next(at(after))!).toISOString()).toBe(next);
  });

  it.each([
    ['0 0 * * * *', /6 fields/],
    ['61 * * * *', /minute/],
    ['every day at noon', /4 fields/],
    ['every day at noon please', /every/],
    ['@daily', /1 field/],
    ['* * * *', /4 fields/],
    ['0 0 31 2 *', /never fires/],
    ['0 0 1 * MON', /both day-of-month/],
  ])('rejects %s with InvalidDefinitionError naming it', (expression, reason) => {
    expect(() => parseCron(expression, "task 't'")).toThrow(InvalidDefinitionError);
    expect(() => parseCron(expression, "task 't'")).toThrow(expression);
    expect(() => parseCron(expression, "task 't'")).toThrow(reason);
  });

  it('rejects a non-string', () => {
    expect(() => parseCron(5, "task 't'")).toThrow(/must be a string/);
  });
});

describe('toSchedulerCron (EventBridge Scheduler six-field form, exactly one of dom/dow is ?)', () => {
  it.each([
    ['0 3 * * *', 'cron(0 3 * * ? *)'],
    ['*/15 * * * *', 'cron(*/15 * * * ? *)'],
    ['0 9 * * 1-5', 'cron(0 9 ? * MON,TUE,WED,THU,FRI *)'],
    ['0 9 * * 0', 'cron(0 9 ? * SUN *)'],
    ['0 9 * * 7', 'cron(0 9 ? * SUN *)'],
    ['0 9 * * 5-7', 'cron(0 9 ? * SUN,FRI,SAT *)'],
    ['0 9 * * */2', 'cron(0 9 ? * SUN,TUE,THU,SAT *)'],
    ['0 9 * * MON,wed', 'cron(0 9 ? * MON,WED *)'],
    ['0 9 * * 5#3', 'cron(0 9 ? * 6#3 *)'],
    ['0 9 * * 5L', 'cron(0 9 ? * 6L *)'],
    ['0 0 1,15 * *', 'cron(0 0 1,15 * ? *)'],
    ['0 0 L * *', 'cron(0 0 L * ? *)'],
    ['0 0 1 JAN *', 'cron(0 0 1 JAN ? *)'],
  ])('%s -> %s', (expression, expected) => {
    expect(toSchedulerCron(expression, 'x')).toBe(expected);
  });

  it('rejects what Scheduler cannot express: both day-of-month and day-of-week restricted', () => {
    expect(() => toSchedulerCron('0 0 13 * 5', "cron 'friday-13'")).toThrow(/cron 'friday-13'.*'0 0 13 \* 5'.*both day-of-month \(13\) and day-of-week \(5\)/);
  });
});

describe('cron tick messages', () => {
  it('round-trip, with Scheduler filling in the scheduled time', () => {
    expect(cronTickBody('nightly')).toBe('{"cron":"nightly","tick":"<aws.scheduler.scheduled-time>"}');
    expect(parseCronTickBody('{"cron":"nightly","tick":"2030-01-01T03:00:00Z"}')).toEqual({ cron: 'nightly', tick: at('2030-01-01T03:00:00Z') });
    expect(cronRunId('nightly', at('2030-01-01T03:00:00Z'))).toBe('cron:nightly:2030-01-01T03:00:00.000Z');
  });

  it.each(['{"runId":"r"}', 'nope', '{"cron":"x","tick":"<aws.scheduler.scheduled-time>"}', '{"cron":"","tick":"2030-01-01T00:00:00Z"}', '["cron"]', '{"cron":1,"tick":"2030-01-01T00:00:00Z"}'])(
    'ignores %s',
    (body) => {
      expect(parseCronTickBody(body)).toBeUndefined();
    },
  );
});
