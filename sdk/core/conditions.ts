import { compileExpression } from './cel.ts';
import { parseDuration, type Duration } from './duration.ts';
import { InvalidDefinitionError } from './errors.ts';

/** Something with a task name: a task definition used as a parent. */
export interface NamedTask {
  readonly name: string;
}

/**
 * Resumes after a fixed duration.
 *
 * @example new SleepCondition('5s', 'sleep')
 * @throws {InvalidDurationError} bad duration.
 */
export class SleepCondition {
  readonly durationMs: number;
  readonly readableDataKey: string;
  constructor(
    readonly duration: Duration,
    readableDataKey?: string,
  ) {
    this.durationMs = parseDuration(duration);
    this.readableDataKey = readableDataKey ?? `sleep-${typeof duration === 'number' ? `${duration}ms` : duration}`;
  }
}

/** Options of an event condition, with the meaning of `waitForEvent`'s. */
export interface EventConditionOptions {
  /** Only events pushed with this scope match. */
  scope?: string;
  /** Events pushed up to this long before the wait (or the DAG gate) began match too. @default none: only later pushes */
  lookback?: Duration;
}

/**
 * Resumes when an event with `eventKey` is pushed whose payload satisfies the CEL `expression`
 * (`input` = the payload; `''` matches any). Only events pushed after the wait began count, unless `lookback`
 * reaches back; `scope` limits matching to events pushed with that scope.
 *
 * @example new UserEventCondition('order:paid', 'input.amount > 100', 'paid', { scope: 'tenant-a', lookback: '5m' })
 * @throws {InvalidExpressionError} bad CEL, at construction.
 * @throws {InvalidDurationError} bad `lookback`.
 * @throws {InvalidDefinitionError} a `scope` that is not a non-empty string.
 */
export class UserEventCondition {
  readonly readableDataKey: string;
  readonly scope: string | undefined;
  readonly lookbackMs: number | undefined;
  constructor(
    readonly eventKey: string,
    readonly expression: string = '',
    readableDataKey?: string,
    options: EventConditionOptions = {},
  ) {
    assertEventKey(eventKey);
    compileExpression(expression, 'input');
    this.readableDataKey = readableDataKey ?? eventKey;
    if (options.scope !== undefined && (typeof options.scope !== 'string' || options.scope === '')) {
      throw new InvalidDefinitionError(`event condition '${eventKey}': scope must be a non-empty string when given, got ${safeJson(options.scope)}`);
    }
    this.scope = options.scope;
    this.lookbackMs = options.lookback === undefined ? undefined : parseDuration(options.lookback);
  }
}

/**
 * A CEL expression over a parent task's output (`output` = the parent's output). DAG tasks only.
 *
 * @example new ParentCondition(first, 'output.randomNumber > 50')
 * @throws {InvalidExpressionError} bad CEL, at construction.
 */
export class ParentCondition {
  readonly readableDataKey: string;
  constructor(
    readonly parent: NamedTask,
    readonly expression: string = '',
    readableDataKey?: string,
  ) {
    if (!parent || typeof parent.name !== 'string') throw new InvalidDefinitionError('ParentCondition needs a task definition as its parent');
    compileExpression(expression, 'output');
    this.readableDataKey = readableDataKey ?? `parent-${parent.name}`;
  }
}

/** Satisfied when any of its conditions is. */
export class OrCondition {
  constructor(readonly conditions: readonly Condition[]) {}
}
/** Satisfied when all of its conditions are. */
export class AndCondition {
  constructor(readonly conditions: readonly Condition[]) {}
}

/** Object forms of the conditions. */
export type ConditionObject =
  | { sleepFor: Duration; readableDataKey?: string }
  | ({ eventKey: string; expression?: string; readableDataKey?: string } & EventConditionOptions)
  | { parent: NamedTask; expression?: string; readableDataKey?: string };

/** A condition: a class instance, an object form, `Or(...)`/`And(...)`, or an array (meaning And). */
export type Condition =
  | SleepCondition
  | UserEventCondition
  | ParentCondition
  | OrCondition
  | AndCondition
  | ConditionObject
  | readonly Condition[];

/** The first condition to be satisfied wins. @example Or(new SleepCondition('1m'), { eventKey: 'approved' }) */
export function Or(...conditions: Condition[]): OrCondition {
  return new OrCondition(conditions);
}
/** Every condition must be satisfied. @example And({ eventKey: 'a' }, { eventKey: 'b' }) */
export function And(...conditions: Condition[]): AndCondition {
  return new AndCondition(conditions);
}

/** A condition as data: what the engine stores with a wait and evaluates. */
export type ConditionNode =
  | { type: 'sleep'; durationMs: number; key: string }
  | { type: 'event'; eventKey: string; expression: string; key: string; scope?: string; lookbackMs?: number }
  | { type: 'parent'; parent: string; expression: string; key: string }
  | { type: 'child'; childRunId: string; key: string }
  | { type: 'or'; children: ConditionNode[] }
  | { type: 'and'; children: ConditionNode[] };

