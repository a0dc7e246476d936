/**
 * Conversions between port records and DynamoDB items. Payload fields (`input`, `output`, `result`,
 * `payload`, `data`) are JSON text already and are stored as S attributes, never re-parsed; nested objects
 * (`error`, `parent`, `metadata`, `triggers`) are stored as maps. `undefined` fields are omitted.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { DurableError } from '../../core/errors.ts';
import type { JournalEntry, RunRecord, TaskState, Waiter } from '../../ports.ts';
import {
  RUN_SK,
  entrySk,
  runPk,
  sweepPk,
  taskSk,
  waiterKeyPk,
  waiterKeySk,
  waiterShard,
  waiterSk,
} from './dynamo-keys.ts';
import { listKeys } from './dynamo-list.ts';
import { sweepKey } from './dynamo-sweep.ts';
import {
  LIST_BY_NAME_INDEX_PARTITION_KEY,
  LIST_INDEX_PARTITION_KEY,
  LIST_INDEX_SORT_KEY,
  PARTITION_KEY,
  SORT_KEY,
  SWEEP_INDEX_PARTITION_KEY,
  SWEEP_INDEX_SORT_KEY,
  shardCounts,
  type ShardCounts,
} from './table-schema.ts';

export type Item = Record<string, AttributeValue>;

/** Attribute of an entry item holding the entries it carries. */
const CARRIED = 'carried';

const INTERNAL = new Set([
  PARTITION_KEY,
  SORT_KEY,
  SWEEP_INDEX_PARTITION_KEY,
  SWEEP_INDEX_SORT_KEY,
  LIST_INDEX_PARTITION_KEY,
  LIST_BY_NAME_INDEX_PARTITION_KEY,
  LIST_INDEX_SORT_KEY,
]);

/**
 * Nested objects go through JSON first: what the rest of the system would do to them anyway (dates become
 * strings, non-finite numbers become null), and what `marshall` would otherwise reject.
 */
export function toStorable(field: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch (cause) {
    throw new DurableError(`cannot store field '${field}': it is not representable as JSON (${(cause as Error).message})`, { cause });
  }
}

/** Marshalls a record's own fields plus `keys` into an item. */
export function toItem(record: object, keys: Record<string, string | number>): Item {
  const plain: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(record)) {
    if (value !== undefined) plain[field] = toStorable(field, value);
  }
  return marshall({ ...plain, ...keys }, { removeUndefinedValues: true });
}

/** Unmarshalls an item and drops the key attributes. */
export function fromItem<T>(item: Item): T {
  const record = unmarshall(item);
  for (const key of INTERNAL) delete record[key];
  return record as T;
}

/** The run item, in both listing indexes, and indexed for the sweeper while non-terminal. */
export function runItem(run: RunRecord, shards: ShardCounts = shardCounts()): Item {
  const keys: Record<string, string | number> = { [PARTITION_KEY]: runPk(run.runId), [SORT_KEY]: RUN_SK, ...listKeys(run) };
  const due = sweepKey(run);
  if (due !== undefined) {
    keys[SWEEP_INDEX_PARTITION_KEY] = sweepPk(run.runId, shards.sweep);
    keys[SWEEP_INDEX_SORT_KEY] = due;
  }
  return toItem(run, keys);
}

/**
 * An entry item: the entry, and (`carried`) earlier entries it holds for the run item (sdk/core/journal.ts).
 * Keyed under the entry's `generation` (its run incarnation); its `ttl` is the item's.
 */
export function entryItem(runId: string, entry: JournalEntry, carried: readonly JournalEntry[] = []): Item {
  return toItem(carried.length ? { ...entry, [CARRIED]: carried } : entry, {
    [PARTITION_KEY]: runPk(runId),
    [SORT_KEY]: entrySk(entry.attempt, entry.position, entry.generation),
  });
}

/** The entry of an entry item and the entries it carries. */
export function entryOf(item: Item): { entry: JournalEntry; carried: JournalEntry[] } {
  const { [CARRIED]: carried, ...entry } = fromItem<JournalEntry & { [CARRIED]?: JournalEntry[] }>(item);
  return { entry, carried: carried ?? [] };
}

/** A waiter item, under its run (what `loadRun` reads). */
export function waiterItem(waiter: Waiter): Item {
  return toItem(waiter, { [PARTITION_KEY]: runPk(waiter.runId), [SORT_KEY]: waiterSk(waiter) });
}

/**
 * The index item of an event waiter: a second, full copy under `WAITKEY#<eventKey>#<shard>` (what
 * `findWaiters` reads, strongly consistently and without a second read). `undefined` for other waiters:
 * the router looks for nothing else.
 */
export function waiterKeyItem(waiter: Waiter, shards: ShardCounts = shardCounts()): Item | undefined {
  if (waiter.type !== 'event' || waiter.eventKey === undefined) return undefined;
  return toItem(waiter, { [PARTITION_KEY]: waiterKeyPk(waiter.eventKey, waiterShard(waiter.runId, shards.waiter)), [SORT_KEY]: waiterKeySk(waiter) });
}

export function taskItem(state: TaskState): Item {
  return toItem(state, { [PARTITION_KEY]: runPk(state.workflowRunId), [SORT_KEY]: taskSk(state.task, state.generation) });
}

/** True once an item's TTL (epoch seconds) has passed: DynamoDB deletes late, dynalite never. */
export function expired(ttl: number | undefined, now: number): boolean {
  return ttl !== undefined && ttl * 1000 <= now;
}
