/** Lifecycle of a run. Terminal: SUCCEEDED, FAILED, CANCELLED, SKIPPED. */
export type RunStatus = 'QUEUED' | 'RUNNING' | 'WAITING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'SKIPPED';

export const TERMINAL_STATUSES: readonly RunStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED'];

/** An error as plain data, as it is stored in the journal and shown by `runs.get`. */
export interface SerializedError {
  name: string;
  message: string;
  /** Extra fields of typed errors (position, expected, actual, ...) so a replayed failure is the same error. */
  data?: Record<string, unknown>;
  stack?: string;
  /** Set when `message`, `stack` or `name` were capped to be stored (each then ends with a `[truncated: ...]` note). */
  truncated?: true;
}

/** Which run (and journal position) a child run reports to when it finishes. */
export interface ParentLink {
  runId: string;
  /** The attempt of the parent whose journal the child belongs to. */
  attempt: number;
  position: number;
  /** The parent's `generation`: the child's outcome goes to that incarnation's journal. */
  generation?: string;
}

/**
 * The run item. Payloads (`input`, `output`) are stored as JSON text: they were validated and
 * size-checked once, when they entered the system, and are parsed only where they are used.
 */
export interface RunRecord {
  runId: string;
  /**
   * The incarnation of this run id, unique per created run item. Every item the run writes (journal entries,
   * waiters and their index copies, DAG task states) carries it and reads ignore items of another, so a run id
   * used again after its run item expired (or was deleted) starts clean. Absent on runs created before it existed.
   */
  generation?: string;
  /** Task or workflow name. */
  name: string;
  status: RunStatus;
  /** JSON text of the input. */
  input: string;
  /** JSON text of the output, once SUCCEEDED (absent for `undefined`). */
  output?: string;
  error?: SerializedError;
  createdAt: number;
  updatedAt: number;
  /** Task-level attempt, 0-based. Each attempt has its own journal. */
  attempt: number;
  /** Incremented by every resolution (event, child, cancel). Suspending is conditional on it. */
  wake: number;
  /** The `wake` value the latest replay started from. */
  seen: number;
  leaseOwner?: string;
  leaseUntil?: number;
  /** Running time spent so far by all replays of this attempt (executionTimeout counts only this). */
  runningMs: number;
  /** Earliest time a WAITING run must be replayed (timer due, retry backoff). */
  wakeAt?: number;
  cancelRequested?: boolean;
  parent?: ParentLink;
  /** For DAG task runs: the workflow run this task run belongs to. */
  workflowRunId?: string;
  /** Free-form metadata given at start (event-triggered runs carry the event's id and key). */
  metadata?: Record<string, unknown>;
  /** W3C trace context of the span that started the run (OpenTelemetry, sdk/core/tracing.ts). */
  traceparent?: string;
  /** Flow control: 1 (LOW) .. 3 (HIGH), among runs waiting for the same slot or limit. Absent: LOW. */
  priority?: number;
  /** The idempotency key the run was started with (its run id is derived from it, see sdk/core/flow/). */
  idempotencyKey?: string;
  /** Flow-control state of the run (sdk/core/flow/gate.ts). */
  flow?: RunFlowState;
  /** Epoch seconds after which the item may be deleted (DynamoDB TTL); reads ignore expired items. */
  ttl?: number;
  /**
   * Journal entries kept on the run item instead of an item of their own: a sleep's entry rides on the
   * write that parks (or finishes) the run, and the next journal item the run writes carries it
   * (`recordEntry`'s `carried`). Saves a write per sleep. See sdk/core/journal.ts.
   */
  parkedEntries?: JournalEntry[];
}

/** Where a run stands with its concurrency key and rate limits (kept on the run item). */
export interface RunFlowState {
  /** The concurrency slot key (`<task>#<group key>`), once evaluated. */
  slot?: string;
  /** The run holds a slot of `slot` (set after the slot was taken; a crash before it is repaired by re-taking it, idempotent). */
  admitted?: true;
  /** The run has a queue item under `slot`. */
  queued?: true;
  /** Rate-limit keys whose units this run has taken. */
  taken?: string[];
  /** The rate-limit key whose refill queue holds this run. */
  rateQueued?: string;
  /** Why a QUEUED run is not running yet (shown by `runs.get`). */
  waitingFor?: string;
}

