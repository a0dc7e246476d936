/**
 * DynamoDB capacity units as AWS would bill them, measured from the requests the store sends (a bench-only
 * middleware on its DynamoDB client). dynalite answers every request but bills nothing, so this applies
 * AWS's on-demand rules itself:
 * - table write: 1 WRU per started KB of the larger of the old and new item; a failed conditional write
 *   still costs the units of the item it was checked against (at least 1), and writes no index;
 * - each global secondary index costs its own writes, on its **index entry** (the table's key, the index's
 *   key and the projected attributes: everything for ALL, `nonKeyAttributes` for INCLUDE), 1 WRU per
 *   started KB of the entry:
 *   - the item enters the index (it now has both index key attributes): 1 put;
 *   - it leaves it (a key attribute removed, or the item deleted): 1 delete;
 *   - its index key changes: a delete plus a put (a key move);
 *   - it stays, same key, and a projected attribute changes: 1 update (the larger of the two entries);
 *   - it stays and no projected attribute changes (e.g. a write of unprojected attributes only): nothing.
 * - read: 1 RRU per started 4 KB (of the summed items, for a Query page), halved when eventually
 *   consistent (index queries always are; their items are index entries).
 *
 * Index names, keys and projections come from `TABLE_SCHEMA` (sdk/adapters/aws/table-schema.ts), the
 * description the CDK construct and `createTableInput` build the table from, so the meter follows the
 * layout. Old item sizes come from the items themselves where DynamoDB can return them (the meter asks
 * for `ALL_OLD` on PutItem and DeleteItem, `ALL_NEW` on UpdateItem, when the caller asked for nothing, and
 * hides those values from the caller), otherwise from a shadow of every item this client wrote or read.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { SWEEP_INDEX, TABLE_SCHEMA } from '../../sdk/adapters/aws/table-schema.ts';

type Item = Record<string, AttributeValue>;
type Handler = (args: { input: Record<string, any> }) => Promise<{ output: Record<string, any> }>;

const PK = TABLE_SCHEMA.partitionKey.name;
const SK = TABLE_SCHEMA.sortKey.name;

/** How an index is metered: its key, and the entry an item has in it (undefined when not indexed). */
export interface MeteredIndex {
  name: string;
  /** A reader's description, e.g. `gsi2 (sweep index; gsi2pk/gsi2sk; INCLUDE 11 attributes)`. */
  label: string;
  /** Short form for cost lines, e.g. `gsi2 (sweep index)`. */
  shortLabel: string;
  keyOf(item: Item | undefined | null): string | undefined;
  entryOf(item: Item | undefined | null): Item | undefined;
}

/** The table's global secondary indexes, as `TABLE_SCHEMA` defines them. */
export const METERED_INDEXES: readonly MeteredIndex[] = TABLE_SCHEMA.globalSecondaryIndexes.map((index): MeteredIndex => {
  const ipk = index.partitionKey.name;
  const isk = index.sortKey.name;
  const keys = [PK, SK, ipk, isk];
  const projection = index.projection as { type: 'ALL' } | { type: 'INCLUDE'; nonKeyAttributes: readonly string[] } | { type: 'KEYS_ONLY' };
  const projected: readonly string[] | 'all' = projection.type === 'ALL' ? 'all' : projection.type === 'INCLUDE' ? projection.nonKeyAttributes : [];
  // An item is in the index only when it has both index key attributes (a sparse index).
  const indexed = (item: Item | undefined | null): item is Item => item?.[ipk] !== undefined && item[isk] !== undefined;
  const what = projection.type === 'INCLUDE' ? `INCLUDE ${projection.nonKeyAttributes.length} attributes` : projection.type;
  return {
    name: index.indexName,
    label: `${index.indexName} (${index.indexName === SWEEP_INDEX ? 'sweep index; ' : ''}${ipk}/${isk}; ${what})`,
    shortLabel: `${index.indexName}${index.indexName === SWEEP_INDEX ? ' (sweep index)' : ''}`,
    keyOf: (item) => (indexed(item) ? JSON.stringify([item[ipk], item[isk]]) : undefined),
    entryOf: (item) => {
      if (!indexed(item)) return undefined;
      if (projected === 'all') return item;
      const entry: Item = {};
      for (const name of [...keys, ...projected]) if (item[name] !== undefined) entry[name] = item[name]!;
      return entry;
    },
  };
});

