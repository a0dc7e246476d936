import type { Waiter } from './records.ts';

/** A page of a key's event waiters (`RunStore.findWaitersPage`). */
export interface WaiterPage {
  waiters: Waiter[];
  /** Where the next page of this shard starts; absent when the shard is done. */
  cursor?: string;
  /** How many shards the key's waiters are spread over (the store's count). */
  shards: number;
}

/**
 * Where an event's routing goes on (the router hands the rest on near its Lambda deadline): the event (with its
 * `seq`, already recorded) and the next page to read.
 */
export interface RouteContinuation {
  event: DurableEvent;
  shard: number;
  cursor?: string;
  /** Routes this shard only (the first hand-off splits the remaining shards into one continuation each). */
  only?: true;
}

/** An event as recorded for lookback. */
export interface StoredEvent {
  eventId: string;
  key: string;
  /** JSON text of the payload. */
  payload: string;
  scope?: string;
  metadata?: Record<string, unknown>;
  time: number;
  /** The event's place in its key's push order (`RunStore.takeEventSequence`). */
  seq: number;
  ttl?: number;
}

/** A page of recorded events (`RunStore.findEventsPage`). */
export interface EventQuery {
  /** Events pushed at or after this time count (lookback); `Infinity` for none. */
  since: number;
  /** Events with a greater number count whatever their time. */
  afterSeq?: number;
  /** From the previous page. */
  cursor?: string;
  /** Events read per Query (per shard on DynamoDB): memory stays bounded by it. */
  limit: number;
}

export interface EventPage {
  /** In push order (by `seq`): the key's sequence, never clocks, orders them. */
  events: StoredEvent[];
  /** Set when more may follow. */
  cursor?: string;
}

/** An event pushed by a user or another service. */
export interface DurableEvent {
  eventId: string;
  key: string;
  payload: unknown;
  scope?: string;
  metadata?: Record<string, unknown>;
  /** W3C trace context of the push (OpenTelemetry): runs the event starts are its children. */
  traceparent?: string;
  time: number;
  /**
   * Its place in the key's push order, taken by `events.push` before it publishes (so a wait that begins after
   * `push` returned reads a number at least this big). Events put on the bus by other producers have none; the
   * router takes one when it first records them.
   */
  seq?: number;
}

/** Carries pushed events to the router (EventBridge on AWS, in-process otherwise). */
export interface EventBus {
  publish(event: DurableEvent): Promise<void>;
}