export type LeafNode = Extract<ConditionNode, { key: string }>;

/**
 * Normalises any accepted condition form into a tree of nodes, validating durations, event keys and CEL.
 *
 * @throws {InvalidDurationError | InvalidExpressionError | InvalidDefinitionError}
 */
export function toConditionNode(condition: Condition): ConditionNode {
  if (Array.isArray(condition)) return and(condition.map(toConditionNode));
  if (condition instanceof OrCondition) return { type: 'or', children: condition.conditions.map(toConditionNode) };
  if (condition instanceof AndCondition) return and(condition.conditions.map(toConditionNode));
  if (condition instanceof SleepCondition) return { type: 'sleep', durationMs: condition.durationMs, key: condition.readableDataKey };
  if (condition instanceof UserEventCondition) {
    return {
      type: 'event',
      eventKey: condition.eventKey,
      expression: condition.expression,
      key: condition.readableDataKey,
      ...(condition.scope !== undefined ? { scope: condition.scope } : {}),
      ...(condition.lookbackMs !== undefined ? { lookbackMs: condition.lookbackMs } : {}),
    };
  }
  if (condition instanceof ParentCondition) {
    return { type: 'parent', parent: condition.parent.name, expression: condition.expression, key: condition.readableDataKey };
  }
  if (condition && typeof condition === 'object') {
    const o = condition as Record<string, unknown>;
    if ('sleepFor' in o) return toConditionNode(new SleepCondition(o.sleepFor as Duration, o.readableDataKey as string | undefined));
    if ('eventKey' in o) {
      const options: EventConditionOptions = {};
      if (o.scope !== undefined) options.scope = o.scope as string;
      if (o.lookback !== undefined) options.lookback = o.lookback as Duration;
      return toConditionNode(new UserEventCondition(o.eventKey as string, (o.expression as string | undefined) ?? '', o.readableDataKey as string | undefined, options));
    }
    if ('parent' in o) {
      return toConditionNode(new ParentCondition(o.parent as NamedTask, (o.expression as string | undefined) ?? '', o.readableDataKey as string | undefined));
    }
  }
  throw new InvalidDefinitionError(
    `not a condition: ${safeJson(condition)}. Use SleepCondition, UserEventCondition, ParentCondition, Or, And, or { sleepFor } / { eventKey, expression, scope, lookback } / { parent, expression }`,
  );
}

function and(children: ConditionNode[]): ConditionNode {
  if (children.length === 0) throw new InvalidDefinitionError('an empty list of conditions can never be satisfied');
  return children.length === 1 ? children[0]! : { type: 'and', children };
}

/** The leaves of a tree, in order: their index is the waiter index. */
export function leaves(node: ConditionNode): LeafNode[] {
  if (node.type === 'or' || node.type === 'and') return node.children.flatMap(leaves);
  return [node];
}

/**
 * Evaluates a tree given which leaves are satisfied. Returns the indices of the leaves that decide it
 * (for Or: the earliest-satisfied child that holds; for And: all of them), or undefined if unsatisfied.
 * `order` ranks satisfied leaves by when they were satisfied (lower first).
 */
export function evaluate(node: ConditionNode, satisfied: ReadonlyMap<number, number>): number[] | undefined {
  let next = 0;
  const walk = (n: ConditionNode): { leaves: number[]; at: number } | undefined => {
    if (n.type === 'or') {
      let best: { leaves: number[]; at: number } | undefined;
      for (const child of n.children) {
        const r = walk(child);
        if (r && (!best || r.at < best.at)) best = r;
      }
      return best;
    }
    if (n.type === 'and') {
      const all: number[] = [];
      let at = -Infinity;
      let ok = true;
      for (const child of n.children) {
        const r = walk(child);
        if (!r) ok = false;
        else {
          all.push(...r.leaves);
          at = Math.max(at, r.at);
        }
      }
      return ok ? { leaves: all, at } : undefined;
    }
    const index = next++;
    const at = satisfied.get(index);
    return at === undefined ? undefined : { leaves: [index], at };
  };
  return walk(node)?.leaves;
}

/** Event keys: non-empty strings of at most 256 characters (EventBridge detail limits and index keys). */
export const MAX_EVENT_KEY_LENGTH = 256;

export function assertEventKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidDefinitionError(`event key must be a non-empty string, got ${safeJson(key)}`);
  }
  if (key.length > MAX_EVENT_KEY_LENGTH) {
    throw new InvalidDefinitionError(`event key '${key.slice(0, 40)}...' is ${key.length} characters, over the ${MAX_EVENT_KEY_LENGTH}-character limit`);
  }
}

export function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