/** `patch`: a `ctx.patched(id)` marker (sdk/core/operations/patched.ts); `stream`: a `ctx.putStream` chunk (operations/stream.ts). */
export type OperationKind = 'step' | 'sleep' | 'wait' | 'child' | 'spawn' | 'now' | 'event' | 'patch' | 'map' | 'parallel' | 'stream';

/**
 * A journal entry: the recorded outcome of one durable call. Written once, first-wins
 * (`attribute_not_exists`), except a step's retry bookkeeping (`status: 'retrying'`), which moves
 * forward only by a conditional update on `stepAttempt`.
 */
export interface JournalEntry {
  attempt: number;
  position: number;
  kind: OperationKind;
  name: string;
  status: 'done' | 'failed' | 'retrying';
  /** JSON text of the result (absent for `undefined`). */
  result?: string;
  error?: SerializedError;
  /** For a step being retried: how many attempts have failed so far, and when the next may run. */
  stepAttempt?: number;
  retryAt?: number;
  /** For sleeps: when it is due (a sleep is resolved by the clock, not by a write). */
  dueAt?: number;
  /** Which condition resolved a wait (readableDataKey) and who resolved it, for the timeline. */
  resolvedBy?: string;
  /** The events that resolved a wait: a later wait of the same run never takes them again. */
  eventIds?: string[];
  createdAt: number;
  /** The run's `generation` (see RunRecord.generation): an entry item belongs to that incarnation's journal. */
  generation?: string;
  /** Epoch seconds after which the entry item may be deleted. */
  ttl?: number;
  /**
   * For `stream` entries: the chunk's place in the run's stream (1, 2, ...). A chunk is an item of its own keyed
   * by it (`RunStore.putStreamChunk`), and `loadRun` returns it among the entries at its position.
   */
  seq?: number;
}

/**
 * A registered condition of a pending wait: the run is parked until one (Or) or all groups (And) of
 * its waiters are satisfied. Event waiters are indexed by event key so the router can find them.
 */
export interface Waiter {
  runId: string;
  attempt: number;
  position: number;
  /** Index of this condition within the wait. */
  index: number;
  /** The durable operation this wait belongs to (kind + name), to write the resolving entry and check determinism. */
  opKind: OperationKind;
  opName: string;
  /** The condition tree of the whole wait, as JSON (same on every waiter of the wait). */
  conditions: string;
  type: 'sleep' | 'event' | 'child' | 'parent';
  readableDataKey: string;
  /** event waiters */
  eventKey?: string;
  expression?: string;
  scope?: string;
  /** sleep waiters */
  dueAt?: number;
  /** child waiters */
  childRunId?: string;
  /** When the wait began (sleeps count from it; lookback reaches back from it). */
  since: number;
  /**
   * Event waiters: the last number of the key's event sequence taken before the wait began (read as it
   * registered). Only events with a greater `seq` were pushed after it: the order is decided by this, never by
   * clocks. Absent on waiters stored before sequences existed (then `since` is compared with the event's time).
   */
  seq?: number;
  /** Event waiters with `lookback`: events pushed at or after this time (`since - lookback`) match too. */
  lookbackFrom?: number;
  /** Set on a leaf of an And-wait once it is satisfied (the router marks it; the replay decides). */
  satisfiedAt?: number;
  /** JSON text of the data that satisfied it (the event payload). */
  data?: string;
  /** The event that satisfied it. */
  eventId?: string;
  createdAt: number;
  ttl?: number;
  /** The run's `generation` when the waiter was registered (see RunRecord.generation). */
  generation?: string;
}

/** Names one waiter (its `generation` picks the run incarnation whose waiter it is). */
export type WaiterRef = Pick<Waiter, 'runId' | 'attempt' | 'position' | 'index'> & Partial<Pick<Waiter, 'generation'>>;

/** The state of one task of a DAG workflow run (kept under the workflow run). */
export interface TaskState {
  workflowRunId: string;
  task: string;
  status: RunStatus;
  /** The task run that executes it, once dispatched. */
  taskRunId?: string;
  output?: string;
  error?: SerializedError;
  /** Which condition let it run / skipped / cancelled it. */
  triggers?: Record<string, unknown>;
  updatedAt: number;
  /** The workflow run's `generation` (see RunRecord.generation). */
  generation?: string;
  /** Epoch seconds after which the item may be deleted. */
  ttl?: number;
}

/** What an item written under a run carries besides its data: the run's incarnation and its TTL (epoch seconds). */
export interface ItemScope {
  generation?: string;
  ttl?: number;
}
