/**
 * Recorded events and each key's event sequence on DynamoDB (see sdk/core/ARCHITECTURE.md, "Event order").
 *
 * - Sequence item `EVTSEQ#<key>` / `SEQ`: one atomic UpdateItem per push takes the next number; a registering
 *   wait reads it with one consistent GetItem. It has a TTL (refreshed by every push) so keys that go quiet do
 *   not stay for ever; a counter that expired restarts above any number it gave before (from the clock, in
 *   microseconds), so a waiter still holding an old number never mistakes a new event for an old one.
 * - Event records `EVT#<key>` / `S#<seq>#<eventId>`: ordered by sequence, so "events pushed after this wait
 *   began" is one range Query. Lookback (by time) reads newest first and stops once past the window.
 */
import { GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand, type DynamoDBClient, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { EVENT_SEQUENCE_KEY_PREFIX } from './env.ts';
import type { StoredEvent } from '../../ports.ts';
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

export function eventItem(event: StoredEvent): Item {
  return toItem(event, { [PARTITION_KEY]: eventPk(event.key), [SORT_KEY]: eventSk(event.seq, event.eventId) });
}

/** Event records and sequences of one table. */
export class DynamoEvents {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number,
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
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: eventItem(event) }));
  }

  /**
   * Without lookback (`since` infinite): one range Query on the sequence, `seq > afterSeq`. With it: newest
   * first until past both the sequence bound and the window (plus {@link LOOKBACK_SLACK_MS}).
   */
  async find(key: string, since: number, afterSeq: number | undefined): Promise<StoredEvent[]> {
    const now = this.now();
    const events: StoredEvent[] = [];
    const keep = (e: StoredEvent) => !expired(e.ttl, now) && (e.time >= since || (afterSeq !== undefined && e.seq > afterSeq));
    const from = since === Number.POSITIVE_INFINITY && afterSeq !== undefined ? `${EVENT_SK_PREFIX}${pad(afterSeq + 1, SEQ_DIGITS)}` : EVENT_SK_PREFIX;
    const input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'> = {
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY },
      ExpressionAttributeValues: { ':pk': { S: eventPk(key) }, ':from': { S: from }, ':to': { S: `${EVENT_SK_PREFIX}~` } },
      ConsistentRead: true,
      ScanIndexForward: from !== EVENT_SK_PREFIX,
    };
    let start: Item | undefined;
    scan: do {
      const page = await this.client.send(new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const event = fromItem<StoredEvent>(item);
        if (keep(event)) events.push(event);
        else if (!input.ScanIndexForward && (afterSeq === undefined || event.seq <= afterSeq) && event.time < since - LOOKBACK_SLACK_MS) break scan;
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return events.sort((a, b) => a.time - b.time || a.seq - b.seq);
  }
}
