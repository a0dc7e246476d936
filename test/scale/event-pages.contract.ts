/**
 * Recorded events are read one bounded page at a time, in push order (by sequence number), whatever the number of
 * event shards: a wait reads until its first match and never holds all of a key's events. Run on memory and on
 * DynamoDB (dynalite) with 1 and 3 event shards.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { eventsFor } from '../../sdk/core/event-order.ts';
import type { Backend, EventQuery, RunStore, StoredEvent, Waiter } from '../../sdk/ports.ts';

const T0 = Date.UTC(2026, 11, 3, 12);

export function eventPagesContract(name: string, make: () => Promise<{ store: RunStore; shards: number }>) {
  describe(`event pages: ${name}`, () => {
    const event = (key: string, seq: number, time = T0 + seq): StoredEvent => ({ eventId: `e${seq}`, key, payload: String(seq), time, seq });

    async function pages(store: RunStore, key: string, query: EventQuery) {
      const out: StoredEvent[][] = [];
      let cursor: string | undefined;
      do {
        const page = await store.findEventsPage(key, cursor ? { ...query, cursor } : query);
        out.push(page.events);
        cursor = page.cursor;
      } while (cursor);
      return out;
    }

    test('every event once, in sequence order, in pages of at most `limit` per shard', async () => {
      const { store, shards } = await make();
      const key = `k-${randomUUID()}`;
      // Recorded out of order, one pushed by a clock 10 s behind: the sequence, not the time, orders them.
      const events = Array.from({ length: 130 }, (_, i) => event(key, 1000 + i, i === 70 ? T0 - 10_000 : T0 + i));
      for (const e of [...events].reverse()) await store.recordEvent(e);
      await store.recordEvent(event(`${key}-other`, 1050));
      const read = await pages(store, key, { since: Number.POSITIVE_INFINITY, afterSeq: 1009, limit: 16 });
      expect(read.length).toBeGreaterThan(2);
      for (const page of read) expect(page.length).toBeLessThanOrEqual(16 * shards);
      expect(read.flat()).toEqual(events.slice(10));
      expect((await pages(store, key, { since: Number.POSITIVE_INFINITY, afterSeq: 2000, limit: 16 })).flat()).toEqual([]);
    });

    test('lookback: events at or after `since` by time, or after `afterSeq` whatever their time, in sequence order', async () => {
      const { store } = await make();
      const key = `k-${randomUUID()}`;
      const old = Array.from({ length: 300 }, (_, i) => event(key, i + 1, T0 - 3_600_000 + i)); // an hour before the window
      const late = event(key, 301, T0 - 20_000); // pushed after the wait's number by a slow clock
      const inWindow = Array.from({ length: 30 }, (_, i) => event(key, 302 + i, T0 + i));
      for (const e of [...old, late, ...inWindow]) await store.recordEvent(e);
      expect((await pages(store, key, { since: T0, limit: 10 })).flat()).toEqual(inWindow);
      expect((await pages(store, key, { since: T0, afterSeq: 300, limit: 10 })).flat()).toEqual([late, ...inWindow]);
      expect((await pages(store, key, { since: T0 + 1_000, limit: 10 })).flat()).toEqual([]);
      expect((await pages(store, `${key}-none`, { since: 0, limit: 10 })).flat()).toEqual([]);
      // The array form keeps its contract: every event of the window, by time.
      expect(await store.findEvents(key, T0, 300)).toEqual([late, ...inWindow]);
    });

    test('a wait reading recorded events stops at its first match', async () => {
      const { store } = await make();
      const key = `k-${randomUUID()}`;
      for (let seq = 1; seq <= 200; seq++) await store.recordEvent(event(key, seq));
      const w = { eventKey: key, since: T0 + 150, seq: 100, lookbackFrom: T0 + 150 } as Waiter;
      const seen: number[] = [];
      for await (const e of eventsFor({ store } as Backend, w)) {
        seen.push(e.seq);
        if (e.seq === 103) break;
      }
      expect(seen).toEqual([101, 102, 103]);
    });
  });
}
