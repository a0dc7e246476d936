/**
 * Flow control at start: the run's priority, and its id when started with an idempotency key.
 */
import { createHash } from 'node:crypto';
import type { Backend, FlowStore } from '../../ports.ts';
import { DurableError } from '../errors.ts';
import { checkPriority, type FlowSpec } from './options.ts';

/** Options of `run` / `runNoWait` / `schedule` that flow control reads. */
export interface FlowStartOptions {
  /** 1 (LOW) .. 3 (HIGH). @default the task's `defaultPriority` (LOW) */
  priority?: number;
  /** A second start of the task with this key (within retention) starts nothing and returns the first run's ref. */
  idempotencyKey?: string;
}

/**
 * The run id of a start with an idempotency key: a name-based UUID of (task, key), so the run item's own
 * conditional put (`attribute_not_exists`) decides a race between two starts: one run, no extra item or request.
 */
export function idempotentRunId(target: string, key: string): string {
  return nameBasedUuid(`durable-tasks/idempotency\u0000${target}\u0000${key}`);
}

/** A name-based (version 5 layout, SHA-256) UUID of `name`: the same for every call, on every client. */
export function nameBasedUuid(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

/** `idempotencyKey` checked: a non-empty string of at most 512 characters. @throws {DurableError} */
export function checkIdempotencyKey(key: unknown): string {
  if (typeof key !== 'string' || key === '' || key.length > 512) {
    throw new DurableError(`idempotencyKey must be a non-empty string of at most 512 characters, got ${JSON.stringify(key) ?? String(key)}`);
  }
  return key;
}

/** The flow fields of a new run item. @throws {DurableError} on a bad priority or idempotency key */
export function flowStartFields(target: string, options: FlowStartOptions, spec: FlowSpec | undefined): { priority?: number; idempotencyKey?: string } {
  const fields: { priority?: number; idempotencyKey?: string } = {};
  if (options.priority !== undefined) fields.priority = checkPriority(options.priority, 'priority', `starting '${target}'`);
  else if (spec && spec.defaultPriority !== 1) fields.priority = spec.defaultPriority;
  if (options.idempotencyKey !== undefined) fields.idempotencyKey = checkIdempotencyKey(options.idempotencyKey);
  return fields;
}

/** The backend's flow-control store (its own, or its run store's). */
export function flowStoreOf(backend: Backend): FlowStore {
  const flow = backend.flow ?? (backend.store as { flow?: FlowStore }).flow;
  if (!flow) throw new DurableError('this backend has no flow-control store (Backend.flow): concurrency, rateLimits and rateLimits.upsert need one');
  return flow;
}
