/**
 * What one DynamoDB request attempt costs, and where: capacity units charged to each partition it touches (the
 * base-table partition of its key, and for a write that sets an index key, that index partition) and to the
 * table. Writes are charged before the request (1 WCU per started KB of what is sent); reads are charged 1 unit
 * before and the rest after, by the size of what came back (1 RCU per started 4 KB, half for eventually consistent
 * reads), so a partition read past its quota throttles the next request, as DynamoDB's debit does.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { PARTITION_KEY, TABLE_SCHEMA } from '../../sdk/adapters/aws/table-schema.ts';
import { RUN_KEY_PREFIX } from '../../sdk/adapters/aws/env.ts';

export interface Charge {
  kind: 'read' | 'write';
  /** `table`, or a partition: `<pk>` on the base table, `<index>:<pk>` on an index. */
  scope: string;
  units: number;
  /** A partition only one run writes (its own `RUN#` partition): its quota is not scaled with the load. */
  private: boolean;
}

type Item = Record<string, AttributeValue>;

const kb = (value: unknown) => Math.max(1, Math.ceil(JSON.stringify(value ?? {}).length / 1024));
const pkOf = (item: Item | undefined) => item?.[PARTITION_KEY]?.S ?? '?';
const privatePk = (pk: string) => pk.startsWith(RUN_KEY_PREFIX);

function write(pk: string, units: number): Charge[] {
  return [
    { kind: 'write', scope: pk, units, private: privatePk(pk) },
    { kind: 'write', scope: 'table', units, private: false },
  ];
}

/** Index partitions a written item enters (an index key attribute present, or set by an update). */
function indexWrites(item: Item | undefined, setValues: Record<string, string>): Charge[] {
  const out: Charge[] = [];
  for (const index of TABLE_SCHEMA.globalSecondaryIndexes) {
    const value = item?.[index.partitionKey.name]?.S ?? setValues[index.partitionKey.name];
    if (value !== undefined) out.push({ kind: 'write', scope: `${index.indexName}:${value}`, units: 1, private: false });
  }
  return out;
}

/** `SET #a = :v` pairs of an UpdateExpression, by attribute name, with string values. */
function setValues(input: { UpdateExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Item }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [, lhs, rhs] of (input.UpdateExpression ?? '').matchAll(/(#?[\w]+)\s*=\s*(:[\w]+)/g)) {
    const name = lhs!.startsWith('#') ? input.ExpressionAttributeNames?.[lhs!] : lhs;
    const value = input.ExpressionAttributeValues?.[rhs!]?.S;
    if (name && value !== undefined) out[name] = value;
  }
  return out;
}

/** The partition a Query reads: its index (if any) and the value bound to the partition key. */
function queryScope(input: { IndexName?: string; KeyConditionExpression?: string; ExpressionAttributeValues?: Item }): string {
  const placeholder = /(?:#pk|pk|#\w+)\s*=\s*(:\w+)/.exec(input.KeyConditionExpression ?? '')?.[1];
  const value = (placeholder && input.ExpressionAttributeValues?.[placeholder]?.S) ?? '?';
  return input.IndexName ? `${input.IndexName}:${value}` : value;
}

/** Charges taken before an attempt is sent. */
export function chargesBefore(operation: string, input: any): Charge[] {
  switch (operation) {
    case 'PutItem':
      return [...write(pkOf(input.Item), kb(input.Item)), ...indexWrites(input.Item, {})];
    case 'UpdateItem':
      return [...write(pkOf(input.Key), kb(input.ExpressionAttributeValues)), ...indexWrites(undefined, setValues(input))];
    case 'DeleteItem':
      return write(pkOf(input.Key), 1);
    case 'BatchWriteItem': {
      const out: Charge[] = [];
      for (const requests of Object.values(input.RequestItems ?? {}) as { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[][]) {
        for (const r of requests) {
          if (r.PutRequest) out.push(...write(pkOf(r.PutRequest.Item), kb(r.PutRequest.Item)), ...indexWrites(r.PutRequest.Item, {}));
          else out.push(...write(pkOf(r.DeleteRequest?.Key), 1));
        }
      }
      return out;
    }
    case 'GetItem':
      return read(pkOf(input.Key), input.ConsistentRead ? 1 : 0.5);
    case 'Query':
      return read(queryScope(input), input.ConsistentRead ? 1 : 0.5);
    case 'BatchGetItem': {
      const out: Charge[] = [];
      for (const spec of Object.values(input.RequestItems ?? {}) as { Keys: Item[]; ConsistentRead?: boolean }[]) {
        for (const key of spec.Keys) out.push(...read(pkOf(key), spec.ConsistentRead ? 1 : 0.5));
      }
      return out;
    }
    default:
      return [];
  }
}

function read(pk: string, units: number): Charge[] {
  return [
    { kind: 'read', scope: pk, units, private: privatePk(pk) },
    { kind: 'read', scope: 'table', units, private: false },
  ];
}

/** Read units beyond the first, by the size of what a Query or GetItem returned (debited after the fact). */
export function chargesAfter(operation: string, input: any, output: any): Charge[] {
  if (operation !== 'Query' && operation !== 'GetItem') return [];
  const bytes = JSON.stringify(output?.Items ?? output?.Item ?? {}).length;
  const units = Math.ceil(bytes / 4096) * (input.ConsistentRead ? 1 : 0.5) - (input.ConsistentRead ? 1 : 0.5);
  if (units <= 0) return [];
  const scope = operation === 'Query' ? queryScope(input) : pkOf(input.Key);
  return read(scope, units);
}