/** The operation name index queries are metered under, e.g. `Query gsi2`. */
export function indexQueryOp(indexName: string): string {
  return `Query ${indexName}`;
}

/** What one kind of index write did: entries put, deleted, updated in place. */
export type IndexWriteKind = 'put' | 'delete' | 'update';

/** Capacity and request counts of one `DynamoDB.Operation`. */
export interface Capacity {
  requests: number;
  /** Items written (a BatchWriteItem counts each of its puts and deletes). */
  items: number;
  /** Table write request units. */
  wru: number;
  /** Index write request units, by index name. */
  gsiWru: Record<string, number>;
  /** Index entry writes, by `<index> <kind>` (e.g. `gsi2 delete`); a key move counts a delete and a put. */
  gsiWrites: Record<string, number>;
  /** Read request units (strongly consistent reads count 1 per 4 KB, eventually consistent 0.5). */
  rru: number;
  /** Of `rru`, what eventually consistent reads cost. */
  eventualRru: number;
  /** Conditional writes that failed (billed anyway). */
  conditionalFailures: number;
}

export type CapacitySnapshot = Record<string, Capacity>;

const NUMBERS = ['requests', 'items', 'wru', 'rru', 'eventualRru', 'conditionalFailures'] as const;
const MAPS = ['gsiWru', 'gsiWrites'] as const;

export function emptyCapacity(): Capacity {
  return { requests: 0, items: 0, wru: 0, gsiWru: {}, gsiWrites: {}, rru: 0, eventualRru: 0, conditionalFailures: 0 };
}

/**
 * `f(a, b)` field by field (maps key by key, a missing side counting 0), for differences, sums and scaling.
 * Map entries whose result is (almost) 0 are dropped.
 */
export function combineCapacity(a: Capacity | undefined, b: Capacity | undefined, f: (x: number, y: number) => number): Capacity {
  const x = a ?? emptyCapacity();
  const y = b ?? emptyCapacity();
  const out = emptyCapacity();
  for (const k of NUMBERS) out[k] = f(x[k] ?? 0, y[k] ?? 0);
  for (const k of MAPS) {
    for (const key of new Set([...Object.keys(x[k] ?? {}), ...Object.keys(y[k] ?? {})])) {
      const v = f(x[k]?.[key] ?? 0, y[k]?.[key] ?? 0);
      if (Math.abs(v) >= 0.0005) out[k][key] = v;
    }
  }
  return out;
}

/** `f(a[op], b[op])` for every operation of either snapshot; operations left with no request and no units are dropped. */
export function combineSnapshots(a: CapacitySnapshot, b: CapacitySnapshot, f: (x: number, y: number) => number): CapacitySnapshot {
  const out: CapacitySnapshot = {};
  for (const op of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const c = combineCapacity(a[op], b[op], f);
    if (c.requests || c.wru || c.rru || Object.keys(c.gsiWru).length) out[op] = c;
  }
  return out;
}

export class CapacityMeter {
  private readonly byOp = new Map<string, Capacity>();
  private readonly shadow = new Map<string, Item>();

  /**
   * Instruments the DynamoDB client of a `DynamoRunStore`. Reaches into the store at run time (benchmarks
   * only): the store keeps its client private.
   *
   * @throws {Error} when `store` has no AWS SDK client (the memory store).
   */
  static attach(store: unknown): CapacityMeter {
    const client = (store as { client?: { middlewareStack?: { add: Function } } }).client;
    if (!client?.middlewareStack) throw new Error('CapacityMeter: the store has no DynamoDB client (not the AWS store?)');
    const meter = new CapacityMeter();
    client.middlewareStack.add(
      (next: Handler, context: { commandName?: string }): Handler =>
        async (args) => {
          const command = (context.commandName ?? 'Unknown').replace(/Command$/, '');
          // Index queries (the sweeper's, periodic: a cost per sweep, not per operation) are kept apart.
          const op = command === 'Query' && args.input.IndexName ? indexQueryOp(args.input.IndexName) : command;
          // Ask DynamoDB for the item the meter needs when the caller asked for none (no extra capacity).
          const wanted = command === 'UpdateItem' ? 'ALL_NEW' : command === 'PutItem' || command === 'DeleteItem' ? 'ALL_OLD' : undefined;
          const added = wanted !== undefined && (args.input.ReturnValues === undefined || args.input.ReturnValues === 'NONE');
          try {
            const result = await next(added ? { ...args, input: { ...args.input, ReturnValues: wanted } } : args);
            meter.record(op, args.input, result.output, false, added ? wanted : args.input.ReturnValues);
            if (added && result.output?.Attributes !== undefined) {
              const { Attributes: _hidden, ...output } = result.output;
              return { ...result, output };
            }
            return result;
          } catch (error) {
            if ((error as { name?: string }).name === 'ConditionalCheckFailedException') meter.record(op, args.input, undefined, true, undefined);
            throw error;
          }
        },
      { step: 'initialize', name: 'benchCapacityMeter', override: true },
    );
    return meter;
  }

