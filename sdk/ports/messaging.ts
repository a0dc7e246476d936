import type { RouteContinuation } from './events.ts';

/** A message asking a worker to replay a run. Kept tiny: the table is the source of truth. */
export interface DispatchMessage {
  runId: string;
}

/** A received message, to be acknowledged once handled. */
export interface ReceivedMessage {
  message: DispatchMessage | undefined;
  /** The raw body, for logging malformed messages. */
  body: string;
  ack(): Promise<void>;
  /** Makes it visible again after `delayMs` (retry). */
  retry(delayMs: number): Promise<void>;
}

/** The queue that carries "replay this run" messages (SQS on AWS). */
export interface Dispatcher {
  dispatch(message: DispatchMessage, options?: { delayMs?: number }): Promise<void>;
  /** Long-polls up to `max` messages; resolves with none after `waitMs`. Used by `worker.start()`. */
  receive(max: number, waitMs: number, signal?: AbortSignal): Promise<ReceivedMessage[]>;
  /**
   * Optional, single-process backends only (local mode, where the queue keeps nothing across a crash either):
   * a worker in this process takes undelayed messages directly. `take` returns true when it took the message
   * (it then owns retrying it), false to leave it to the queue; `undefined` detaches.
   */
  deliverInProcess?(take: ((message: DispatchMessage) => boolean) | undefined): void;
  /**
   * Optional: queues the rest of an event's routing (a message of its own type, which the worker's Lambda handler
   * hands to the router). Without it the router never hands off: it routes every waiter in one go.
   */
  continueRoute?(continuation: RouteContinuation): Promise<void>;
}

/** Fires "replay this run" at a time (SQS delay up to 15 min, EventBridge Scheduler beyond, virtual in tests). */
export interface Timers {
  /**
   * Idempotent per `timerId` (the first schedule of an id stands). The engine's ids name the due time
   * (sdk/core/operations/host.ts `timerId`), so a timer decided again is a new id.
   */
  schedule(timerId: string, dueAt: number, message: DispatchMessage): Promise<void>;
  /** Best effort: a timer that fires anyway finds nothing to do. */
  cancel(timerId: string): Promise<void>;
}
