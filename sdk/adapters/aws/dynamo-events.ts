/**
 * Recorded events and each key's event sequence on DynamoDB (see sdk/core/ARCHITECTURE.md, "Event order").
 *
 * - Sequence item `EVTSEQ#<key>` / `SEQ`: one atomic UpdateItem per push takes the next number; a registering
 *   wait reads it with one consistent GetItem. It has a TTL (refreshed by every push) so keys that go quiet do
 *   not stay for ever; a counter that expired restarts above any number it gave before (from the clock, in
 *   microseconds), so a waiter still holding an old number never mistakes a new event for an old one.
 * - Event records `EVT#<key>` / `S#<seq>#<eventId>` (shard 0; shard n > 0 is `EVT@<n>#<key>`, shard = seq modulo
 *   the store's event-shard count): ordered by sequence, so "events pushed after this wait began" is one range
 *   Query per shard, merged by sequence number. Lookback (by time) first reads newest first, a page of keys at a
 *   time, to the first event older than the window, then reads forward from there page by page: a wait stops at
 *   its first match and never holds more than a page per shard.
 */
import { GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EVENT_SEQUENCE_KEY_PREFIX } from './env.ts';
import type { EventPage, EventQuery, StoredEvent } from '../../ports.ts';
import { eventPk, pad } from './dynamo-keys.ts';
import { expired, fromItem, toItem, type Item } from './dynamo-items.ts';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from './table-schema.ts';

/** How long a key's sequence item outlives its last push. */
export const SEQUENCE_TTL_SECONDS = 30 * 24 * 3600;
/**
 * Lookback reads events newest first and stops at the first one older than the window by this much: events
 * are ordered by sequence, their times by the pushers' clocks, which may disagree a little.
 */
export const LOOKBACK_SLACK_MS = 5 * 60_000;

const SEQ_SK = 'SEQ';
const SEQ_DIGITS = 16;
const EVENT_SK_PREFIX = 'S#';

export function sequencePk(key: string): string {
  return `${EVENT_SEQUENCE_KEY_PREFIX}${key}`;
}

/** Sort key of an event record: its sequence number, zero-padded, then its id (a redelivery overwrites it). */
export function eventSk(seq: number, eventId: string): string {
  return `${EVENT_SK_PREFIX}${pad(seq, SEQ_DIGITS)}#${eventId}`;
}

/** Partition of shard `shard` of `key`'s event records (shard 0 is the unsharded layout, `EVT#<key>`). */
export function eventShardPk(key: string, shard: number): string {
  return shard === 0 ? eventPk(key) : `EVT@${shard}#${key}`;
}

export function eventItem(event: StoredEvent, shards = 1): Item {
  return toItem(event, { [PARTITION_KEY]: eventShardPk(event.key, event.seq % shards), [SORT_KEY]: eventSk(event.seq, event.eventId) });
}

/** Sequence number in an event record's sort key. */
function seqOf(item: Item): number {
  return Number(item[SORT_KEY]!.S!.slice(EVENT_SK_PREFIX.length, EVENT_SK_PREFIX.length + SEQ_DIGITS));
}