  /**
   * The item as this client last wrote or read it (the shadow), e.g. a run item's status after the
   * worker's last update. Costs no request: workloads use it to know a run is parked.
   */
  item(pk: string, sk: string): Item | undefined {
    return this.shadow.get(`${pk}|${sk}`);
  }

  snapshot(): CapacitySnapshot {
    return Object.fromEntries([...this.byOp].map(([op, c]) => [op, combineCapacity(c, undefined, (x) => x)]));
  }

  /** `after - before`, per operation. */
  static diff(before: CapacitySnapshot, after: CapacitySnapshot): CapacitySnapshot {
    return combineSnapshots(after, before, (x, y) => x - y);
  }

  private get(op: string): Capacity {
    let c = this.byOp.get(op);
    if (!c) this.byOp.set(op, (c = emptyCapacity()));
    return c;
  }

  private record(op: string, input: Record<string, any>, output: Record<string, any> | undefined, failedCondition: boolean, returned: string | undefined) {
    const c = this.get(op);
    c.requests++;
    const attributes = output?.Attributes as Item | undefined;
    switch (op.startsWith('Query ') ? 'Query' : op) {
      case 'PutItem': {
        const key = itemKey(input.Item as Item);
        const before = returned === 'ALL_OLD' && !failedCondition ? (attributes ?? null) : undefined;
        return this.write(c, key, failedCondition ? undefined : (input.Item as Item), failedCondition, before);
      }
      case 'UpdateItem': {
        const key = itemKey(input.Key as Item);
        if (failedCondition) return this.write(c, key, undefined, true);
        const after = returned === 'ALL_NEW' ? attributes : undefined;
        // Without the new item (another ReturnValues), the shadow stands in: index changes are then missed.
        return this.write(c, key, after ?? this.shadow.get(key) ?? (input.Key as Item), false);
      }
      case 'DeleteItem': {
        const key = itemKey(input.Key as Item);
        const before = returned === 'ALL_OLD' && !failedCondition ? (attributes ?? null) : undefined;
        return this.write(c, key, failedCondition ? undefined : null, failedCondition, before);
      }
      case 'BatchWriteItem': {
        const unprocessed = new Set<string>();
        for (const requests of Object.values((output?.UnprocessedItems ?? {}) as Record<string, any[]>)) {
          for (const r of requests) unprocessed.add(itemKey(r.PutRequest?.Item ?? r.DeleteRequest?.Key));
        }
        for (const requests of Object.values((input.RequestItems ?? {}) as Record<string, any[]>)) {
          for (const r of requests) {
            const key = itemKey(r.PutRequest?.Item ?? r.DeleteRequest?.Key);
            if (unprocessed.has(key)) continue;
            if (r.PutRequest) this.write(c, key, r.PutRequest.Item, false);
            else if (r.DeleteRequest) this.write(c, key, null, false);
          }
        }
        return;
      }
      case 'GetItem': {
        const item = output?.Item as Item | undefined;
        if (item && input.ProjectionExpression === undefined) this.shadow.set(itemKey(item), item);
        return this.read(c, item ? itemSize(item) : 0, input.ConsistentRead === true);
      }
      case 'BatchGetItem': {
        // The sweeper's reads of the runs the keys-only index names: each item is its own read (rounded up).
        for (const [table, items] of Object.entries((output?.Responses ?? {}) as Record<string, Item[]>)) {
          const consistent = input.RequestItems?.[table]?.ConsistentRead === true;
          for (const item of items) this.read(c, itemSize(this.shadow.get(itemKey(item)) ?? item), consistent);
        }
        return;
      }
      case 'Query':
      case 'Scan': {
        const items = (output?.Items ?? []) as Item[];
        const index = input.IndexName ? METERED_INDEXES.find((i) => i.name === input.IndexName) : undefined;
        let bytes = 0;
        for (const item of items) {
          // An index query reads index entries (what dynalite returns too); a table read reads whole items,
          // even when a ProjectionExpression returns fewer attributes (then sized from the shadow when known).
          const whole = input.ProjectionExpression !== undefined && !index ? this.shadow.get(itemKey(item)) : undefined;
          bytes += itemSize(index?.entryOf(item) ?? whole ?? item);
          if (!input.IndexName && input.ProjectionExpression === undefined) this.shadow.set(itemKey(item), item);
        }
        return this.read(c, bytes, input.ConsistentRead === true && !input.IndexName);
      }
      default:
        return;
    }
  }

