/**
 * Bulk operations over a filter: `runs.bulkCancel(filter)` and `runs.bulkFork(filter, { fromStep })`. Both walk
 * the runs listing once (`runs.iterate`: the listing index, newest first, 100 a page; it stops at the first run
 * older than `since`), never a read per run to find them.
 */
import { TERMINAL_STATUSES, type RunStatus } from '../../ports.ts';
import { DurableError, TaskNotFoundError } from '../errors.ts';
import { RunNotForkableError, StepNotFoundError } from './errors.ts';
import { checkForkOptions, type ForkOptions } from './fork.ts';
import type { RunRef } from '../definitions.ts';

/** Which runs a bulk operation takes: every given field must match. At least one field is required. */
export interface RunFilter {
  /** The task (or workflow) name. */
  name?: string;
  /** One status or several. */
  status?: RunStatus | readonly RunStatus[];
  /** Runs created at or after this time (a Date, an ISO string or epoch milliseconds). */
  since?: Date | string | number;
  /** Runs created before this time. */
  until?: Date | string | number;
}

/** What `runs.bulkFork` did: `count` forks made (their ids in `runIds`), `skipped` runs that matched but could not be forked. */
export interface BulkForkResult {
  count: number;
  runIds: string[];
  /** Matching runs left alone: still in flight, with no step named `fromStep`, not durable task runs, or of a task this client does not define. */
  skipped: number;
}

/** A run as the listing gives it. */
export interface ListedRun {
  runId: string;
  name: string;
  status: RunStatus;
  /** Epoch milliseconds or an ISO string. */
  createdAt: number | string;
}

const STATUSES: readonly RunStatus[] = ['QUEUED', 'RUNNING', 'WAITING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED'];

/** The filter checked, with its times as epoch milliseconds. */
export interface CheckedFilter {
  name?: string;
  statuses?: readonly RunStatus[];
  since?: number;
  until?: number;
}

export function checkFilter(filter: RunFilter | undefined, method: string): CheckedFilter {
  if (!filter || typeof filter !== 'object') throw new DurableError(`${method} needs a filter object ({ name, status, since, until })`);
  const out: CheckedFilter = {};
  if (filter.name !== undefined) {
    if (typeof filter.name !== 'string' || filter.name === '') throw new DurableError(`${method}: name must be a non-empty string, got ${JSON.stringify(filter.name)}`);
    out.name = filter.name;
  }
  if (filter.status !== undefined) {
    const statuses = typeof filter.status === 'string' ? [filter.status] : filter.status;
    if (!Array.isArray(statuses) || statuses.length === 0 || statuses.some((s) => !STATUSES.includes(s))) {
      throw new DurableError(`${method}: status must be one of ${STATUSES.join(', ')} (or a non-empty array of them), got ${JSON.stringify(filter.status)}`);
    }
    out.statuses = statuses;
  }
  for (const key of ['since', 'until'] as const) {
    const value = filter[key];
    if (value === undefined) continue;
    const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : value;
    if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new DurableError(`${method}: ${key} must be a Date, an ISO date string or epoch milliseconds, got ${JSON.stringify(value)}`);
    out[key] = ms;
  }
  if (out.name === undefined && out.statuses === undefined && out.since === undefined && out.until === undefined) {
    throw new DurableError(`${method} needs at least one of name, status, since, until (it would otherwise take every run)`);
  }
  return out;
}

/** Whether a listed run was created before the filter's `since`: the listing is newest first, so no later one matches. */
function beforeRange(run: ListedRun, filter: CheckedFilter): boolean {
  return filter.since !== undefined && (typeof run.createdAt === 'number' ? run.createdAt : Date.parse(run.createdAt)) < filter.since;
}

/** Whether a listed run matches. */
export function matches(run: ListedRun, filter: CheckedFilter): boolean {
  if (filter.name !== undefined && run.name !== filter.name) return false;
  if (filter.statuses && !filter.statuses.includes(run.status)) return false;
  const created = typeof run.createdAt === 'number' ? run.createdAt : Date.parse(run.createdAt);
  if (filter.since !== undefined && created < filter.since) return false;
  if (filter.until !== undefined && created >= filter.until) return false;
  return true;
}

/** Cancels every matching run still in flight; the count of runs cancelled. */
export async function bulkCancel(listing: AsyncIterable<ListedRun>, filter: CheckedFilter, cancel: (runId: string) => Promise<void>): Promise<{ count: number }> {
  let count = 0;
  for await (const run of listing) {
    if (beforeRange(run, filter)) break;
    if (!matches(run, filter) || TERMINAL_STATUSES.includes(run.status)) continue;
    await cancel(run.runId);
    count++;
  }
  return { count };
}

/** Forks every matching finished run from `fromStep`. */
export async function bulkFork(
  listing: AsyncIterable<ListedRun>,
  filter: CheckedFilter,
  options: ForkOptions,
  fork: (runId: string, options: ForkOptions) => Promise<RunRef<unknown>>,
): Promise<BulkForkResult> {
  checkForkOptions(options);
  // A key per call would name one fork per run, but a retried bulk fork would also list the first call's forks.
  if (options.idempotencyKey !== undefined) throw new DurableError('runs.bulkFork takes no idempotencyKey (runs.fork does)');
  // Listed first, forked after: the forks are new runs, and a paged listing must not meet them.
  const targets: string[] = [];
  let skipped = 0;
  for await (const run of listing) {
    if (beforeRange(run, filter)) break;
    if (!matches(run, filter)) continue;
    if (TERMINAL_STATUSES.includes(run.status)) targets.push(run.runId);
    else skipped++;
  }
  const runIds: string[] = [];
  for (const runId of targets) {
    try {
      runIds.push((await fork(runId, options)).runId);
    } catch (error) {
      if (error instanceof StepNotFoundError || error instanceof RunNotForkableError || error instanceof TaskNotFoundError) skipped++;
      else throw error;
    }
  }
  return { count: runIds.length, runIds, skipped };
}
