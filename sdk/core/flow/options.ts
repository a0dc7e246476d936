/**
 * Flow-control options (Hatchet's names): concurrency keys, rate limits, priority. Validated once, at definition.
 */
import { compileValueExpression, type CompiledValueExpression } from '../cel.ts';
import { InvalidDefinitionError } from '../errors.ts';

export const ConcurrencyLimitStrategy = {
  GROUP_ROUND_ROBIN: 'GROUP_ROUND_ROBIN',
  CANCEL_IN_PROGRESS: 'CANCEL_IN_PROGRESS',
  CANCEL_NEWEST: 'CANCEL_NEWEST',
} as const;
export type ConcurrencyLimitStrategy = (typeof ConcurrencyLimitStrategy)[keyof typeof ConcurrencyLimitStrategy];

export const RateLimitDuration = {
  SECOND: 'SECOND',
  MINUTE: 'MINUTE',
  HOUR: 'HOUR',
  DAY: 'DAY',
} as const;
export type RateLimitDuration = (typeof RateLimitDuration)[keyof typeof RateLimitDuration];

export const DURATION_MS: Record<RateLimitDuration, number> = { SECOND: 1_000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };

export const Priority = { LOW: 1, MEDIUM: 2, HIGH: 3 } as const;
export type Priority = (typeof Priority)[keyof typeof Priority];

export interface ConcurrencyOptions {
  /** CEL over `input` giving the group key (a string). */
  expression: string;
  /** Runs of the task in flight (RUNNING or WAITING) per key. @default 1 */
  maxRuns?: number;
  /** @default GROUP_ROUND_ROBIN */
  limitStrategy?: ConcurrencyLimitStrategy | `${ConcurrencyLimitStrategy}`;
}

export type RateLimitOptions =
  | { staticKey: string; dynamicKey?: never; units?: number; limit?: never; duration?: never }
  | { dynamicKey: string; staticKey?: never; units?: number; limit: number; duration?: RateLimitDuration | `${RateLimitDuration}` };

/** Flow-control options of a task, durable task or workflow. */
export interface FlowOptions {
  concurrency?: ConcurrencyOptions;
  rateLimits?: readonly RateLimitOptions[];
  /** @default Priority.LOW */
  defaultPriority?: Priority | number;
}

export interface RateLimitSpec {
  staticKey?: string;
  dynamicKey?: CompiledValueExpression;
  units: number;
  limit?: number;
  durationMs?: number;
}

export interface FlowSpec {
  concurrency?: { expression: CompiledValueExpression; maxRuns: number; strategy: ConcurrencyLimitStrategy };
  rateLimits: RateLimitSpec[];
  defaultPriority: number;
}

function positiveInt(value: unknown, field: string, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidDefinitionError(`${where}: ${field} must be a whole number ≥ 1, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

/** A priority 1..3. @throws {InvalidDefinitionError} naming `field` */
export function checkPriority(value: unknown, field: string, where: string): number {
  if (value !== 1 && value !== 2 && value !== 3) {
    throw new InvalidDefinitionError(`${where}: ${field} must be 1 (LOW), 2 (MEDIUM) or 3 (HIGH), got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

/** Milliseconds of a RateLimitDuration. @throws {InvalidDefinitionError} naming `field` */
export function durationMs(value: unknown, field: string, where: string): number {
  const ms = typeof value === 'string' ? DURATION_MS[value as RateLimitDuration] : undefined;
  if (ms === undefined) throw new InvalidDefinitionError(`${where}: ${field} must be one of SECOND, MINUTE, HOUR, DAY, got ${JSON.stringify(value) ?? String(value)}`);
  return ms;
}

/**
 * Validates flow-control options; `undefined` when there are none.
 * @throws {InvalidDefinitionError} naming the field | {InvalidExpressionError} for malformed CEL
 */
export function buildFlowSpec(options: FlowOptions, where: string): FlowSpec | undefined {
  const { concurrency, rateLimits, defaultPriority } = options;
  if (concurrency === undefined && rateLimits === undefined && defaultPriority === undefined) return undefined;
  const spec: FlowSpec = { rateLimits: [], defaultPriority: defaultPriority === undefined ? Priority.LOW : checkPriority(defaultPriority, 'defaultPriority', where) };
  if (concurrency !== undefined) {
    if (!concurrency || typeof concurrency !== 'object') throw new InvalidDefinitionError(`${where}: concurrency must be { expression, maxRuns, limitStrategy }`);
    const strategy = concurrency.limitStrategy ?? ConcurrencyLimitStrategy.GROUP_ROUND_ROBIN;
    if (typeof strategy !== 'string' || !Object.hasOwn(ConcurrencyLimitStrategy, strategy)) {
      throw new InvalidDefinitionError(
        `${where}: concurrency.limitStrategy must be GROUP_ROUND_ROBIN, CANCEL_IN_PROGRESS or CANCEL_NEWEST, got ${JSON.stringify(strategy) ?? String(strategy)}`,
      );
    }
    spec.concurrency = {
      expression: compileValueExpression(concurrency.expression),
      maxRuns: positiveInt(concurrency.maxRuns ?? 1, 'concurrency.maxRuns', where),
      strategy: strategy as ConcurrencyLimitStrategy,
    };
  }
  if (rateLimits !== undefined) {
    if (!Array.isArray(rateLimits)) throw new InvalidDefinitionError(`${where}: rateLimits must be an array`);
    rateLimits.forEach((limit: RateLimitOptions, i) => {
      const field = `rateLimits[${i}]`;
      if (!limit || typeof limit !== 'object') throw new InvalidDefinitionError(`${where}: ${field} must be { staticKey | dynamicKey, units, ... }`);
      const units = positiveInt(limit.units ?? 1, `${field}.units`, where);
      if ((limit.staticKey === undefined) === (limit.dynamicKey === undefined)) {
        throw new InvalidDefinitionError(`${where}: ${field} needs exactly one of staticKey and dynamicKey`);
      }
      if (limit.staticKey !== undefined) {
        if (typeof limit.staticKey !== 'string' || limit.staticKey === '') throw new InvalidDefinitionError(`${where}: ${field}.staticKey must be a non-empty string`);
        spec.rateLimits.push({ staticKey: limit.staticKey, units });
      } else {
        spec.rateLimits.push({
          dynamicKey: compileValueExpression(limit.dynamicKey!),
          units,
          limit: positiveInt(limit.limit, `${field}.limit`, where),
          durationMs: durationMs(limit.duration ?? RateLimitDuration.MINUTE, `${field}.duration`, where),
        });
      }
    });
  }
  return spec;
}
