/**
 * Which events count for a wait: decided by order, never by clocks (ARCHITECTURE.md, "Event order").
 * `events.push` takes the event's number in its key's sequence before it publishes; a registering wait reads the
 * key's current number before it writes its waiters, and only events with a greater number (pushed after it
 * began) count, plus, with `lookback`, events pushed at or after `since - lookback` by time. The router applies
 * the same test (`pushedInTime`, router.ts), so the two ends agree.
 */
import type { Backend, EventQuery, StoredEvent, Waiter } from '../ports.ts';
import type { LeafNode } from './conditions.ts';

/** An event waiter for `leaf`, from the fields every waiter of the wait shares. */
export function eventWaiter(base: Waiter, leaf: Extract<LeafNode, { type: 'event' }>): Waiter {
  return {
    ...base,
    eventKey: leaf.eventKey,
    expression: leaf.expression,
    ...(leaf.scope !== undefined ? { scope: leaf.scope } : {}),
    ...(leaf.lookbackMs ? { lookbackFrom: base.since - leaf.lookbackMs } : {}),
  };
}

/**
 * Sets `seq` on each event waiter: the last number its key's sequence has given, read once per key. Must run
 * before the waiters are written (the router compares an event's number with it) and before the wait looks for
 * recorded events.
 */
export async function stampEventOrder(backend: Backend, waiters: Waiter[]): Promise<void> {
  const keys = new Map<string, number>();
  for (const w of waiters) if (w.type === 'event' && w.eventKey !== undefined && !keys.has(w.eventKey)) keys.set(w.eventKey, 0);
  for (const key of keys.keys()) keys.set(key, await backend.store.eventSequence(key));
  for (const w of waiters) if (w.type === 'event' && w.eventKey !== undefined) w.seq = keys.get(w.eventKey)!;
}

/** Events read per page (per event shard on DynamoDB) while a wait looks for recorded events. */
export const EVENT_PAGE_SIZE = 100;

/**
 * The recorded events that count for an event waiter (pushed after its wait began, or within its lookback), in
 * push order, read one bounded page at a time: a caller that stops at its first match reads no further.
 */
export async function* eventsFor(backend: Backend, w: Waiter): AsyncGenerator<StoredEvent> {
  const query: EventQuery =
    w.seq === undefined ? { since: w.lookbackFrom ?? w.since, limit: EVENT_PAGE_SIZE } : { since: w.lookbackFrom ?? Number.POSITIVE_INFINITY, afterSeq: w.seq, limit: EVENT_PAGE_SIZE };
  let cursor: string | undefined;
  do {
    const page = await backend.store.findEventsPage(w.eventKey!, cursor === undefined ? query : { ...query, cursor });
    yield* page.events;
    cursor = page.cursor;
  } while (cursor !== undefined);
}
