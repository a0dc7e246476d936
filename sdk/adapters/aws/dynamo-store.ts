/**
 * The RunStore on one DynamoDB table (single-table layout, ARCHITECTURE.md). Every write is a single-item
 * conditional request (no transactions); every read filters items whose TTL has passed. One module per item
 * family: run items (dynamo-runs.ts), journals and DAG task states (dynamo-journal.ts), waiters
 * (dynamo-waiters.ts), recorded events and their sequences (dynamo-events.ts), stream chunks (dynamo-streams.ts),
 * the sweep index (dynamo-sweep.ts), flow-control counters (dynamo-flow.ts), over the table's shared request
 * helpers (dynamo-table.ts). This class composes them into the port.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type {
  EventPage,
  EventQuery,
  JournalEntry,
  ListRunsQuery,
  LoadedRun,
  RequestCounter,
  RunIntent,
  RunList,
  RunRecord,
  RunStatus,
  RunStore,
  StoredEvent,
  TaskState,
  Waiter,
  WaiterPage,
  WaiterRef,
} from '../../ports.ts';
import type { RunCondition, RunPatch } from '../shared/run-patch.ts';
import { RunItemWrites } from '../shared/run-intents.ts';
import { DynamoEvents } from './dynamo-events.ts';
import { DynamoFlowStore } from './dynamo-flow.ts';
import { mapItemTooLarge } from './dynamo-item-size.ts';
import { DynamoJournal } from './dynamo-journal.ts';
import { DynamoRuns } from './dynamo-runs.ts';
import { DynamoStreams } from './dynamo-streams.ts';
import { SWEEP_HOLD_MS, readSweepCandidates } from './dynamo-sweep.ts';
import { DynamoTable } from './dynamo-table.ts';
import { DynamoWaiters } from './dynamo-waiters.ts';
import { countRequests } from './request-counter.ts';
import { eventShardCount, shardCounts, type ShardCounts } from './table-schema.ts';

/** Options of {@link DynamoRunStore}. */
export interface DynamoRunStoreOptions {
  /** The DynamoDB client (region, endpoint and credentials are the caller's business). */
  client: DynamoDBClient;
  tableName: string;
  /** Time source for TTL filtering. @default Date.now */
  now?: () => number;
  /** When given, the client is instrumented so every request is counted (see `countRequests`). */
  counter?: RequestCounter;
  /**
   * A run parked on a timer due within this many ms keeps its (earlier) sweep-index key instead of moving
   * it: see dynamo-sweep.ts. 0 moves the key on every park. @default SWEEP_HOLD_MS (5 minutes)
   */
  sweepHoldMs?: number;
  /**
   * Partitions of the event-waiter keys and of the sweep index. @default from `DURABLE_WAITER_SHARDS` and
   * `DURABLE_SWEEP_SHARDS` (the construct's `waiterShards` / `sweepShards`), else 4 and 4. Raise, never lower.
   */
  shards?: ShardCounts;
  /**
   * Partitions of each key's recorded events. @default from `DURABLE_EVENT_SHARDS` (the construct's
   * `eventShards`), else 1. Raise, never lower.
   */
  eventShards?: number;
}

/**
 * RunStore over one DynamoDB table. Request cost: `createRun`, every run-item intent (`lease`, `suspend`, `wake`,
 * `finish`, ...), `recordEntry` (won), `getRun`, `loadRun` (up to 1 MB) are one request each; `recordEntry` (lost) is one
 * on AWS, two on dynalite (which ignores `ReturnValuesOnConditionCheckFailure`); `registerWaiters` one BatchWriteItem
 * per 25 items, in two rounds when event waiters are involved (each has an index item too, written in a safe
 * order); `deleteWaiters` one BatchWriteItem per 25 items (plus one Query per run for references without `type`);
 * `findWaiters` and `sweepCandidates` one Query per shard (4); `listRuns` one Query per listing shard and a
 * BatchGetItem per 100 runs. A run output over 64 KiB costs one more write, and one more read outside `loadRun`.
 * Events (dynamo-events.ts): `takeEventSequence` one UpdateItem, `eventSequence` one GetItem, `recordEvent` one
 * PutItem, `findEventsPage` one Query per event shard (plus, with lookback, the keys-only Queries that find the
 * window's start).
 *
 * @example
 * const store = new DynamoRunStore({ client: new DynamoDBClient({}), tableName: process.env.DURABLE_TABLE_NAME! });
 * const loaded = await store.loadRun(runId);
 */
