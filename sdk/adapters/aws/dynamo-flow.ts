/**
 * Flow-control counters on the single table, single-item conditional writes only (no transactions):
 *
 * | item | pk | sk | attributes |
 * |---|---|---|---|
 * | slot item | `CONC#<task>#<key>` | `SLOT` | `n` (slots held), one `H#<runId>` per holder, `checkedAt` |
 * | queue item | `CONC#<task>#<key>` | `Q#<9-priority>#<createdAt>#<runId>` | runId, priority, createdAt |
 * | rate limit | `RATE#<key>` | `RATE` | `limit`, `durationMs`, `windowEnd`, `remaining`, `checkedWindow` |
 * | refill queue item | `RATE#<key>` | `Q#<9-priority>#<createdAt>#<runId>` | runId, priority, createdAt, units |
 *
 * A concurrency key's slot item and queue share one partition (a hot key's ceiling is DynamoDB's per-partition
 * 1,000 WCU/s; other keys are other partitions). Taking a slot is `ADD n 1` iff `n < maxRuns` and the holder is
 * absent, so the count never exceeds `maxRuns` whatever races, and a duplicate take changes nothing.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ConsumeResult, FlowStore, RateQueueEntry, SlotQueueEntry, SlotState } from '../../ports.ts';
import { ExpressionBuilder } from './dynamo-expressions.ts';
import { isConditionalFailure } from './dynamo-put-first.ts';
import { pad } from './dynamo-keys.ts';
import type { Item } from './dynamo-items.ts';
import { PARTITION_KEY, SORT_KEY } from './table-schema.ts';

import { CONCURRENCY_KEY_PREFIX, RATE_KEY_PREFIX } from './env.ts';

export const SLOT_PREFIX = CONCURRENCY_KEY_PREFIX;
export const RATE_PREFIX = RATE_KEY_PREFIX;
const SLOT_SK = 'SLOT';
const QUEUE_PREFIX = 'Q#';
const HOLDER_PREFIX = 'H#';

export function slotPk(slot: string): string {
  return `${SLOT_PREFIX}${slot}`;
}

/** Priority high first (9 - priority ascending), then oldest, then run id. */
export function queueSk(entry: SlotQueueEntry): string {
  return `${QUEUE_PREFIX}${9 - entry.priority}#${pad(entry.createdAt, 15)}#${entry.runId}`;
}

function entryOf(item: Item): SlotQueueEntry {
  return { runId: item['runId']!.S!, priority: Number(item['priority']!.N), createdAt: Number(item['createdAt']!.N) };
}

function key(pk: string, sk: string): Item {
  return { [PARTITION_KEY]: { S: pk }, [SORT_KEY]: { S: sk } };
}

