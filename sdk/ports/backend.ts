import type { CronSchedules, CronStore } from './crons.ts';
import type { EventBus } from './events.ts';
import type { FlowStore } from './flow-store.ts';
import type { Dispatcher, Timers } from './messaging.ts';
import type { RunStore } from './run-store.ts';

/** The engine's time source: the wall clock in production, a virtual clock in tests. */
export interface Clock {
  now(): number;
  /** Resolves after `ms` of this clock's time (used for in-process backoff and the timeout guard). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Counts requests to the backing services by `Service.Operation`. */
export interface RequestCounter {
  count(operation: string): void;
  snapshot(): Record<string, number>;
}

/**
 * Where payloads too large for an item are kept (S3 on AWS and locally, memory in tests): inputs, outputs and
 * step results above 256 KiB. Keys are run-scoped and content-addressed (`runs/<runId>/<sha256>`), so a put is
 * idempotent. The engine writes the blob BEFORE the item that references it (sdk/core/payloads.ts). A blob
 * expires as the items of its run do (`expiresAt`; on S3, the bucket's lifecycle rule).
 */
export interface PayloadStore {
  /** Stores `body` under `key` (the same content again is harmless). `expiresAt`: epoch seconds, like an item's TTL. */
  put(key: string, body: string, options?: { expiresAt?: number }): Promise<void>;
  /** The body under `key`, or `undefined` when there is none (expired). */
  get(key: string): Promise<string | undefined>;
}

/** The ports one engine instance runs on. */
export interface Backend {
  store: RunStore;
  /** Large payloads. Absent: every payload is limited to 256 KiB, inline in its item. */
  payloads?: PayloadStore;
  dispatcher: Dispatcher;
  timers: Timers;
  bus: EventBus;
  clock: Clock;
  counter: RequestCounter;
  /** Flow-control counters; when absent, the store's own `flow` (both bundled stores have one). */
  flow?: FlowStore;
  /** Where crons are kept. Absent: `durable.crons` is unavailable. */
  crons?: CronStore;
  /** Recurring schedules (AWS). Absent: a client with an embedded worker fires ticks in-process. */
  cronSchedules?: CronSchedules;
  /** Called by the engine after it dispatches work, so in-process backends can deliver without polling. */
  close(): Promise<void>;
}
