/**
 * Five-field cron (POSIX style, as croner reads it) to EventBridge Scheduler's six-field `cron(...)` form:
 * `cron(minutes hours day-of-month month day-of-week year)`, where exactly one of day-of-month and day-of-week
 * must be `?` and day-of-week counts 1-7 from Sunday (POSIX: 0-7, both 0 and 7 are Sunday).
 *
 * Checked at definition on every backend, so code that runs locally deploys unchanged: an expression Scheduler
 * cannot express is an InvalidDefinitionError there and then, not a failed deployment.
 */
import { InvalidDefinitionError } from '../errors.ts';

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

/**
 * @throws {InvalidDefinitionError} when both day-of-month and day-of-week are restricted (POSIX cron fires when
 *   either matches; Scheduler allows a value in only one of them), or day-of-week uses a form Scheduler lacks.
 * @example
 * toSchedulerCron('0 3 * * *', 'x');     // 'cron(0 3 * * ? *)'
 * toSchedulerCron('0 9 * * 1-5', 'x');   // 'cron(0 9 ? * MON,TUE,WED,THU,FRI *)'
 */
export function toSchedulerCron(expression: string, where: string): string {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) throw new InvalidDefinitionError(`${where}: invalid cron expression '${expression}': five fields expected`);
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  const anyDom = dom === '*' || dom === '?';
  const anyDow = dow === '*' || dow === '?';
  if (!anyDom && !anyDow) {
    throw new InvalidDefinitionError(
      `${where}: cron expression '${expression}' restricts both day-of-month (${dom}) and day-of-week (${dow}); ` +
        'EventBridge Scheduler cannot express that (one of the two must be "*"): define two crons instead',
    );
  }
  const scheduledDow = anyDow ? '?' : schedulerDayOfWeek(dow, expression, where);
  const scheduledDom = anyDow ? (anyDom ? '*' : dom) : '?';
  return `cron(${minute} ${hour} ${scheduledDom} ${month} ${scheduledDow} *)`;
}

/** POSIX day-of-week (0-7, names, lists, ranges, steps, `n#k`, `nL`) in Scheduler's numbering (names, 1-7). */
function schedulerDayOfWeek(dow: string, expression: string, where: string): string {
  const special = /^([0-7]|[A-Za-z]{3})(#[1-5]|L)$/.exec(dow);
  if (special) return `${dayIndex(special[1]!, expression, where) + 1}${special[2]}`;
  const days = new Set<number>();
  for (const part of dow.split(',')) {
    const m = /^(\*|[0-7]|[A-Za-z]{3})(?:-([0-7]|[A-Za-z]{3}))?(?:\/(\d+))?$/.exec(part);
    if (!m) throw new InvalidDefinitionError(`${where}: cron expression '${expression}': day-of-week '${part}' cannot be scheduled on EventBridge Scheduler`);
    const from = m[1] === '*' ? 0 : dayIndex(m[1]!, expression, where);
    const rawTo = m[2] !== undefined ? dayNumber(m[2], expression, where) : m[1] === '*' ? 6 : m[3] !== undefined ? 6 : from;
    const to = m[2] !== undefined && rawTo === 7 ? 7 : rawTo;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (step < 1 || to < from) throw new InvalidDefinitionError(`${where}: cron expression '${expression}': day-of-week '${part}' is not a valid range`);
    for (let d = from; d <= to; d += step) days.add(d % 7);
  }
  return [...days].sort((a, b) => a - b).map((d) => DAY_NAMES[d]).join(',');
}

function dayNumber(token: string, expression: string, where: string): number {
  if (/^[0-7]$/.test(token)) return Number(token);
  const index = DAY_NAMES.indexOf(token.toUpperCase() as (typeof DAY_NAMES)[number]);
  if (index < 0) throw new InvalidDefinitionError(`${where}: cron expression '${expression}': unknown day-of-week '${token}'`);
  return index;
}

function dayIndex(token: string, expression: string, where: string): number {
  return dayNumber(token, expression, where) % 7;
}
