/**
 * Cron expressions: five fields (minute hour day-of-month month day-of-week), always UTC, parsed and stepped
 * by croner (a maintained, dependency-free cron library) in its strict five-field mode. Validation happens
 * where a cron is defined (`on: { cron }`, `crons.create`), so a bad expression never reaches a scheduler.
 */
import { Cron } from 'croner';
import { InvalidDefinitionError } from '../errors.ts';
import { toSchedulerCron } from './scheduler-expression.ts';

/** A validated cron expression that can say when it next fires. */
export interface CronExpression {
  readonly source: string;
  /** The first tick strictly after `after` (epoch ms), or `undefined` when there is none. */
  next(after: number): number | undefined;
}

let secondsForTests = false;

/**
 * @internal test hook: also accept six fields (a leading seconds field), so tests on the wall clock (the embedded
 * default) can use per-second schedules instead of minute-long sleeps. Never on in production code.
 */
export function allowSecondsForTests(on: boolean): void {
  secondsForTests = on;
}

/**
 * Parses and validates a cron expression.
 *
 * @throws {InvalidDefinitionError} naming the expression and `where`: not a string, not five fields (a nickname
 *   such as `@daily`, six fields, words), a value out of range (`61 * * * *`), a schedule that never fires
 *   (`0 0 31 2 *`), or one EventBridge Scheduler cannot express (see `toSchedulerCron`).
 * @example
 * parseCron('*\/15 * * * *', "task 'sync'").next(Date.UTC(2030, 0, 1)); // 2030-01-01T00:15:00Z in ms
 */
export function parseCron(expression: unknown, where: string): CronExpression {
  if (typeof expression !== 'string') {
    throw new InvalidDefinitionError(`${where}: a cron expression must be a string of five fields, got ${JSON.stringify(expression) ?? String(expression)}`);
  }
  const fields = expression.trim().split(/\s+/);
  const seconds = secondsForTests && fields.length === 6;
  if (fields.length !== 5 && !seconds) {
    throw new InvalidDefinitionError(
      `${where}: invalid cron expression '${expression}': it has ${fields.length} field${fields.length === 1 ? '' : 's'}; ` +
        'use five (minute hour day-of-month month day-of-week, in UTC), e.g. "0 3 * * *"',
    );
  }
  let cron: Cron;
  try {
    cron = new Cron(fields.join(' '), { timezone: 'UTC', paused: true, mode: seconds ? '6-part' : '5-part' });
  } catch (error) {
    const reason = String((error as Error)?.message ?? error).replace(/^CronPattern: /, '');
    throw new InvalidDefinitionError(`${where}: invalid cron expression '${expression}': ${reason}`, { cause: error });
  }
  if (!seconds) toSchedulerCron(fields.join(' '), where);
  const next = (after: number): number | undefined => cron.nextRun(new Date(after))?.getTime();
  if (next(Date.UTC(2000, 0, 1)) === undefined) {
    throw new InvalidDefinitionError(`${where}: cron expression '${expression}' never fires (no such date)`);
  }
  return { source: fields.join(' '), next };
}