  /**
   * One item write. `after`: the new item; `null`: deleted; `undefined`: unchanged (a failed condition).
   * `known`: the old item when DynamoDB returned it (`null`: there was none), else the shadow's.
   */
  private write(c: Capacity, key: string, after: Item | null | undefined, failedCondition: boolean, known?: Item | null) {
    const before = known === undefined ? this.shadow.get(key) : (known ?? undefined);
    c.items++;
    if (failedCondition || after === undefined) {
      c.conditionalFailures += failedCondition ? 1 : 0;
      c.wru += Math.max(1, kb(before ?? {}));
      return;
    }
    c.wru += Math.max(1, kb(before ?? {}), after ? kb(after) : 0);
    for (const index of METERED_INDEXES) {
      const writes = indexWrites(index, before, after ?? undefined);
      for (const [kind, units] of writes) {
        c.gsiWru[index.name] = (c.gsiWru[index.name] ?? 0) + units;
        const label = `${index.name} ${kind}`;
        c.gsiWrites[label] = (c.gsiWrites[label] ?? 0) + 1;
      }
    }
    if (after) this.shadow.set(key, after);
    else this.shadow.delete(key);
  }

  private read(c: Capacity, bytes: number, consistent: boolean) {
    const units = Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);
    c.rru += units;
    if (!consistent) c.eventualRru += units;
  }
}

/** The index writes (kind, WRU) one table write from `before` to `after` causes in `index` (see the file comment). */
export function indexWrites(index: MeteredIndex, before: Item | undefined, after: Item | undefined): [IndexWriteKind, number][] {
  const was = index.entryOf(before);
  const is = index.entryOf(after);
  if (!was && !is) return [];
  if (!was) return [['put', kb(is!)]];
  if (!is) return [['delete', kb(was)]];
  if (index.keyOf(before) !== index.keyOf(after)) return [['delete', kb(was)], ['put', kb(is)]];
  if (sameItem(was, is)) return [];
  return [['update', Math.max(kb(was), kb(is))]];
}

function sameItem(a: Item, b: Item): boolean {
  const names = Object.keys(a);
  if (names.length !== Object.keys(b).length) return false;
  return names.every((name) => b[name] !== undefined && canonical(a[name]!) === canonical(b[name]!));
}

/** A value's canonical text (map keys sorted), so equal values compare equal whatever their key order. */
function canonical(value: AttributeValue): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}

function itemKey(item: Item): string {
  return `${item[PK]?.S}|${item[SK]?.S}`;
}

function kb(item: Item): number {
  return Math.max(1, Math.ceil(itemSize(item) / 1024));
}

/** DynamoDB's item size: attribute names plus values (strings and binaries by length, numbers ~1 byte per 2 digits + 1). */
export function itemSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-|\.|e.*$/gi, '').replace(/^0+/, '').length / 2) + 1;
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + valueSize(v), 0);
  if (value.M !== undefined) return 3 + Object.keys(value.M).length + itemSize(value.M as Item);
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + Buffer.byteLength(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + Math.ceil(n.length / 2) + 1, 0);
  return 0;
}
