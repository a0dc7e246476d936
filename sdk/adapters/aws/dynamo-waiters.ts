/**
 * Waiters: each under its run, and an event waiter's full copy under its event key (sharded by run id) so the
 * router finds it with consistent Queries on the base table. Written and deleted in BatchWriteItem rounds whose
 * order keeps a half-done write safe.
 */
import { QueryCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { Waiter, WaiterPage, WaiterRef } from '../../ports.ts';
import { expired, fromItem, waiterItem, waiterKeyItem } from './dynamo-items.ts';
import { WAITER_PREFIX, runPk, waiterKeyPk, waiterKeySk, waiterShard, waiterSk } from './dynamo-keys.ts';
import { compare, itemKey, type DynamoTable } from './dynamo-table.ts';
import { PARTITION_KEY, SORT_KEY } from './table-schema.ts';

export class DynamoWaiters {
  constructor(private readonly table: DynamoTable) {}

  /**
   * Writes each waiter under its run and, for an event waiter, its index item under the event key (both
   * full copies). Two rounds of BatchWriteItem when event waiters are involved, because order matters if a
   * write fails half-way (throttling, a crash between retries):
   * - a new (unsatisfied) event waiter: index item first. A waiter stored under its run without an index
   *   item would look registered to the replay, which never registers it again, yet the router could never
   *   find it: its event would be lost. The other way round, a retried replay simply registers it again.
   * - a satisfied mark (the router, or an event found by lookback): the run's copy first, since that is the
   *   one the replay decides on; the router skips a leaf whose index copy is already marked, so an index
   *   copy marked alone would lose the mark.
   */
  async registerWaiters(waiters: readonly Waiter[]): Promise<void> {
    const unique = new Map<string, Waiter>();
    for (const waiter of waiters) unique.set(`${waiter.runId}|${waiterSk(waiter)}`, waiter);
    const first: WriteRequest[] = [];
    const second: WriteRequest[] = [];
    for (const waiter of unique.values()) {
      const own: WriteRequest = { PutRequest: { Item: waiterItem(waiter) } };
      const indexItem = waiterKeyItem(waiter, this.table.shards);
      if (!indexItem) {
        first.push(own);
        continue;
      }
      const index: WriteRequest = { PutRequest: { Item: indexItem } };
      if (waiter.satisfiedAt === undefined) {
        first.push(index);
        second.push(own);
      } else {
        first.push(own);
        second.push(index);
      }
    }
    await this.table.batchWrite(first);
    await this.table.batchWrite(second);
  }

  /**
   * Deletes each waiter and, for an event waiter, its index item, in one round of BatchWriteItem (25 per
   * request). The index item's key comes from the waiter's `eventKey`; for a bare reference (no `type`) it is
   * read first, with one consistent Query per run on its waiters. A half-done delete leaves either a waiter
   * whose wait is decided (the replay removes it when it passes that position again) or an index item the
   * router finds (its wait is decided, so it only wakes the run; a finished run's is removed).
   */
  async deleteWaiters(waiters: readonly WaiterRef[]): Promise<void> {
    const unique = new Map<string, WaiterRef & Partial<Pick<Waiter, 'type' | 'eventKey'>>>();
    for (const ref of waiters) unique.set(`${ref.runId}|${waiterSk(ref)}`, ref);
    const bare = [...unique.values()].filter((ref) => ref.type === undefined || (ref.type === 'event' && ref.eventKey === undefined));
    const stored = await this.storedEventKeys(new Set(bare.map((ref) => ref.runId)));
    const requests: WriteRequest[] = [];
    for (const [id, ref] of unique) {
      requests.push({ DeleteRequest: { Key: itemKey(runPk(ref.runId), waiterSk(ref)) } });
      const eventKey = ref.type === 'event' && ref.eventKey !== undefined ? ref.eventKey : stored.get(id);
      if (eventKey !== undefined) requests.push({ DeleteRequest: { Key: itemKey(waiterKeyPk(eventKey, waiterShard(ref.runId, this.table.shards.waiter)), waiterKeySk(ref)) } });
    }
    await this.table.batchWrite(requests);
  }

  /**
   * Every event waiter of `eventKey`: one strongly consistent Query per shard of its index items, in
   * parallel. Consistent, so a waiter written before the router's read is always found (core/ARCHITECTURE.md,
   * "Why events are never missed"); the index items are full copies, so nothing else is read.
   */
  async findWaiters(eventKey: string): Promise<Waiter[]> {
    const now = this.table.now();
    const shards = await Promise.all(
      Array.from({ length: this.table.shards.waiter }, async (_, shard) => {
        const found: Waiter[] = [];
        for await (const item of this.table.query({
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          ExpressionAttributeValues: { ':pk': { S: waiterKeyPk(eventKey, shard) } },
          ConsistentRead: true,
        })) {
          const waiter = fromItem<Waiter>(item);
          if (waiter.type === 'event' && waiter.eventKey === eventKey && !expired(waiter.ttl, now)) found.push(waiter);
        }
        return found;
      }),
    );
    return shards
      .flat()
      .sort((a, b) => a.createdAt - b.createdAt || compare(a.runId, b.runId) || a.attempt - b.attempt || a.position - b.position || a.index - b.index);
  }

  /**
   * One strongly consistent Query (at most `limit` items) of one shard's index items, from `cursor` (the sort key
   * of the last item of the previous page).
   */
  async findWaitersPage(eventKey: string, page: { shard: number; cursor?: string; limit: number }): Promise<WaiterPage> {
    const now = this.table.now();
    const pk = waiterKeyPk(eventKey, page.shard);
    const { Items, LastEvaluatedKey } = await this.table.client.send(
      new QueryCommand({
        TableName: this.table.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        ExpressionAttributeValues: { ':pk': { S: pk } },
        ConsistentRead: true,
        Limit: Math.max(1, page.limit),
        ...(page.cursor !== undefined ? { ExclusiveStartKey: itemKey(pk, page.cursor) } : {}),
      }),
    );
    const waiters: Waiter[] = [];
    for (const item of Items ?? []) {
      const waiter = fromItem<Waiter>(item);
      if (waiter.type === 'event' && waiter.eventKey === eventKey && !expired(waiter.ttl, now)) waiters.push(waiter);
    }
    const cursor = LastEvaluatedKey?.[SORT_KEY]?.S;
    return { waiters, shards: this.table.shards.waiter, ...(cursor !== undefined ? { cursor } : {}) };
  }

  /** The event key of every stored event waiter of `runIds`, by `<runId>|<waiter sk>` (one Query per run). */
  private async storedEventKeys(runIds: ReadonlySet<string>): Promise<Map<string, string>> {
    const keys = new Map<string, string>();
    for (const runId of runIds) {
      for await (const item of this.table.query({
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :waiters)',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY, '#type': 'type', '#eventKey': 'eventKey' },
        ExpressionAttributeValues: { ':pk': { S: runPk(runId) }, ':waiters': { S: WAITER_PREFIX } },
        ProjectionExpression: '#sk, #type, #eventKey',
        ConsistentRead: true,
      })) {
        const eventKey = item.eventKey?.S;
        if (item.type?.S === 'event' && eventKey !== undefined) keys.set(`${runId}|${item[SORT_KEY]?.S}`, eventKey);
      }
    }
    return keys;
  }
}
