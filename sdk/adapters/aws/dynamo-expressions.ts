/**
 * Translates `RunCondition` into a ConditionExpression and `RunPatch` into an UpdateExpression, with the
 * exact meaning of the memory store's `holds()` and `updateRun`. Every attribute name goes through a
 * placeholder (`status`, `name`, `ttl` are reserved words).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { convertToAttr } from '@aws-sdk/util-dynamodb';
import { clausesOf, removedFields, type RunClause, type RunCondition, type RunPatch } from '../shared/run-patch.ts';
import { toStorable } from './dynamo-items.ts';
import type { SweepOperand, SweepPlan } from './dynamo-sweep.ts';
import { PARTITION_KEY, SWEEP_INDEX_PARTITION_KEY, SWEEP_INDEX_SORT_KEY, TTL_ATTRIBUTE } from './table-schema.ts';

/** Collects `ExpressionAttributeNames` / `ExpressionAttributeValues` while expressions are built. */
export class ExpressionBuilder {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};
  private readonly nameIds = new Map<string, string>();
  private valueCount = 0;

  /** The placeholder of attribute `attribute` (`#a0`, ...). */
  name(attribute: string): string {
    let id = this.nameIds.get(attribute);
    if (!id) {
      id = `#a${this.nameIds.size}`;
      this.nameIds.set(attribute, id);
      this.names[id] = attribute;
    }
    return id;
  }

  /** A placeholder bound to `value` (`:v0`, ...). */
  value(value: unknown): string {
    const id = `:v${this.valueCount++}`;
    this.values[id] = convertToAttr(value, { removeUndefinedValues: true });
    return id;
  }

  /** The parameters to spread into a request (omitted when empty: DynamoDB rejects empty maps). */
  params(): { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, AttributeValue> } {
    return {
      ...(Object.keys(this.names).length ? { ExpressionAttributeNames: this.names } : {}),
      ...(this.valueCount ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

/** A condition tree, rendered with parentheses only where precedence needs them (DynamoDB rejects redundant ones). */
export type Cond = string | { and: Cond[] } | { or: Cond[] };

/** Renders `cond`; NOT > AND > OR, so only an Or inside an And is parenthesised. */
export function renderCondition(cond: Cond, inside: 'top' | 'and' | 'or' = 'top'): string {
  if (typeof cond === 'string') return cond;
  if ('and' in cond) {
    if (cond.and.length === 1) return renderCondition(cond.and[0]!, inside);
    return cond.and.map((c) => renderCondition(c, 'and')).join(' AND ');
  }
  if (cond.or.length === 1) return renderCondition(cond.or[0]!, inside);
  const joined = cond.or.map((c) => renderCondition(c, 'or')).join(' OR ');
  return inside === 'and' ? `(${joined})` : joined;
}

/** An expression that never holds on an existing item (the run item always has `pk`). */
const never = (b: ExpressionBuilder) => `attribute_not_exists(${b.name(PARTITION_KEY)})`;
const always = (b: ExpressionBuilder) => `attribute_exists(${b.name(PARTITION_KEY)})`;

/**
 * The condition of an `updateRun`: the run exists and has not expired (TTL), and `condition` holds
 * (clauses are Or'ed; an empty list holds never, an empty clause always).
 */
export function runConditionExpression(b: ExpressionBuilder, condition: RunCondition | undefined, now: number): string {
  const parts: Cond[] = [always(b), notExpired(b, now)];
  if (condition !== undefined) {
    const clauses = clausesOf(condition);
    parts.push(clauses.length === 0 ? never(b) : { or: clauses.map((c) => clauseCondition(b, c)) });
  }
  return renderCondition({ and: parts });
}

/** The item has no TTL, or its TTL (epoch seconds) is still ahead of `now`. */
function notExpired(b: ExpressionBuilder, now: number): string {
  return absentOr(b, TTL_ATTRIBUTE, '>', now / 1000);
}

/** `attribute IN (values)`; a single value as `attribute = :v` (same meaning, cheaper for dynalite to parse). */
function oneOf(b: ExpressionBuilder, attribute: string, values: readonly unknown[]): string {
  const name = b.name(attribute);
  if (values.length === 1) return `${name} = ${b.value(values[0])}`;
  return `${name} IN (${values.map((v) => b.value(v)).join(', ')})`;
}

const NEGATED = { '<': '>=', '>': '<=', '<>': '=' } as const;

/**
 * `attribute_not_exists(x) OR x <op> :v`, written `NOT x <negated op> :v`. The same in DynamoDB and
 * dynalite: a comparison with a missing attribute is false, so its negation holds; on a present attribute
 * the negation of `>=` is `<` (and of `<=` is `>`, of `=` is `<>`) provided the attribute has the value's
 * type, which holds here: `ttl` and `leaseUntil` are only ever written as numbers, and `<>`/`=` need no such
 * proviso. Why bother: dynalite's condition parser backtracks heavily on parentheses inside Or branches
 * (the lease condition had three such groups); bench/micro/lease-condition.ts checks the equivalence on
 * dynalite and measures the parse.
 */
function absentOr(b: ExpressionBuilder, attribute: string, op: keyof typeof NEGATED, value: unknown): string {
  return `NOT ${b.name(attribute)} ${NEGATED[op]} ${b.value(value)}`;
}

function clauseCondition(b: ExpressionBuilder, c: RunClause): Cond {
  const parts: Cond[] = [];
  if (c.status) {
    if (c.status.length === 0) return never(b);
    parts.push(oneOf(b, 'status', c.status));
  }
  if (c.leaseOwner !== undefined) parts.push(`${b.name('leaseOwner')} = ${b.value(c.leaseOwner)}`);
  // `attribute_not_exists(leaseUntil) OR leaseUntil < :t`, without the parenthesised Or (see `absentOr`).
  if (c.leaseExpiredBefore !== undefined) parts.push(absentOr(b, 'leaseUntil', '<', c.leaseExpiredBefore));
  if (c.wake !== undefined) parts.push(`${b.name('wake')} = ${b.value(c.wake)}`);
  if (c.wakePending) parts.push(`${b.name('wake')} <> ${b.name('seen')}`);
  if (c.wakeDueBy !== undefined) parts.push(`${b.name('wakeAt')} <= ${b.value(c.wakeDueBy)}`);
  if (c.attempt !== undefined) parts.push(`${b.name('attempt')} = ${b.value(c.attempt)}`);
  if (c.notCancelRequested) parts.push(absentOr(b, 'cancelRequested', '<>', true));
  return parts.length ? { and: parts } : always(b);
}

/**
 * The UpdateExpression of `patch`, in the memory store's order: `set`, then `remove` (a field in both ends
 * removed), then `incrementWake`, `markSeen` (so `seen` ends equal to the new `wake`), `addRunningMs`.
 * DynamoDB evaluates every operand on the item as it was before the update, hence `seen = wake + 1`.
 */
export function runUpdateExpression(b: ExpressionBuilder, patch: RunPatch, sweep: SweepPlan, sweepPartition: string): string {
  const sets: string[] = [];
  const removes = removedFields(patch);
  removes.delete('runId');
  removes.delete('wake');
  if (patch.markSeen) removes.delete('seen');
  const add = patch.addRunningMs ? patch.addRunningMs : 0;

  for (const [field, value] of Object.entries(patch.set ?? {})) {
    if (value === undefined || removes.has(field) || field === 'runId' || field === 'wake') continue;
    if (field === 'seen' && patch.markSeen) continue;
    if (field === 'runningMs' && add) {
      sets.push(`${b.name(field)} = ${b.value((value as number) + add)}`);
      continue;
    }
    sets.push(`${b.name(field)} = ${b.value(toStorable(field, value))}`);
  }
  if (patch.incrementWake) sets.push(`${b.name('wake')} = ${b.name('wake')} + ${b.value(1)}`);
  if (patch.markSeen) sets.push(`${b.name('seen')} = ${patch.incrementWake ? `${b.name('wake')} + ${b.value(1)}` : b.name('wake')}`);
  if (add && !(patch.set && patch.set.runningMs !== undefined) && !removes.has('runningMs')) {
    const running = b.name('runningMs');
    sets.push(`${running} = if_not_exists(${running}, ${b.value(0)}) + ${b.value(add)}`);
  }

  switch (sweep.type) {
    case 'remove':
      removes.add(SWEEP_INDEX_PARTITION_KEY);
      removes.add(SWEEP_INDEX_SORT_KEY);
      break;
    case 'set':
      if (sweep.withPartition) sets.push(`${b.name(SWEEP_INDEX_PARTITION_KEY)} = ${b.value(sweepPartition)}`);
      sets.push(`${b.name(SWEEP_INDEX_SORT_KEY)} = ${sweepOperand(b, sweep.key)}`);
      break;
    case 'keep':
      break;
  }

  // A patch with no effect still needs an action for UpdateItem to evaluate the condition and return the item.
  if (sets.length === 0 && removes.size === 0) sets.push(`${b.name('runId')} = ${b.name('runId')}`);
  const clauses: string[] = [];
  if (sets.length) clauses.push(`SET ${sets.join(', ')}`);
  if (removes.size) clauses.push(`REMOVE ${[...removes].map((f) => b.name(f)).join(', ')}`);
  return clauses.join(' ');
}

function sweepOperand(b: ExpressionBuilder, operand: SweepOperand): string {
  if ('value' in operand) return b.value(operand.value);
  return `if_not_exists(${b.name(operand.attribute)}, ${b.value(operand.fallback)})`;
}