/** Event records and sequences of one table. */
export class DynamoEvents {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number,
    private readonly shards = 1,
  ) {}

  /** One UpdateItem: `seq = if_not_exists(seq, <clock µs>) + 1`, TTL refreshed. */
  async take(key: string): Promise<number> {
    const now = this.now();
    const { Attributes } = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { [PARTITION_KEY]: { S: sequencePk(key) }, [SORT_KEY]: { S: SEQ_SK } },
        UpdateExpression: 'SET #seq = if_not_exists(#seq, :base) + :one, #ttl = :ttl',
        ExpressionAttributeNames: { '#seq': 'seq', '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: {
          ':base': { N: String(Math.floor(now) * 1000) },
          ':one': { N: '1' },
          ':ttl': { N: String(Math.floor(now / 1000) + SEQUENCE_TTL_SECONDS) },
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(Attributes?.seq?.N);
  }

  /**
   * One consistent GetItem. An expired item not yet deleted still counts: the next push continues from it
   * (`if_not_exists` sees it), so its number is still the right lower bound.
   */
  async current(key: string): Promise<number> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [PARTITION_KEY]: { S: sequencePk(key) }, [SORT_KEY]: { S: SEQ_SK } },
        ConsistentRead: true,
        ProjectionExpression: '#seq',
        ExpressionAttributeNames: { '#seq': 'seq' },
      }),
    );
    return Item?.seq?.N === undefined ? 0 : Number(Item.seq.N);
  }

  async record(event: StoredEvent): Promise<void> {
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: eventItem(event, this.shards) }));
  }

  /** Every event of the window, oldest first by time (then sequence): for tests and tools; the engine pages. */
  async find(key: string, since: number, afterSeq: number | undefined): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.page(key, { since, ...(afterSeq !== undefined ? { afterSeq } : {}), limit: 100, ...(cursor ? { cursor } : {}) });
      events.push(...page.events);
      cursor = page.cursor;
    } while (cursor);
    return events.sort((a, b) => a.time - b.time || a.seq - b.seq);
  }

  /**
   * One page, in sequence order: one Query per shard with `Limit`, forward from the cursor (the first page without
   * lookback: from `afterSeq + 1`; with lookback: from the window's start, found by {@link windowStart}). Shards are
   * merged up to the smallest last number of a shard that has more, so no event is skipped or read twice.
   */
  async page(key: string, query: EventQuery): Promise<EventPage> {
    const now = this.now();
    const { since, afterSeq, limit } = query;
    let from: number | undefined;
    if (query.cursor !== undefined) from = Number(query.cursor);
    else if (since === Number.POSITIVE_INFINITY) from = (afterSeq ?? 0) + 1;
    else from = await this.windowStart(key, since, afterSeq, limit);
    if (from === undefined || !Number.isSafeInteger(from)) return { events: [] };
    const pages = await Promise.all(
      Array.from({ length: this.shards }, (_, shard) =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY },
            ExpressionAttributeValues: { ':pk': { S: eventShardPk(key, shard) }, ':from': { S: `${EVENT_SK_PREFIX}${pad(from, SEQ_DIGITS)}` }, ':to': { S: `${EVENT_SK_PREFIX}~` } },
            ConsistentRead: true,
            Limit: limit,
          }),
        ),
      ),
    );
    let bound = Number.POSITIVE_INFINITY;
    for (const p of pages) if (p.LastEvaluatedKey && p.Items?.length) bound = Math.min(bound, seqOf(p.Items[p.Items.length - 1]!));
    const events = pages
      .flatMap((p) => p.Items ?? [])
      .filter((item) => seqOf(item) <= bound)
      .map((item) => fromItem<StoredEvent>(item))
      .filter((e) => !expired(e.ttl, now) && (e.time >= since || (afterSeq !== undefined && e.seq > afterSeq)))
      .sort((a, b) => a.seq - b.seq);
    return { events, ...(bound !== Number.POSITIVE_INFINITY ? { cursor: String(bound + 1) } : {}) };
  }

  /**
   * The smallest number a lookback window can start at: each shard read newest first, `limit` keys a page, to the
   * first event older than the window by more than {@link LOOKBACK_SLACK_MS} (and not after `afterSeq`).
   * Undefined when nothing counts.
   */
  private async windowStart(key: string, since: number, afterSeq: number | undefined, limit: number): Promise<number | undefined> {
    const now = this.now();
    let start = afterSeq === undefined ? Number.POSITIVE_INFINITY : afterSeq + 1;
    await Promise.all(
      Array.from({ length: this.shards }, async (_, shard) => {
        let exclusive: Item | undefined;
        do {
          const page = await this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              // Events after `afterSeq` count whatever their time: the walk back starts at `afterSeq`.
              KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
              ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY, '#time': 'time', '#ttl': TTL_ATTRIBUTE },
              ExpressionAttributeValues: {
                ':pk': { S: eventShardPk(key, shard) },
                ':from': { S: EVENT_SK_PREFIX },
                ':to': { S: afterSeq === undefined ? `${EVENT_SK_PREFIX}~` : `${EVENT_SK_PREFIX}${pad(afterSeq, SEQ_DIGITS)}#~` },
              },
              ProjectionExpression: '#pk, #sk, #time, #ttl',
              ConsistentRead: true,
              ScanIndexForward: false,
              Limit: limit,
              ExclusiveStartKey: exclusive,
            }),
          );
          for (const item of page.Items ?? []) {
            const seq = seqOf(item);
            const time = Number(item.time?.N);
            const ttl = item[TTL_ATTRIBUTE]?.N === undefined ? undefined : Number(item[TTL_ATTRIBUTE]!.N);
            if (time >= since && !expired(ttl, now)) start = Math.min(start, seq);
            else if (time < since - LOOKBACK_SLACK_MS) return;
          }
          exclusive = page.LastEvaluatedKey;
        } while (exclusive);
      }),
    );
    return start === Number.POSITIVE_INFINITY ? undefined : start;
  }
}
