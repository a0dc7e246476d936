/**
 * The RunStore on one DynamoDB table (single-table layout, ARCHITECTURE.md). Every write is a single-item
 * conditional request (no transactions); every read filters items whose TTL has passed.
 */
import { randomUUID } from 'node:crypto';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type QueryCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { DurableError } from '../../core/errors.ts';
import type {
  JournalEntry,
  ListRunsQuery,
  RunList,
  WaiterPage,
  LoadedRun,
  RequestCounter,
  RunIntent,
  RunRecord,
  RunStatus,
  RunStore,
  StoredEvent,
  EventPage,
  EventQuery,
  TaskState,
  Waiter,
  WaiterRef,
} from '../../ports.ts';
import { withCursor } from '../../ports.ts';
import { DynamoEvents } from './dynamo-events.ts';
import { DynamoStreams, STREAM_PREFIX } from './dynamo-streams.ts';
import { listRunsPage } from './dynamo-list.ts';
import { ExpressionBuilder, runConditionExpression, runUpdateExpression } from './dynamo-expressions.ts';
import { mergeJournal, type EntryItem } from '../shared/merge-journal.ts';
import {
  entryItem,
  entryOf,
  toStorable,
  expired,
  fromItem,
  runItem,
  taskItem,
  waiterItem,
  waiterKeyItem,
  type Item,
} from './dynamo-items.ts';
import {
  ENTRY_PREFIX,
  OUTPUT_PREFIX,
  RUN_SK,
  TASK_PREFIX,
  WAITER_PREFIX,
  entrySk,
  outputSk,
  runPk,
  sweepPk,
  sweepShardPk,
  waiterKeyPk,
  waiterKeySk,
  waiterShard,
  waiterSk,
} from './dynamo-keys.ts';
import { OUTPUT_REF, mustSpill, spillPatch, type StoredRun } from './dynamo-output.ts';
import { SWEEP_HOLD_MS, acceptableSweepKey, isSweepCandidate, sweepKey, sweepPlanFor, type SweepPlan } from './dynamo-sweep.ts';
import type { RunCondition, RunPatch } from '../shared/run-patch.ts';
import { RunItemWrites, planIntent } from '../shared/run-intents.ts';
import { countRequests } from './request-counter.ts';
import { DynamoFlowStore } from './dynamo-flow.ts';
import { isConditionalFailure, putFirst } from './dynamo-put-first.ts';
import { mapItemTooLarge } from './dynamo-item-size.ts';
import {
  PARTITION_KEY,
  SORT_KEY,
  SWEEP_INDEX,
  SWEEP_INDEX_PARTITION_KEY,
  SWEEP_INDEX_SORT_KEY,
  SWEEP_READ_ATTRIBUTES,
  TTL_ATTRIBUTE,
  eventShardCount,
  shardCounts,
  type ShardCounts,
} from './table-schema.ts';

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

/** Every field of a JournalEntry (`updateRetryingEntry` sets or removes each). */
const ENTRY_FIELDS = ['attempt', 'position', 'kind', 'name', 'status', 'result', 'error', 'stepAttempt', 'retryAt', 'dueAt', 'resolvedBy', 'eventIds', 'createdAt', 'generation', 'ttl', 'seq'] as const satisfies readonly (keyof JournalEntry)[];
// A field added to JournalEntry and not listed above fails to compile here.
const ENTRY_FIELDS_COMPLETE: [Exclude<keyof JournalEntry, (typeof ENTRY_FIELDS)[number]>] extends [never] ? true : never = true;
void ENTRY_FIELDS_COMPLETE;

/** BatchWriteItem takes at most 25 requests. */
const BATCH_SIZE = 25;
/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_SIZE = 100;
const BATCH_ATTEMPTS = 8;

