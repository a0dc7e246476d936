/**
 * DynamoDB capacity units as AWS would bill them, measured from the requests the store sends (a bench-only
 * middleware on its DynamoDB client). dynalite answers every request but bills nothing, so this applies
 * AWS's rules itself:
 * - write: 1 WRU per started KB of the larger of the old and new item; a failed conditional write still
 *   costs the units of the item it was checked against (at least 1);
 * - each GSI the item is in (before or after) costs its own writes: a put or a delete in the index is
 *   1 WRU per started KB of the projected item (projection ALL here), a change of the index key is both;
 * - read: 1 RRU per started 4 KB (of the summed items, for a Query page), halved when eventually
 *   consistent (GSI queries always are).
 * Old item sizes come from a shadow of every item this client wrote or read.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

type Item = Record<string, AttributeValue>;
type Handler = (args: { input: Record<string, any> }) => Promise<{ output: Record<string, any> }>;

/** Partition-key attribute of each GSI of the table (sdk/adapters/aws/table-schema.ts). */
const INDEX_KEYS: Record<string, { pk: string; sk: string }> = {
  gsi1: { pk: 'gsi1pk', sk: 'gsi1sk' },
  gsi2: { pk: 'gsi2pk', sk: 'gsi2sk' },
};

/** Capacity and request counts of one `DynamoDB.Operation`. */
export interface Capacity {
  requests: number;
  /** Table write request units. */
  wru: number;
  /** GSI write request units, by index. */
  gsiWru: Record<string, number>;
  /** Read request units (strongly consistent reads count 1 per 4 KB, eventually consistent 0.5). */
  rru: number;
  /** Of `rru`, what eventually consistent reads cost. */
  eventualRru: number;
  /** Conditional writes that failed (billed anyway). */
  conditionalFailures: number;
}

export type CapacitySnapshot = Record<string, Capacity>;

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
          const op = (context.commandName ?? 'Unknown').replace(/Command$/, '');
          try {
            const result = await next(args);
            meter.record(op, args.input, result.output, false);
            return result;
          } catch (error) {
            if ((error as { name?: string }).name === 'ConditionalCheckFailedException') meter.record(op, args.input, undefined, true);
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
    return Object.fromEntries([...this.byOp].map(([op, c]) => [op, { ...c, gsiWru: { ...c.gsiWru } }]));
  }

  /** `after - before`, per operation. */
  static diff(before: CapacitySnapshot, after: CapacitySnapshot): CapacitySnapshot {
    const out: CapacitySnapshot = {};
    for (const [op, a] of Object.entries(after)) {
      const b = before[op] ?? emptyCapacity();
      const gsiWru: Record<string, number> = {};
      for (const [index, units] of Object.entries(a.gsiWru)) {
        const d = units - (b.gsiWru[index] ?? 0);
        if (d) gsiWru[index] = d;
      }
      const d: Capacity = {
        requests: a.requests - b.requests,
        wru: a.wru - b.wru,
        gsiWru,
        rru: a.rru - b.rru,
        eventualRru: a.eventualRru - b.eventualRru,
        conditionalFailures: a.conditionalFailures - b.conditionalFailures,
      };
      if (d.requests) out[op] = d;
    }
    return out;
  }

  private get(op: string): Capacity {
    let c = this.byOp.get(op);
    if (!c) this.byOp.set(op, (c = emptyCapacity()));
    return c;
  }

  private record(op: string, input: Record<string, any>, output: Record<string, any> | undefined, failedCondition: boolean) {
    const c = this.get(op);
    c.requests++;
    switch (op) {
      case 'PutItem':
        return this.write(c, itemKey(input.Item as Item), input.Item as Item, failedCondition);
      case 'UpdateItem': {
        const key = itemKey(input.Key as Item);
        const after = output?.Attributes as Item | undefined;
        if (failedCondition) return this.write(c, key, undefined, true);
        return this.write(c, key, after ?? this.shadow.get(key) ?? (input.Key as Item), false);
      }
      case 'DeleteItem':
        return this.write(c, itemKey(input.Key as Item), null, failedCondition);
      case 'BatchWriteItem':
        for (const requests of Object.values((input.RequestItems ?? {}) as Record<string, any[]>)) {
          for (const r of requests) {
            if (r.PutRequest) this.write(c, itemKey(r.PutRequest.Item), r.PutRequest.Item, false);
            else if (r.DeleteRequest) this.write(c, itemKey(r.DeleteRequest.Key), null, false);
          }
        }
        return;
      case 'GetItem': {
        const item = output?.Item as Item | undefined;
        if (item) this.shadow.set(itemKey(item), item);
        return this.read(c, item ? itemSize(item) : 0, input.ConsistentRead === true);
      }
      case 'Query':
      case 'Scan': {
        const items = (output?.Items ?? []) as Item[];
        let bytes = 0;
        for (const item of items) {
          bytes += itemSize(item);
          if (!input.IndexName) this.shadow.set(itemKey(item), item);
        }
        return this.read(c, bytes, input.ConsistentRead === true && !input.IndexName);
      }
      default:
        return;
    }
  }

  /** `after`: the new item; `null`: deleted; `undefined`: unchanged (a failed condition). */
  private write(c: Capacity, key: string, after: Item | null | undefined, failedCondition: boolean) {
    const before = this.shadow.get(key);
    if (failedCondition || after === undefined) {
      c.conditionalFailures += failedCondition ? 1 : 0;
      c.wru += Math.max(1, kb(before ?? after ?? {}));
      return;
    }
    c.wru += Math.max(1, kb(before ?? {}), after ? kb(after) : 0);
    for (const [index, { pk, sk }] of Object.entries(INDEX_KEYS)) {
      const wasIn = before?.[pk] !== undefined;
      const isIn = after?.[pk] !== undefined;
      let units = 0;
      if (wasIn && isIn) {
        const moved = before![pk]!.S !== after![pk]!.S || JSON.stringify(before![sk]) !== JSON.stringify(after![sk]);
        units = moved ? kb(before!) + kb(after!) : kb(after!);
      } else if (isIn) units = kb(after!);
      else if (wasIn) units = kb(before!);
      if (units) c.gsiWru[index] = (c.gsiWru[index] ?? 0) + units;
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

function emptyCapacity(): Capacity {
  return { requests: 0, wru: 0, gsiWru: {}, rru: 0, eventualRru: 0, conditionalFailures: 0 };
}

function itemKey(item: Item): string {
  return `${item.pk?.S}|${item.sk?.S}`;
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
