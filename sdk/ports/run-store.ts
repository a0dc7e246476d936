import type { EventPage, EventQuery, StoredEvent, WaiterPage } from './events.ts';
import type { JournalEntry, RunRecord, RunStatus, TaskState, Waiter, WaiterRef } from './records.ts';
import type {
  CancelledIntent,
  FinishIntent,
  FlowIntent,
  HeartbeatIntent,
  LeaseIntent,
  QueueIntent,
  ReleaseLeaseIntent,
  ReplayAgainIntent,
  RetryIntent,
  SuspendIntent,
} from './run-intents.ts';

/** Everything the engine needs to replay a run: read with one paginated query. */
export interface LoadedRun {
  run: RunRecord;
  /**
   * The journal: every entry item, the entries they carry and the run item's `parkedEntries`, one per
   * (attempt, position), an entry item's own first (see `mergeJournal`, sdk/adapters/shared/merge-journal.ts).
   */
  entries: JournalEntry[];
  /** Of `entries`, those only the run item holds (`parkedEntries` no entry item carries yet). */
  parked: JournalEntry[];
  waiters: Waiter[];
  tasks: TaskState[];
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
  /*
   * The writes of the run item, one method per intent (sdk/ports/run-intents.ts says what each means and under which
   * condition it applies). Each returns the run as written, or `undefined` when the condition failed or the run is
   * absent.
   */
  lease(runId: string, intent: LeaseIntent): Promise<RunRecord | undefined>;
  heartbeat(runId: string, intent: HeartbeatIntent): Promise<RunRecord | undefined>;
  releaseLease(runId: string, intent: ReleaseLeaseIntent): Promise<RunRecord | undefined>;
  /** Ends a RUNNING run's lease now, whoever holds it (recovery after a crash of the process that held it). */
  expireLease(runId: string): Promise<RunRecord | undefined>;
  replayAgain(runId: string, intent: ReplayAgainIntent): Promise<RunRecord | undefined>;
  suspend(runId: string, intent: SuspendIntent): Promise<RunRecord | undefined>;
  retry(runId: string, intent: RetryIntent): Promise<RunRecord | undefined>;
  finish(runId: string, intent: FinishIntent): Promise<RunRecord | undefined>;
  finishCancelled(runId: string, intent: CancelledIntent): Promise<RunRecord | undefined>;
  /** A resolution arrived (an event, a child's end): bumps the wake counter of a run that is not terminal. */
  wake(runId: string): Promise<RunRecord | undefined>;
  /** Flags a run that is not terminal as to be cancelled, and wakes it. */
  requestCancel(runId: string): Promise<RunRecord | undefined>;
  setFlow(runId: string, intent: FlowIntent): Promise<RunRecord | undefined>;
  /** Back to QUEUED to wait for flow control (a concurrency slot, a rate limit's refill). */
  queue(runId: string, intent: QueueIntent): Promise<RunRecord | undefined>;
  /** The run with its journal, waiters and DAG task states (one paginated Query on AWS). */
  loadRun(runId: string): Promise<LoadedRun | undefined>;
  /**
   * Writes `entry` iff its position is empty. Returns the entry that holds the position afterwards (first
   * wins), with the entries its item carries. `carried`: earlier entries of the run kept on the run item
   * (`parkedEntries`), stored in the same item so the run item may let go of them.
   */
  recordEntry(runId: string, entry: JournalEntry, carried?: readonly JournalEntry[]): Promise<{ won: boolean; entry: JournalEntry; carried: JournalEntry[] }>;
  /** Moves a retrying step forward: replaces the entry iff it is still `retrying` at `expectedStepAttempt`. */
  updateRetryingEntry(runId: string, entry: JournalEntry, expectedStepAttempt: number): Promise<boolean>;
  /** Idempotent (same runId/attempt/position/index overwrites). */
  registerWaiters(waiters: readonly Waiter[]): Promise<void>;
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
   * (first wins, like `recordEntry`); returns the chunk that holds that place afterwards. `loadRun` returns chunks
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
