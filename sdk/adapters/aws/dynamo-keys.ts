/**
 * Key strings of the single-table layout. Numbers in sort keys are zero-padded so that string order is
 * numeric order (a Query on `RUN#<id>` returns the journal sorted by attempt, then position).
 */
import { RUN_KEY_PREFIX, WAITER_KEY_PREFIX } from './env.ts';
import type { WaiterRef } from '../../ports.ts';
import { shardCounts } from './table-schema.ts';

/** Sort key of the run item. */
export const RUN_SK = 'RUN';
/** Sort-key prefixes of the items under a run's partition. */
export const ENTRY_PREFIX = 'OP#';
export const WAITER_PREFIX = 'WAIT#';
export const TASK_PREFIX = 'TASK#';
/** A run output too large to sit next to the input on the run item (see dynamo-output.ts). */
export const OUTPUT_PREFIX = 'OUTPUT#';

/** Zero-pads a non-negative integer to `width` digits. */
export function pad(value: number, width: number): string {
  return String(Math.max(0, Math.trunc(value))).padStart(width, '0');
}

/** Partition key of a run and everything it owns (journal, waiters, DAG task states). */
export function runPk(runId: string): string {
  return `${RUN_KEY_PREFIX}${runId}`;
}

/**
 * `<generation>#`, or nothing for a run created before generations existed. In every sort key of a run's
 * items, so two incarnations of a run id never write the same item (each conditional write stays first-wins
 * within its own incarnation) and a late write of an old one lands where no read of the new one looks.
 */
function gen(generation: string | undefined): string {
  return generation === undefined ? '' : `${generation}#`;
}

export function entrySk(attempt: number, position: number, generation?: string): string {
  return `${ENTRY_PREFIX}${gen(generation)}${pad(attempt, 4)}#${pad(position, 8)}`;
}

export function waiterSk(ref: Omit<WaiterRef, 'runId'>): string {
  return `${WAITER_PREFIX}${gen(ref.generation)}${pad(ref.attempt, 4)}#${pad(ref.position, 8)}#${pad(ref.index, 4)}`;
}

export function outputSk(ref: string): string {
  return `${OUTPUT_PREFIX}${ref}`;
}

export function taskSk(task: string, generation?: string): string {
  return `${TASK_PREFIX}${gen(generation)}${task}`;
}

/** Partition key of the events recorded for `key` (lookback). */
export function eventPk(key: string): string {
  return `EVT#${key}`;
}

/** Partition-key prefix of the items that index event waiters by key (one per event waiter, see `waiterKeyPk`). */
export { WAITER_KEY_PREFIX };

/**
 * Partition of the index items of `eventKey`'s waiters in shard `shard` (the key's waiters are spread over
 * the store's waiter-shard count of partitions, by run). A base-table partition, not a GSI: the router reads it strongly
 * consistently. The shard is the last `#`-separated part, so a key containing `#` cannot collide with another.
 */
export function waiterKeyPk(eventKey: string, shard: number): string {
  return `${WAITER_KEY_PREFIX}${eventKey}#${shard}`;
}

/** Sort key of an event waiter's index item: unique per waiter (`<runId>#<attempt>#<position>#<index>`). */
export function waiterKeySk(w: WaiterRef): string {
  return `${w.runId}#${gen(w.generation)}${pad(w.attempt, 4)}#${pad(w.position, 8)}#${pad(w.index, 4)}`;
}

/** The waiter-key shard of a run's waiters: `count` is the store's (`DURABLE_WAITER_SHARDS`, default 4). */
export function waiterShard(runId: string, count: number = shardCounts().waiter): number {
  return stableHash(runId) % count;
}

/** Sweep index partition of shard `shard` (0 .. sweep shards - 1). */
export function sweepShardPk(shard: number): string {
  return `SWEEP#${shard}`;
}

/** Sweep index partition of a run. */
export function sweepPk(runId: string, count: number = shardCounts().sweep): string {
  return sweepShardPk(stableHash(runId) % count);
}

/** FNV-1a (32 bit): stable across processes and versions, unlike anything keyed on object identity. */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