export class DynamoFlowStore implements FlowStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** One conditional UpdateItem; false when its condition failed. */
  private async update(itemKey: Item, b: ExpressionBuilder, update: string, condition: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({ TableName: this.tableName, Key: itemKey, UpdateExpression: update, ConditionExpression: condition, ...b.params() }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  private async get(itemKey: Item): Promise<Item | undefined> {
    const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: itemKey, ConsistentRead: true }));
    return Item;
  }

  async readSlot(slot: string): Promise<SlotState> {
    return this.slotState(slot);
  }

  private async slotState(slot: string): Promise<SlotState> {
    const item = await this.get(key(slotPk(slot), SLOT_SK));
    const holders = Object.keys(item ?? {})
      .filter((name) => name.startsWith(HOLDER_PREFIX))
      .map((name) => name.slice(HOLDER_PREFIX.length));
    const checkedAt = item?.['checkedAt']?.N;
    return { holders, ...(checkedAt !== undefined ? { checkedAt: Number(checkedAt) } : {}) };
  }

  async acquireSlot(slot: string, runId: string, maxRuns: number): Promise<{ result: 'acquired' | 'held' | 'full'; state: SlotState }> {
    // A failed take is read back: a holder already (a duplicate), full, or a slot freed in between (take again).
    for (let attempt = 0; ; attempt++) {
      const b = new ExpressionBuilder();
      const h = b.name(HOLDER_PREFIX + runId);
      const n = b.name('n');
      const taken = await this.update(
        key(slotPk(slot), SLOT_SK),
        b,
        `SET ${h} = ${b.value(Date.now())} ADD ${n} ${b.value(1)}`,
        `attribute_not_exists(${h}) AND (attribute_not_exists(${n}) OR ${n} < ${b.value(maxRuns)})`,
      );
      const state = taken ? { holders: [runId] } : await this.slotState(slot);
      if (taken) return { result: 'acquired', state };
      if (state.holders.includes(runId)) return { result: 'held', state };
      if (state.holders.length >= maxRuns || attempt >= 2) return { result: 'full', state };
    }
  }

  async releaseSlot(slot: string, runId: string): Promise<boolean> {
    const b = new ExpressionBuilder();
    const h = b.name(HOLDER_PREFIX + runId);
    return this.update(key(slotPk(slot), SLOT_SK), b, `REMOVE ${h} ADD ${b.name('n')} ${b.value(-1)}`, `attribute_exists(${h})`);
  }

  async transferSlot(slot: string, from: string, to: string): Promise<'moved' | 'from-absent' | 'to-present'> {
    const b = new ExpressionBuilder();
    const f = b.name(HOLDER_PREFIX + from);
    const t = b.name(HOLDER_PREFIX + to);
    const moved = await this.update(key(slotPk(slot), SLOT_SK), b, `REMOVE ${f} SET ${t} = ${b.value(Date.now())}`, `attribute_exists(${f}) AND attribute_not_exists(${t})`);
    if (moved) return 'moved';
    const state = await this.slotState(slot);
    return state.holders.includes(from) ? 'to-present' : 'from-absent';
  }

  async markSlotChecked(slot: string, now: number, previous: number | undefined): Promise<boolean> {
    const b = new ExpressionBuilder();
    const c = b.name('checkedAt');
    const condition = previous === undefined ? `attribute_not_exists(${c})` : `${c} = ${b.value(previous)}`;
    return this.update(key(slotPk(slot), SLOT_SK), b, `SET ${c} = ${b.value(now)}`, condition);
  }

  private async putQueueItem(pk: string, entry: SlotQueueEntry, extra: Item = {}): Promise<void> {
    const item: Item = {
      ...key(pk, queueSk(entry)),
      runId: { S: entry.runId },
      priority: { N: String(entry.priority) },
      createdAt: { N: String(entry.createdAt) },
      ...extra,
    };
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
  }

  private async queryQueue(pk: string, limit: number, before?: SlotQueueEntry): Promise<Item[]> {
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: before ? '#pk = :pk AND #sk BETWEEN :q AND :upto' : '#pk = :pk AND begins_with(#sk, :q)',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY },
        ExpressionAttributeValues: { ':pk': { S: pk }, ':q': { S: QUEUE_PREFIX }, ...(before ? { ':upto': { S: queueSk(before) } } : {}) },
        ConsistentRead: true,
        Limit: before ? limit + 1 : limit,
      }),
    );
    return (Items ?? []).filter((item) => item['runId']!.S !== before?.runId).slice(0, limit);
  }

  async enqueue(slot: string, entry: SlotQueueEntry): Promise<void> {
    await this.putQueueItem(slotPk(slot), entry);
  }

  async dequeue(slot: string, entry: SlotQueueEntry): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: key(slotPk(slot), queueSk(entry)),
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  async queueHead(slot: string, limit: number): Promise<SlotQueueEntry[]> {
    return (await this.queryQueue(slotPk(slot), limit)).map(entryOf);
  }

  async enqueueRateWaiter(rateKey: string, entry: RateQueueEntry): Promise<void> {
    await this.putQueueItem(`${RATE_PREFIX}${rateKey}`, entry, { units: { N: String(entry.units) } });
  }

  async dequeueRateWaiter(rateKey: string, entry: SlotQueueEntry): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: key(`${RATE_PREFIX}${rateKey}`, queueSk(entry)) }));
  }

  async rateWaitersAhead(rateKey: string, entry: SlotQueueEntry, limit: number): Promise<RateQueueEntry[]> {
    return (await this.queryQueue(`${RATE_PREFIX}${rateKey}`, limit, entry)).map((item) => ({ ...entryOf(item), units: Number(item['units']?.N ?? 1) }));
  }

  async markRateChecked(rateKey: string, windowEnd: number): Promise<boolean> {
    const b = new ExpressionBuilder();
    const c = b.name('checkedWindow');
    const v = b.value(windowEnd);
    return this.update(key(`${RATE_PREFIX}${rateKey}`, 'RATE'), b, `SET ${c} = ${v}`, `attribute_exists(${b.name('limit')}) AND (attribute_not_exists(${c}) OR ${c} <> ${v})`);
  }

  async consumeUnits(rateKey: string, units: number, now: number, dynamic?: { limit: number; durationMs: number }, reserve = 0): Promise<ConsumeResult> {
    // A race with another taker (a window opened, units given back by nobody) is read back and tried again.
    for (let attempt = 0; ; attempt++) {
      const result = await this.consumeOnce(rateKey, units, now, dynamic, reserve);
      if (result !== 'retry') return result;
      if (attempt >= 3) return { type: 'spent', refillAt: now + 1, limit: dynamic?.limit ?? units };
    }
  }

  private async consumeOnce(rateKey: string, units: number, now: number, dynamic: { limit: number; durationMs: number } | undefined, reserve: number): Promise<ConsumeResult | 'retry'> {
    const itemKey = key(`${RATE_PREFIX}${rateKey}`, 'RATE');
    // 1. Within the current window: take units if enough remain.
    {
      const b = new ExpressionBuilder();
      const r = b.name('remaining');
      const w = b.name('windowEnd');
      const u = b.value(units);
      if (await this.update(itemKey, b, `SET ${r} = ${r} - ${u}`, `${w} > ${b.value(now)} AND ${r} >= ${b.value(units + reserve)}`)) return { type: 'taken' };
    }
    // 2. The window is over (or never began): open a new one with this run's units taken.
    {
      const b = new ExpressionBuilder();
      const w = b.name('windowEnd');
      const l = b.name('limit');
      const d = b.name('durationMs');
      const windowOver = `(attribute_not_exists(${w}) OR ${w} <= ${b.value(now)})`;
      const opened = dynamic
        ? units + reserve <= dynamic.limit &&
          (await this.update(
            itemKey,
            b,
            `SET ${l} = ${b.value(dynamic.limit)}, ${d} = ${b.value(dynamic.durationMs)}, ${w} = ${b.value(now + dynamic.durationMs)}, ${b.name('remaining')} = ${b.value(dynamic.limit - units)}`,
            windowOver,
          ))
        : await this.update(
            itemKey,
            b,
            `SET ${w} = ${b.value(now)} + ${d}, ${b.name('remaining')} = ${l} - ${b.value(units)}`,
            `attribute_exists(${l}) AND ${l} >= ${b.value(units + reserve)} AND ${windowOver}`,
          );
      if (opened) return { type: 'taken' };
    }
    // 3. Neither: read why.
    const item = await this.get(itemKey);
    const limit = dynamic?.limit ?? (item?.['limit']?.N !== undefined ? Number(item['limit'].N) : undefined);
    if (limit === undefined) return { type: 'missing' };
    if (units > limit) return { type: 'too-many', limit };
    const windowEnd = item?.['windowEnd']?.N !== undefined ? Number(item['windowEnd'].N) : now;
    const remaining = item?.['remaining']?.N !== undefined ? Number(item['remaining'].N) : 0;
    if (windowEnd <= now) {
      // The window is over: another taker opened one between our writes (look again), or the runs queued ahead
      // need more than the limit (they open it; this run waits for the window after theirs).
      if (units + reserve <= limit) return 'retry';
      const durationMs = dynamic?.durationMs ?? Number(item?.['durationMs']?.N ?? 1000);
      return { type: 'spent', refillAt: now + durationMs, limit, reserved: true };
    }
    if (remaining >= units + reserve) return 'retry';
    return { type: 'spent', refillAt: Math.max(windowEnd, now + 1), limit, ...(remaining >= units ? { reserved: true } : {}) };
  }

  async upsertRateLimit(rateKey: string, limit: number, durationMs: number): Promise<void> {
    const b = new ExpressionBuilder();
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: key(`${RATE_PREFIX}${rateKey}`, 'RATE'),
        UpdateExpression: `SET ${b.name('limit')} = ${b.value(limit)}, ${b.name('durationMs')} = ${b.value(durationMs)}`,
        ...b.params(),
      }),
    );
  }
}
