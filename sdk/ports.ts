/**
 * The interfaces the core engine needs from the outside world. The core (sdk/core) only talks to these;
 * adapters (sdk/adapters/memory, sdk/adapters/aws) implement them. Every method is a single-item operation
 * or a single paginated read: no transactions, so DynamoDB (and dynalite) can implement each one with one
 * conditional request.
 */

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
   * (`putEntry`'s `carried`). Saves a write per sleep. See sdk/core/journal.ts.
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

/** One clause of a condition on the run item: every field given must hold. */
export interface RunClause {
  status?: readonly RunStatus[];
  leaseOwner?: string;
  /** `leaseUntil < leaseExpiredBefore` (or no lease at all). */
  leaseExpiredBefore?: number;
  wake?: number;
  /** `wake <> seen`: a resolution arrived since the last replay started. */
  wakePending?: true;
  /** `wakeAt <= wakeDueBy`. */
  wakeDueBy?: number;
  attempt?: number;
  notCancelRequested?: true;
}

/** A condition on the run item: one clause, or several meaning Or. */
export type RunCondition = RunClause | readonly RunClause[];

/** The clauses of a condition (Or'ed): one clause, or the list as given. */
export function clausesOf(condition: RunCondition): readonly RunClause[] {
  return Array.isArray(condition) ? condition : [condition as RunClause];
}

/** A change to the run item. `set` overwrites fields, `remove` deletes them, `incrementWake` adds 1 to `wake`. */
export interface RunPatch {
  set?: Partial<Omit<RunRecord, 'runId' | 'wake'>>;
  remove?: readonly (keyof RunRecord)[];
  incrementWake?: true;
  /** `seen = wake` (after `incrementWake`, when both are given): the replay about to start consumes every resolution so far. */
  markSeen?: true;
  /** Adds to `runningMs`. */
  addRunningMs?: number;
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

/** Everything the engine needs to replay a run: read with one paginated query. */
export interface LoadedRun {
  run: RunRecord;
  /**
   * The journal: every entry item, the entries they carry and the run item's `parkedEntries`, one per
   * (attempt, position), an entry item's own first (see `mergeJournal`, sdk/core/journal.ts).
   */
  entries: JournalEntry[];
  /** Of `entries`, those only the run item holds (`parkedEntries` no entry item carries yet). */
  parked: JournalEntry[];
  waiters: Waiter[];
  tasks: TaskState[];
}

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

export interface ListRunsQuery {
  status?: RunStatus;
  name?: string;
  limit?: number;
  /** `false`: leave out the runs of DAG tasks (runs with a `workflowRunId`). */
  taskRuns?: boolean;
  /** Continue after the page that returned this cursor (`RunList.cursor`). */
  cursor?: string;
}

/** Runs, newest first; `cursor` (a non-enumerable property) is set when more may follow a page of `limit` runs. */
export type RunList = RunRecord[] & { cursor?: string };

/** `runs` with `cursor` attached as a non-enumerable property (JSON and deep equality see a plain array). */
export function withCursor<T>(runs: T[], cursor: string | undefined): T[] & { cursor?: string } {
  if (cursor !== undefined) Object.defineProperty(runs, 'cursor', { value: cursor, enumerable: false, writable: true, configurable: true });
  return runs;
}

/** Where runs, journals, waiters and recorded events live. */
export interface RunStore {
  /**
   * Creates the run item if absent or expired. `false` when a live run with that id exists (idempotent starts).
   * The items of an earlier run with that id are not read again: the new run has another `generation`.
   */
  createRun(run: RunRecord): Promise<boolean>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /**
   * Newest first, from an index (never a Scan on DynamoDB). With `limit`, one page: `cursor` on the result when
   * more may follow, to pass back as `query.cursor`. Without `limit`, every run.
   */
  listRuns(query: ListRunsQuery): Promise<RunList>;
  /** Applies `patch` iff `condition` holds; the updated run, or `undefined` when the condition failed or the run is absent. */
  updateRun(runId: string, patch: RunPatch, condition?: RunCondition): Promise<RunRecord | undefined>;
  /** The run with its journal, waiters and DAG task states (one paginated Query on AWS). */
  loadRun(runId: string): Promise<LoadedRun | undefined>;
  /**
   * Writes `entry` iff its position is empty. Returns the entry that holds the position afterwards (first
   * wins), with the entries its item carries. `carried`: earlier entries of the run kept on the run item
   * (`parkedEntries`), stored in the same item so the run item may let go of them.
   */
  putEntry(runId: string, entry: JournalEntry, carried?: readonly JournalEntry[]): Promise<{ won: boolean; entry: JournalEntry; carried: JournalEntry[] }>;
  /** Moves a retrying step forward: replaces the entry iff it is still `retrying` at `expectedStepAttempt`. */
  updateRetryingEntry(runId: string, entry: JournalEntry, expectedStepAttempt: number): Promise<boolean>;
  /** Idempotent (same runId/attempt/position/index overwrites). */
  putWaiters(waiters: readonly Waiter[]): Promise<void>;
  deleteWaiters(waiters: readonly WaiterRef[]): Promise<void>;
  /** Every event waiter registered for `eventKey` (all shards). */
  findWaiters(eventKey: string): Promise<Waiter[]>;
  /**
   * One page (at most `limit`) of the event waiters of `eventKey` in shard `shard` (0 .. `shards` - 1), after
   * `cursor` (the `cursor` of the previous page of that shard); `cursor` on the result when the shard may hold
   * more. Strongly consistent, like `findWaiters`. The router's bounded-memory read.
   */
  findWaitersPage(eventKey: string, page: { shard: number; cursor?: string; limit: number }): Promise<WaiterPage>;
  /**
   * Takes the next number of `key`'s event sequence (one atomic increment): an event's place in push order.
   * Numbers only grow, with gaps; the first is greater than 0.
   */
  takeEventSequence(key: string): Promise<number>;
  /** The last number taken for `key`, read consistently (0 when none was): a registering wait reads it first. */
  eventSequence(key: string): Promise<number>;
  /** Idempotent per (key, seq, eventId): a redelivered event overwrites its record. */
  recordEvent(event: StoredEvent): Promise<void>;
  /**
   * Events with `key` pushed at or after `since` (by their time: lookback), and, when `afterSeq` is given, every
   * event with `seq > afterSeq` whatever its time; oldest first (by time, then seq).
   */
  findEvents(key: string, since: number, afterSeq?: number): Promise<StoredEvent[]>;
  /**
   * The same events one bounded page at a time, in push order (by `seq`), so a wait reads until its first match
   * and never holds all of a key's events: what the engine uses. A page may be empty with a cursor.
   */
  findEventsPage(key: string, query: EventQuery): Promise<EventPage>;
  /** Writes a DAG task state iff `expectedStatus` matches (undefined: iff absent). */
  putTaskState(state: TaskState, expectedStatus?: RunStatus | readonly RunStatus[]): Promise<boolean>;
  /**
   * Writes a stream chunk (a `kind: 'stream'` entry with `seq`) iff the run's stream has no chunk at `entry.seq`
   * (first wins, like `putEntry`); returns the chunk that holds that place afterwards. `loadRun` returns chunks
   * among the entries (at their positions), so a replay finds the chunk it put.
   */
  putStreamChunk(runId: string, entry: JournalEntry): Promise<{ won: boolean; entry: JournalEntry }>;
  /**
   * The chunks of `runId`'s incarnation `generation` with `seq > afterSeq`, in `seq` order, at most `limit` (one
   * paged read on AWS). Expired chunks are left out.
   */
  readStream(runId: string, generation: string | undefined, afterSeq: number, limit: number): Promise<JournalEntry[]>;
  /** Runs that may need a nudge: QUEUED, RUNNING with a lease expired before `now`, WAITING with `wakeAt <= now`. */
  sweepCandidates(now: number, limit: number): Promise<RunRecord[]>;
}

/** A run waiting for a concurrency slot: queue items sort by priority (high first), then age. */
export interface SlotQueueEntry {
  runId: string;
  priority: number;
  createdAt: number;
}

/** A run waiting for a rate limit's refill: its queue sorts like a slot's (priority, then age). */
export interface RateQueueEntry extends SlotQueueEntry {
  units: number;
}

/** A slot item: the runs holding a slot of one concurrency key. */
export interface SlotState {
  holders: string[];
  /** When holders were last checked for runs that ended without releasing (crash recovery). */
  checkedAt?: number;
}

/** What taking rate-limit units found. */
export type ConsumeResult =
  | { type: 'taken' }
  /** `reserved`: units remained, but no more than runs queued ahead of this one need. */
  | { type: 'spent'; refillAt: number; limit: number; reserved?: boolean }
  | { type: 'too-many'; limit: number }
  | { type: 'missing' };

/**
 * Flow-control counters (sdk/core/flow/). Each method is one single-item conditional write or read (a failed
 * conditional write may be followed by one read), so every count is exact under races without transactions.
 */
export interface FlowStore {
  /** Takes a slot for `runId` iff fewer than `maxRuns` are held. `held`: it already had one (idempotent). */
  acquireSlot(slot: string, runId: string, maxRuns: number): Promise<{ result: 'acquired' | 'held' | 'full'; state: SlotState }>;
  /** The holders of a slot (one consistent read). */
  readSlot(slot: string): Promise<SlotState>;
  /** Frees `runId`'s slot; false when it held none. */
  releaseSlot(slot: string, runId: string): Promise<boolean>;
  /** Hands `from`'s slot to `to` in one conditional write (the count never changes). */
  transferSlot(slot: string, from: string, to: string): Promise<'moved' | 'from-absent' | 'to-present'>;
  /** Records a holder check at `now` iff the last one is still `previous` (one checker at a time). */
  markSlotChecked(slot: string, now: number, previous: number | undefined): Promise<boolean>;
  /** Idempotent. */
  enqueue(slot: string, entry: SlotQueueEntry): Promise<void>;
  /** Removes the queue item; true when this call removed it (a claim: of several releasers, one gets the run). */
  dequeue(slot: string, entry: SlotQueueEntry): Promise<boolean>;
  /** The first `limit` waiting runs: highest priority first, then oldest. */
  queueHead(slot: string, limit: number): Promise<SlotQueueEntry[]>;
  /**
   * Takes `units` from the limit's current window, leaving `reserve` units (those of runs queued ahead) untaken.
   * `dynamic`: the limit and window of a dynamic key (created on first use); a static key must have been upserted
   * (`missing` otherwise).
   */
  consumeUnits(key: string, units: number, now: number, dynamic?: { limit: number; durationMs: number }, reserve?: number): Promise<ConsumeResult>;
  /** Queues a run for the limit's refill (idempotent). */
  enqueueRateWaiter(key: string, entry: RateQueueEntry): Promise<void>;
  dequeueRateWaiter(key: string, entry: SlotQueueEntry): Promise<void>;
  /** The runs queued for `key` ahead of `entry` (higher priority, or as high and older), at most `limit`. */
  rateWaitersAhead(key: string, entry: SlotQueueEntry, limit: number): Promise<RateQueueEntry[]>;
  /** Records the one check of `key`'s waiters for the window ending `windowEnd`; false when already done. */
  markRateChecked(key: string, windowEnd: number): Promise<boolean>;
  /** Creates or changes a static rate limit (a changed limit applies from its next window). */
  upsertRateLimit(key: string, limit: number, durationMs: number): Promise<void>;
}

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
  /** Idempotent per `timerId`. */
  schedule(timerId: string, dueAt: number, message: DispatchMessage): Promise<void>;
  /** Best effort: a timer that fires anyway finds nothing to do. */
  cancel(timerId: string): Promise<void>;
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

/** A cron as stored (sdk/core/cron): created through `durable.crons.create`, or declared with `on: { cron }`. */
export interface CronRecord {
  /** Unique per deployment; declared crons are named `<task>:<expression>`. */
  name: string;
  /** The task or workflow each tick starts. */
  task: string;
  /** Five fields, UTC. */
  expression: string;
  /** JSON text of the input every tick's run gets. */
  input: string;
  /** Declared in code (`on: { cron }`) rather than created through the API: reconciling may delete it. */
  declared?: boolean;
  createdAt: number;
}

/** Where crons are kept (the table on AWS and locally), so every process lists the same crons. */
export interface CronStore {
  /** Creates the cron iff no cron has that name; `false` when one has. */
  createCron(cron: CronRecord): Promise<boolean>;
  /** Creates or replaces (reconciling declared crons). */
  putCron(cron: CronRecord): Promise<void>;
  getCron(name: string): Promise<CronRecord | undefined>;
  listCrons(): Promise<CronRecord[]>;
  /** `false` when there was no such cron. */
  deleteCron(name: string): Promise<boolean>;
}

/**
 * What arranges for a cron's ticks to arrive (EventBridge Scheduler on AWS; without it, the client's in-process
 * scheduler). Each tick arrives as a cron tick message (sdk/core/cron/tick-message.ts) on the dispatch path.
 */
export interface CronSchedules {
  /** Creates or updates the schedule of `cron`. */
  put(cron: CronRecord): Promise<void>;
  /** Deletes it; an unknown name is success. */
  delete(name: string): Promise<void>;
}
