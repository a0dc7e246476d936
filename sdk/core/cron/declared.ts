/**
 * Crons declared in code: `on: { cron: '0 3 * * *' }` (or an array) on a task, durable task or workflow. Each
 * expression is one cron named `<task>:<expression>` (e.g. `nightly-report:0 3 * * *`), with input `{}`.
 */
import type { CronRecord } from '../../ports.ts';
import { InvalidDefinitionError } from '../errors.ts';
import type { Registry } from '../registry.ts';
import { parseCron } from './expression.ts';

/** The `on` option of tasks and workflows. */
export interface OnTrigger {
  /** Five-field cron expression(s), UTC: each tick starts one run. */
  cron?: string | readonly string[];
}

/** The input of a declared cron's runs. */
export const DECLARED_CRON_INPUT = '{}';

/**
 * Validates `on` and returns its cron expressions (normalised whitespace).
 * @throws {InvalidDefinitionError} naming the definition and the expression
 */
export function declaredCronExpressions(on: unknown, where: string): string[] {
  if (on === undefined) return [];
  if (typeof on !== 'object' || on === null || Array.isArray(on)) throw new InvalidDefinitionError(`${where}: 'on' must be an object such as { cron: '0 3 * * *' }`);
  const unknown = Object.keys(on).filter((k) => k !== 'cron');
  if (unknown.length) throw new InvalidDefinitionError(`${where}: 'on' has unknown trigger ${unknown.map((k) => `'${k}'`).join(', ')}; the trigger is 'cron'`);
  const cron = (on as OnTrigger).cron;
  if (cron === undefined) return [];
  const list = typeof cron === 'string' ? [cron] : Array.isArray(cron) ? cron : undefined;
  if (!list) throw new InvalidDefinitionError(`${where}: on.cron must be a cron expression or an array of them, got ${JSON.stringify(cron) ?? String(cron)}`);
  const out: string[] = [];
  for (const expression of list) {
    const parsed = parseCron(expression, where);
    if (out.includes(parsed.source)) throw new InvalidDefinitionError(`${where}: on.cron lists '${parsed.source}' twice`);
    out.push(parsed.source);
  }
  return out;
}

/** The name of a declared cron. */
export function declaredCronName(task: string, expression: string): string {
  return `${task}:${expression}`;
}

/** Every cron the definitions of `registry` declare. */
export function declaredCrons(registry: Registry, now: number): CronRecord[] {
  const out: CronRecord[] = [];
  for (const definition of registry.all()) {
    const crons = 'spec' in definition ? definition.spec.crons : definition.crons;
    for (const expression of crons ?? []) {
      out.push({ name: declaredCronName(definition.name, expression), task: definition.name, expression, input: DECLARED_CRON_INPUT, declared: true, createdAt: now });
    }
  }
  return out;
}