/**
 * RunStore over one DynamoDB table. Request cost: `createRun`, `updateRun`, `putEntry` (won),
 * `getRun`, `loadRun` (up to 1 MB) are one request each; `putEntry` (lost) is one on AWS, two on dynalite
 * (which ignores `ReturnValuesOnConditionCheckFailure`); `putWaiters` one BatchWriteItem per 25 items, in
 * two rounds when event waiters are involved (each has an index item too, written in a safe order);
 * `deleteWaiters` one BatchWriteItem per 25 items (plus one Query per run for references without
 * `type`); `findWaiters` and `sweepCandidates` one Query per shard (4); `listRuns` scans the table. A run
 * output over 64 KiB costs one more write, and one more read outside `loadRun`. Events (dynamo-events.ts):
 * `takeEventSequence` one UpdateItem, `eventSequence` one GetItem, `recordEvent` one PutItem, `findEventsPage` one
 * Query per event shard (plus, with lookback, the keys-only Queries that find the window's start).
 *
 * @example
 * const store = new DynamoRunStore({ client: new DynamoDBClient({}), tableName: process.env.DURABLE_TABLE_NAME! });
 * const loaded = await store.loadRun(runId);
 */
export class DynamoRunStore extends RunItemWrites implements RunStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly now: () => number;
  private readonly holdMs: number;
  private readonly events: DynamoEvents;
  private readonly streams: DynamoStreams;
  /** Flow-control counters on the same table and client (dynamo-flow.ts). */
  readonly flow: DynamoFlowStore;
  private readonly shards: ShardCounts;

  constructor(options: DynamoRunStoreOptions) {
    super();
    this.client = options.client;
    this.tableName = options.tableName;
    this.now = options.now ?? Date.now;
    this.holdMs = options.sweepHoldMs ?? SWEEP_HOLD_MS;
    this.events = new DynamoEvents(this.client, this.tableName, this.now, options.eventShards ?? eventShardCount());
    this.streams = new DynamoStreams(this.client, this.tableName, this.now);
    this.shards = options.shards ?? shardCounts();
    if (options.counter) countRequests(this.client, options.counter);
    mapItemTooLarge(this.client);
    this.flow = new DynamoFlowStore(this.client, this.tableName);
  }

  async createRun(run: RunRecord): Promise<boolean> {
    let stored: StoredRun = run;
    if (mustSpill(run.output)) {
      const ref = await this.writeOutput(run.runId, run.output, run.ttl);
      const { output: _spilled, ...rest } = run;
      stored = { ...rest, [OUTPUT_REF]: ref };
    }
    // An expired run item (TTL deletes late) is replaced: its items stay invisible, the new run has another generation.
    return this.conditionalPut(runItem(stored, this.shards), `attribute_not_exists(#pk) OR #ttl <= :now`, { '#pk': PARTITION_KEY, '#ttl': TTL_ATTRIBUTE }, {
      ':now': { N: String(Math.floor(this.now() / 1000)) },
    });
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: key(runPk(runId), RUN_SK), ConsistentRead: true }),
    );
    return this.liveRun(Item);
  }

  /**
   * From the listing indexes (dynamo-list.ts), never a Scan: one Query per listing shard and a BatchGetItem per
   * 100 runs, per page. A table created before the indexes existed (an old local state directory) is scanned.
   */
  async listRuns(query: ListRunsQuery): Promise<RunList> {
    try {
      const page = await listRunsPage({ client: this.client, tableName: this.tableName, readRuns: (keys) => this.readRuns(keys) }, query);
      return withCursor(page.runs, page.cursor);
    } catch (error) {
      if (!isMissingIndex(error)) throw error;
      return this.scanRuns(query);
    }
  }

  /** Run items by key (eventually consistent BatchGetItem, 100 keys each); missing and expired ones left out. */
  private async readRuns(keys: Item[]): Promise<RunRecord[]> {
    const runs: RunRecord[] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_SIZE) {
      const items = await this.batchGet(keys.slice(i, i + BATCH_GET_SIZE), []);
      for (const run of await Promise.all(items.map((item) => this.liveRun(item)))) if (run) runs.push(run);
    }
    return runs;
  }

  /** The listing of a table without the listing indexes: a Scan (local tables created by an older version). */
  private async scanRuns(query: ListRunsQuery): Promise<RunList> {
    const b = new ExpressionBuilder();
    const filters = [`${b.name(SORT_KEY)} = ${b.value(RUN_SK)}`];
    if (query.status) filters.push(`${b.name('status')} = ${b.value(query.status)}`);
    if (query.name) filters.push(`${b.name('name')} = ${b.value(query.name)}`);
    if (query.taskRuns === false) filters.push(`attribute_not_exists(${b.name('workflowRunId')})`);
    const runs: RunRecord[] = [];
    let start: Item | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({ TableName: this.tableName, FilterExpression: filters.join(' AND '), ...b.params(), ExclusiveStartKey: start }),
      );
      for (const run of await Promise.all((page.Items ?? []).map((item) => this.liveRun(item)))) {
        if (run) runs.push(run);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    runs.sort((a, b) => b.createdAt - a.createdAt || (a.runId < b.runId ? 1 : -1));
    return query.limit === undefined ? runs : runs.slice(0, query.limit);
  }

  /**
   * One conditional UpdateItem (ReturnValues ALL_NEW) that also moves the run in the sweep index as the intent
   * says (dynamo-sweep.ts), which is exact: no second request. An output over 64 KiB is first written to its own item (see dynamo-output.ts),
   * which is deleted again if the condition fails.
   */
  protected async applyIntent(runId: string, intent: RunIntent): Promise<RunRecord | undefined> {
    const { patch, condition } = planIntent(intent);
    const written = await this.writeRun(runId, patch, condition, sweepPlanFor(intent, this.now(), this.holdMs));
    // Exact for every item this version wrote; an item left wrong by something else (an older version's guess, a
    // forged test state) is put right here, at no cost when it is right (the check reads the returned item).
    if (written) await this.repairSweepKey(written.run, written.item);
    return written?.run;
  }

  /**
   * The low-level write every intent is made of (not on the port: tests use it to forge states). It does not know
   * the intent, so it leaves the sweep index alone and then checks the returned item, repairing the key with a
   * second conditional request when it is wrong.
   */
  async updateRun(runId: string, patch: RunPatch, condition?: RunCondition): Promise<RunRecord | undefined> {
    const written = await this.writeRun(runId, patch, condition, { type: 'keep' });
    if (written) await this.repairSweepKey(written.run, written.item);
    return written?.run;
  }

  private async writeRun(runId: string, requested: RunPatch, condition: RunCondition | undefined, sweep: SweepPlan): Promise<{ run: RunRecord; item: Item } | undefined> {
    const { spill, patch } = spillPatch(requested);
    if (spill) await this.writeOutput(runId, spill.output, patch.set?.ttl, spill.ref);
    const b = new ExpressionBuilder();
    const ConditionExpression = runConditionExpression(b, condition, this.now());
    const UpdateExpression = runUpdateExpression(b, patch, sweep, sweepPk(runId, this.shards.sweep));
    let attributes: Item | undefined;
    try {
      ({ Attributes: attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(runPk(runId), RUN_SK),
          UpdateExpression,
          ConditionExpression,
          ...b.params(),
          ReturnValues: 'ALL_NEW',
        }),
      ));
    } catch (error) {
      if (spill) await this.deleteOutput(runId, spill.ref);
      if (isConditionalFailure(error)) return undefined;
      throw error;
    }
    if (!attributes) return undefined;
    return { run: await this.withOutput(fromItem<StoredRun>(attributes), spill && { [spill.ref]: spill.output }), item: attributes };
  }

  async loadRun(runId: string): Promise<LoadedRun | undefined> {
    const now = this.now();
    let stored: StoredRun | undefined;
    const outputs: Record<string, string> = {};
    // Every item under the run's key, of every incarnation: only the run item's is kept below.
    const entries: EntryItem[] = [];
    const waiters: Waiter[] = [];
    const tasks: TaskState[] = [];
    const chunks: EntryItem[] = [];
    for await (const item of this.query({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY },
      ExpressionAttributeValues: { ':pk': { S: runPk(runId) } },
      ConsistentRead: true,
    })) {
      const sk = item[SORT_KEY]?.S ?? '';
      if (sk === RUN_SK) stored = fromItem<StoredRun>(item);
      else if (sk.startsWith(OUTPUT_PREFIX)) outputs[sk.slice(OUTPUT_PREFIX.length)] = item.output?.S ?? '';
      else if (sk.startsWith(ENTRY_PREFIX)) entries.push(entryOf(item));
      else if (sk.startsWith(WAITER_PREFIX)) waiters.push(fromItem<Waiter>(item));
      else if (sk.startsWith(TASK_PREFIX)) tasks.push(fromItem<TaskState>(item));
      else if (sk.startsWith(STREAM_PREFIX)) chunks.push({ entry: fromItem<JournalEntry>(item) });
    }
    if (!stored || expired(stored.ttl, now)) return undefined;
    const generation = stored.generation;
    const live = (item: { generation?: string | undefined; ttl?: number | undefined }) => item.generation === generation && !expired(item.ttl, now);
    const journal = mergeJournal(
      [...chunks, ...entries].filter((e) => live(e.entry)),
      stored.parkedEntries,
    );
    return {
      run: await this.withOutput(stored, outputs),
      entries: journal.entries,
      parked: journal.parked,
      waiters: waiters.filter(live),
      tasks: tasks.filter(live),
    };
  }

  /**
   * PutItem with `attribute_not_exists`. The loser reads the winner back from the failed condition
   * (`ReturnValuesOnConditionCheckFailure`), or with a consistent GetItem where that is not supported.
   */
  async putEntry(runId: string, entry: JournalEntry, carried: readonly JournalEntry[] = []): Promise<{ won: boolean; entry: JournalEntry; carried: JournalEntry[] }> {
    const item = entryItem(runId, entry, carried);
    const existing = await putFirst(this.client, this.tableName, item, `journal entry ${entry.attempt}/${entry.position} of run '${runId}'`);
    return existing ? { won: false, ...entryOf(existing) } : { won: true, ...entryOf(item) };
  }

  /**
   * One conditional UpdateItem that rewrites the entry's fields (and removes the optional ones it lacks),
   * so the item keeps the entries it carries (sdk/core/journal.ts).
   */
  /** One conditional PutItem (dynamo-streams.ts). */
  putStreamChunk(runId: string, entry: JournalEntry): Promise<{ won: boolean; entry: JournalEntry }> {
    return this.streams.put(runId, entry);
  }

  /** One Query from the last chunk seen (dynamo-streams.ts). */
  readStream(runId: string, generation: string | undefined, afterSeq: number, limit: number): Promise<JournalEntry[]> {
    return this.streams.read(runId, generation, afterSeq, limit);
  }

  async updateRetryingEntry(runId: string, entry: JournalEntry, expectedStepAttempt: number): Promise<boolean> {
    const b = new ExpressionBuilder();
    const sets: string[] = [];
    const removes: string[] = [];
    const fields = entry as unknown as Record<string, unknown>;
    for (const field of ENTRY_FIELDS) {
      if (field === 'attempt' || field === 'position' || field === 'generation') continue; // the key
      const value = fields[field];
      if (value === undefined) removes.push(b.name(field));
      else sets.push(`${b.name(field)} = ${b.value(toStorable(field, value))}`);
    }
    const condition = `${b.name('status')} = ${b.value('retrying')} AND ${b.name('stepAttempt')} = ${b.value(expectedStepAttempt)}`;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(runPk(runId), entrySk(entry.attempt, entry.position, entry.generation)),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ...b.params(),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Writes each waiter under its run and, for an event waiter, its index item under the event key (both
   * full copies). Two rounds of BatchWriteItem when event waiters are involved, because order matters if a
   * write fails half-way (throttling, a crash between retries):
   * - a new (unsatisfied) event waiter: index item first. A waiter stored under its run without an index
   *   item would look registered to the replay, which never registers it again, yet the router could never
   *   find it: its event would be lost. The other way round, a retried replay simply registers it again.
   * - a satisfied mark (the router, or an event found by lookback): the run's copy first, since that is the
   *   one the replay decides on; the router skips a leaf whose index copy is already marked, so an index
   *   copy marked alone would lose the mark.
   */
  async putWaiters(waiters: readonly Waiter[]): Promise<void> {
    const unique = new Map<string, Waiter>();
    for (const waiter of waiters) unique.set(`${waiter.runId}|${waiterSk(waiter)}`, waiter);
    const first: WriteRequest[] = [];
    const second: WriteRequest[] = [];
    for (const waiter of unique.values()) {
      const own: WriteRequest = { PutRequest: { Item: waiterItem(waiter) } };
      const indexItem = waiterKeyItem(waiter, this.shards);
      if (!indexItem) {
        first.push(own);
        continue;
      }
      const index: WriteRequest = { PutRequest: { Item: indexItem } };
      if (waiter.satisfiedAt === undefined) {
        first.push(index);
        second.push(own);
      } else {
        first.push(own);
        second.push(index);
      }
    }
    await this.batchWrite(first);
    await this.batchWrite(second);
  }

  /**
   * Deletes each waiter and, for an event waiter, its index item, in one round of BatchWriteItem (25 per
   * request). The index item's key comes from the waiter's `eventKey`; for a bare reference (no `type`) it is
   * read first, with one consistent Query per run on its waiters. A half-done delete leaves either a waiter
   * whose wait is decided (the replay removes it when it passes that position again) or an index item the
   * router finds (its wait is decided, so it only wakes the run; a finished run's is removed).
   */
  async deleteWaiters(waiters: readonly WaiterRef[]): Promise<void> {
    const unique = new Map<string, WaiterRef & Partial<Pick<Waiter, 'type' | 'eventKey'>>>();
    for (const ref of waiters) unique.set(`${ref.runId}|${waiterSk(ref)}`, ref);
    const bare = [...unique.values()].filter((ref) => ref.type === undefined || (ref.type === 'event' && ref.eventKey === undefined));
    const stored = await this.storedEventKeys(new Set(bare.map((ref) => ref.runId)));
    const requests: WriteRequest[] = [];
    for (const [id, ref] of unique) {
      requests.push({ DeleteRequest: { Key: key(runPk(ref.runId), waiterSk(ref)) } });
      const eventKey = ref.type === 'event' && ref.eventKey !== undefined ? ref.eventKey : stored.get(id);
      if (eventKey !== undefined) requests.push({ DeleteRequest: { Key: key(waiterKeyPk(eventKey, waiterShard(ref.runId, this.shards.waiter)), waiterKeySk(ref)) } });
    }
    await this.batchWrite(requests);
  }

  /**
   * Every event waiter of `eventKey`: one strongly consistent Query per shard of its index items, in
   * parallel. Consistent, so a waiter written before the router's read is always found (core/ARCHITECTURE.md,
   * "Why events are never missed"); the index items are full copies, so nothing else is read.
   */
  async findWaiters(eventKey: string): Promise<Waiter[]> {
    const now = this.now();
    const shards = await Promise.all(
      Array.from({ length: this.shards.waiter }, async (_, shard) => {
        const found: Waiter[] = [];
        for await (const item of this.query({
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          ExpressionAttributeValues: { ':pk': { S: waiterKeyPk(eventKey, shard) } },
          ConsistentRead: true,
        })) {
          const waiter = fromItem<Waiter>(item);
          if (waiter.type === 'event' && waiter.eventKey === eventKey && !expired(waiter.ttl, now)) found.push(waiter);
        }
        return found;
      }),
    );
    return shards
      .flat()
      .sort((a, b) => a.createdAt - b.createdAt || compare(a.runId, b.runId) || a.attempt - b.attempt || a.position - b.position || a.index - b.index);
  }

  /**
   * One strongly consistent Query (at most `limit` items) of one shard's index items, from `cursor` (the sort key
   * of the last item of the previous page).
   */
  async findWaitersPage(eventKey: string, page: { shard: number; cursor?: string; limit: number }): Promise<WaiterPage> {
    const now = this.now();
    const pk = waiterKeyPk(eventKey, page.shard);
    const { Items, LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        ExpressionAttributeValues: { ':pk': { S: pk } },
        ConsistentRead: true,
        Limit: Math.max(1, page.limit),
        ...(page.cursor !== undefined ? { ExclusiveStartKey: key(pk, page.cursor) } : {}),
      }),
    );
    const waiters: Waiter[] = [];
    for (const item of Items ?? []) {
      const waiter = fromItem<Waiter>(item);
      if (waiter.type === 'event' && waiter.eventKey === eventKey && !expired(waiter.ttl, now)) waiters.push(waiter);
    }
    const cursor = LastEvaluatedKey?.[SORT_KEY]?.S;
    return { waiters, shards: this.shards.waiter, ...(cursor !== undefined ? { cursor } : {}) };
  }

  async takeEventSequence(key: string): Promise<number> {
    return this.events.take(key);
  }

  async eventSequence(key: string): Promise<number> {
    return this.events.current(key);
  }

  async recordEvent(event: StoredEvent): Promise<void> {
    await this.events.record(event);
  }

  async findEvents(key: string, since: number, afterSeq?: number): Promise<StoredEvent[]> {
    return this.events.find(key, since, afterSeq);
  }

  async findEventsPage(key: string, query: EventQuery): Promise<EventPage> {
    return this.events.page(key, query);
  }

  async putTaskState(state: TaskState, expectedStatus?: RunStatus | readonly RunStatus[]): Promise<boolean> {
    if (expectedStatus === undefined) {
      return this.conditionalPut(taskItem(state), 'attribute_not_exists(#pk)', { '#pk': PARTITION_KEY });
    }
    const allowed = typeof expectedStatus === 'string' ? [expectedStatus] : expectedStatus;
    if (allowed.length === 0) return false;
    const b = new ExpressionBuilder();
    const condition = `${b.name('status')} IN (${allowed.map((s) => b.value(s)).join(', ')})`;
    return this.conditionalPut(taskItem(state), condition, b.names, b.values);
  }

  /**
   * Queries the sweep index (`gsi2sk <= now`, keys only) of each shard in parallel, reads those runs with
   * eventually consistent BatchGetItems (100 keys each) and keeps the ones the memory store's predicate
   * accepts, most overdue first. The index is eventually consistent: a run that just became due may show up
   * one sweep later. Running runs (a lease leaves their key in the past) and runs holding an early key
   * before a short timer (dynamo-sweep.ts) are read too, and filtered out until they are due.
   *
   * The records carry `SWEEP_READ_ATTRIBUTES` only: `runId`, `name`, `status`, `createdAt`, `updatedAt`,
   * `attempt`, `wake`, `seen`, `leaseUntil`, `wakeAt`, `ttl` — everything the sweeper and `recover()` read.
   * Read the run (`getRun`) for the rest.
   */
  async sweepCandidates(now: number, limit: number): Promise<RunRecord[]> {
    if (limit <= 0) return [];
    const clock = this.now();
    const shards = await Promise.all(
      Array.from({ length: this.shards.sweep }, async (_, shard) => {
        const found: { due: number; run: RunRecord }[] = [];
        let page: { due: number; key: Item }[] = [];
        const flush = async () => {
          const due = new Map(page.map((p) => [p.key[PARTITION_KEY]!.S!, p.due]));
          for (const item of await this.batchGet(page.map((p) => p.key), [PARTITION_KEY, ...SWEEP_READ_ATTRIBUTES])) {
            const { [PARTITION_KEY]: pk, ...attributes } = item;
            const run = fromItem<RunRecord>(attributes);
            if (!expired(run.ttl, clock) && isSweepCandidate(run, now)) found.push({ due: due.get(pk!.S!) ?? 0, run });
          }
          page = [];
        };
        for await (const entry of this.query({
          IndexName: SWEEP_INDEX,
          KeyConditionExpression: '#pk = :pk AND #sk <= :now',
          ExpressionAttributeNames: { '#pk': SWEEP_INDEX_PARTITION_KEY, '#sk': SWEEP_INDEX_SORT_KEY },
          ExpressionAttributeValues: { ':pk': { S: sweepShardPk(shard) }, ':now': { N: String(now) } },
        })) {
          page.push({ due: Number(entry[SWEEP_INDEX_SORT_KEY]?.N ?? 0), key: key(entry[PARTITION_KEY]!.S!, entry[SORT_KEY]!.S!) });
          if (page.length >= BATCH_GET_SIZE) await flush();
          if (found.length >= limit) break;
        }
        if (page.length && found.length < limit) await flush();
        return found;
      }),
    );
    return shards
      .flat()
      .sort((a, b) => a.due - b.due || compare(a.run.runId, b.run.runId))
      .slice(0, limit)
      .map((c) => c.run);
  }

  /** The items of `keys` (eventually consistent, `attributes` only), re-asking for unprocessed keys. */
  private async batchGet(keys: Item[], attributes: readonly string[]): Promise<Item[]> {
    const names = Object.fromEntries(attributes.map((a, i) => [`#p${i}`, a]));
    const items: Item[] = [];
    let pending = keys;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= BATCH_ATTEMPTS) throw new DurableError(`DynamoDB left ${pending.length} sweep reads unprocessed after ${BATCH_ATTEMPTS} attempts (throttled); the next sweep retries`);
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** attempt)));
      const { Responses, UnprocessedKeys } = await this.client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [this.tableName]: attributes.length
              ? { Keys: pending, ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names }
              : { Keys: pending },
          },
        }),
      );
      items.push(...(Responses?.[this.tableName] ?? []));
      pending = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return items;
  }

  /**
   * Makes the sweep index agree with `run` after a low-level `updateRun`. Conditional on the
   * fields the key depends on being unchanged: if they moved, a later update has recomputed the key itself.
   * A RUNNING run is right with any key up to the end of its lease, or up to now (every later sweep reads it
   * and skips it while the lease holds): a lease leaves the key where it was (dynamo-sweep.ts).
   */
  private async repairSweepKey(run: RunRecord, item: Item): Promise<void> {
    const wanted = sweepKey(run);
    const actual = item[SWEEP_INDEX_PARTITION_KEY] ? Number(item[SWEEP_INDEX_SORT_KEY]?.N ?? Number.NaN) : undefined;
    if (acceptableSweepKey(run, actual, this.now(), this.holdMs)) return;
    const b = new ExpressionBuilder();
    const same = (field: 'leaseUntil' | 'wakeAt') =>
      run[field] === undefined ? `attribute_not_exists(${b.name(field)})` : `${b.name(field)} = ${b.value(run[field])}`;
    const condition = [
      `${b.name('status')} = ${b.value(run.status)}`,
      `${b.name('wake')} = ${b.value(run.wake)}`,
      `${b.name('seen')} = ${b.value(run.seen)}`,
      same('leaseUntil'),
      same('wakeAt'),
    ].join(' AND ');
    const update =
      wanted === undefined
        ? `REMOVE ${b.name(SWEEP_INDEX_PARTITION_KEY)}, ${b.name(SWEEP_INDEX_SORT_KEY)}`
        : `SET ${b.name(SWEEP_INDEX_PARTITION_KEY)} = ${b.value(sweepPk(run.runId, this.shards.sweep))}, ${b.name(SWEEP_INDEX_SORT_KEY)} = ${b.value(wanted)}`;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(runPk(run.runId), RUN_SK),
          UpdateExpression: update,
          ConditionExpression: condition,
          ...b.params(),
        }),
      );
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
    }
  }

  /** The event key of every stored event waiter of `runIds`, by `<runId>|<waiter sk>` (one Query per run). */
  private async storedEventKeys(runIds: ReadonlySet<string>): Promise<Map<string, string>> {
    const keys = new Map<string, string>();
    for (const runId of runIds) {
      for await (const item of this.query({
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :waiters)',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY, '#type': 'type', '#eventKey': 'eventKey' },
        ExpressionAttributeValues: { ':pk': { S: runPk(runId) }, ':waiters': { S: WAITER_PREFIX } },
        ProjectionExpression: '#sk, #type, #eventKey',
        ConsistentRead: true,
      })) {
        const eventKey = item.eventKey?.S;
        if (item.type?.S === 'event' && eventKey !== undefined) keys.set(`${runId}|${item[SORT_KEY]?.S}`, eventKey);
      }
    }
    return keys;
  }

  /** The run of a run item, unless it expired; a spilled output is read back. */
  private async liveRun(item: Item | undefined): Promise<RunRecord | undefined> {
    if (!item) return undefined;
    const stored = fromItem<StoredRun>(item);
    return expired(stored.ttl, this.now()) ? undefined : this.withOutput(stored);
  }

  /** Puts a spilled output back on the run (from `known` when the caller has it, else one GetItem). */
  private async withOutput(stored: StoredRun, known?: Record<string, string>): Promise<RunRecord> {
    const { [OUTPUT_REF]: ref, ...run } = stored;
    if (ref === undefined) return run;
    let output = known?.[ref];
    if (output === undefined) {
      const { Item } = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: key(runPk(run.runId), outputSk(ref)), ConsistentRead: true }),
      );
      output = Item?.output?.S;
    }
    if (output === undefined) throw new DurableError(`internal: the output of run '${run.runId}' (item ${outputSk(ref)}) is missing`);
    return { ...run, output };
  }

  private async deleteOutput(runId: string, ref: string): Promise<void> {
    await this.client
      .send(new DeleteItemCommand({ TableName: this.tableName, Key: key(runPk(runId), outputSk(ref)) }))
      .catch(() => undefined); // an orphan only costs storage: loadRun ignores it and TTL (when set) removes it
  }

  /** Writes a large output to its own item (a fresh ref each time, so nothing is overwritten); returns the ref. */
  private async writeOutput(runId: string, output: string, ttl: number | undefined, ref: string = randomUUID()): Promise<string> {
    const item: Item = { [PARTITION_KEY]: { S: runPk(runId) }, [SORT_KEY]: { S: outputSk(ref) }, output: { S: output } };
    if (ttl !== undefined) item[TTL_ATTRIBUTE] = { N: String(ttl) };
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
    return ref;
  }

  private async conditionalPut(
    item: Item,
    condition: string,
    names: Record<string, string>,
    values?: Record<string, Item[string]>,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ...(values && Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  /** Every item of a Query, following `LastEvaluatedKey` (each page is at most 1 MB). */
  private async *query(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): AsyncGenerator<Item> {
    let start: Item | undefined;
    do {
      const page = await this.client.send(new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: start }));
      yield* page.Items ?? [];
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /** BatchWriteItem in chunks of 25, re-sending unprocessed requests with a short backoff. */
  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    for (let i = 0; i < requests.length; i += BATCH_SIZE) {
      let pending = requests.slice(i, i + BATCH_SIZE);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= BATCH_ATTEMPTS) {
          throw new DurableError(`DynamoDB left ${pending.length} waiter writes unprocessed after ${BATCH_ATTEMPTS} attempts (throttled); retry later`);
        }
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** attempt)));
        const { UnprocessedItems } = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = UnprocessedItems?.[this.tableName] ?? [];
      }
    }
  }
}

function key(pk: string, sk: string): Item {
  return { [PARTITION_KEY]: { S: pk }, [SORT_KEY]: { S: sk } };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The conditional-write failure, whichever copy of the SDK threw it. */
/** DynamoDB's answer to a Query on an index the table does not have. */
function isMissingIndex(error: unknown): boolean {
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  return name === 'ValidationException' && typeof message === 'string' && /specified index|index/i.test(message) && !/cursor/.test(message);
}