export class DynamoRunStore extends RunItemWrites implements RunStore {
  private readonly table: DynamoTable;
  private readonly runs: DynamoRuns;
  private readonly journal: DynamoJournal;
  private readonly waiters: DynamoWaiters;
  private readonly events: DynamoEvents;
  private readonly streams: DynamoStreams;
  /** Flow-control counters on the same table and client (dynamo-flow.ts). */
  readonly flow: DynamoFlowStore;

  constructor(options: DynamoRunStoreOptions) {
    super();
    const client: DynamoDBClient = options.client;
    const now = options.now ?? Date.now;
    if (options.counter) countRequests(client, options.counter);
    mapItemTooLarge(client);
    this.table = new DynamoTable(client, options.tableName, now, options.shards ?? shardCounts());
    this.runs = new DynamoRuns(this.table, options.sweepHoldMs ?? SWEEP_HOLD_MS);
    this.journal = new DynamoJournal(this.table, this.runs);
    this.waiters = new DynamoWaiters(this.table);
    this.events = new DynamoEvents(client, options.tableName, now, options.eventShards ?? eventShardCount());
    this.streams = new DynamoStreams(client, options.tableName, now);
    this.flow = new DynamoFlowStore(client, options.tableName);
  }

  /** @internal The DynamoDB client every family uses (bench/cost/capacity-meter.ts meters its capacity). */
  get client(): DynamoDBClient {
    return this.table.client;
  }

  createRun(run: RunRecord): Promise<boolean> {
    return this.runs.createRun(run);
  }

  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.runs.getRun(runId);
  }

  listRuns(query: ListRunsQuery): Promise<RunList> {
    return this.runs.listRuns(query);
  }

  protected applyIntent(runId: string, intent: RunIntent): Promise<RunRecord | undefined> {
    return this.runs.write(runId, intent);
  }

  /** The low-level write every intent is made of (not on the port: tests use it to forge states; see DynamoRuns). */
  updateRun(runId: string, patch: RunPatch, condition?: RunCondition): Promise<RunRecord | undefined> {
    return this.runs.updateRun(runId, patch, condition);
  }

  loadRun(runId: string): Promise<LoadedRun | undefined> {
    return this.journal.loadRun(runId);
  }

  recordEntry(runId: string, entry: JournalEntry, carried: readonly JournalEntry[] = []): Promise<{ won: boolean; entry: JournalEntry; carried: JournalEntry[] }> {
    return this.journal.recordEntry(runId, entry, carried);
  }

  updateRetryingEntry(runId: string, entry: JournalEntry, expectedStepAttempt: number): Promise<boolean> {
    return this.journal.updateRetryingEntry(runId, entry, expectedStepAttempt);
  }

  putTaskState(state: TaskState, expectedStatus?: RunStatus | readonly RunStatus[]): Promise<boolean> {
    return this.journal.putTaskState(state, expectedStatus);
  }

  /** One conditional PutItem (dynamo-streams.ts). */
  putStreamChunk(runId: string, entry: JournalEntry): Promise<{ won: boolean; entry: JournalEntry }> {
    return this.streams.put(runId, entry);
  }

  /** One Query from the last chunk seen (dynamo-streams.ts). */
  readStream(runId: string, generation: string | undefined, afterSeq: number, limit: number): Promise<JournalEntry[]> {
    return this.streams.read(runId, generation, afterSeq, limit);
  }

  registerWaiters(waiters: readonly Waiter[]): Promise<void> {
    return this.waiters.registerWaiters(waiters);
  }

  deleteWaiters(waiters: readonly WaiterRef[]): Promise<void> {
    return this.waiters.deleteWaiters(waiters);
  }

  findWaiters(eventKey: string): Promise<Waiter[]> {
    return this.waiters.findWaiters(eventKey);
  }

  findWaitersPage(eventKey: string, page: { shard: number; cursor?: string; limit: number }): Promise<WaiterPage> {
    return this.waiters.findWaitersPage(eventKey, page);
  }

  takeEventSequence(key: string): Promise<number> {
    return this.events.take(key);
  }

  eventSequence(key: string): Promise<number> {
    return this.events.current(key);
  }

  async recordEvent(event: StoredEvent): Promise<void> {
    await this.events.record(event);
  }

  findEvents(key: string, since: number, afterSeq?: number): Promise<StoredEvent[]> {
    return this.events.find(key, since, afterSeq);
  }

  findEventsPage(key: string, query: EventQuery): Promise<EventPage> {
    return this.events.page(key, query);
  }

  sweepCandidates(now: number, limit: number): Promise<RunRecord[]> {
    return readSweepCandidates(this.table, now, limit);
  }
}
