/**
 * `durable.runs.fork(runId, { fromStep })`: a new run of the current code of the same task, with the same input,
 * whose journal starts as the old run's (latest attempt) up to the fork point (plan.ts); the replay answers those
 * operations from it and executes from the fork point on.
 *
 * Crash safety, with single-item writes only: the copied entries are written first, under the new run's id and a
 * fresh generation, and the run item last. The run item is the commit point: until it exists nothing lists, sweeps,
 * leases or dispatches the new run, so a crash (or a failed write) mid-copy leaves only unreferenced entry items
 * (hidden by their generation, removed by their TTL when the client has a retention) and the fork call rejects;
 * calling it again forks afresh under another id. Once the run item exists, the new run is an ordinary QUEUED run:
 * a dispatch lost to a crash is made good by the sweeper, as for `task.runNoWait`, and a dispatch that fails does not
 * fail the call (it returns the new run).
 *
 * With an `idempotencyKey` the new run's id is derived from (old run, key) (`forkRunId`), so a call that failed or
 * crashed after the commit point, made again with the key, returns that fork instead of making a second: the run
 * item's conditional put decides, as for a keyed start. Without one, a caller who never heard back cannot know.
 */
import { randomUUID } from 'node:crypto';
import type { JournalEntry, LoadedRun } from '../../ports.ts';
import { DAG_POSITION_BASE } from '../dag/positions.ts';
import { BRANCH_BASE } from '../operations/fan-out.ts';
import { recordForkedEntry } from '../operations/journal-writer.ts';
import type { RunRef } from '../definitions.ts';
import type { Engine } from '../engine.ts';
import { DurableError, RunNotFoundError } from '../errors.ts';
import { isTerminal } from '../executor.ts';
import { newRunRecord } from '../run-record.ts';
import { scopeOf } from '../run-scope.ts';
import { checkIdempotencyKey, nameBasedUuid } from '../flow/start.ts';
import { TaskDefinition } from '../definitions.ts';
import { RunNotForkableError, StepNotFoundError } from './errors.ts';
import { planFork } from './plan.ts';

export interface ForkOptions {
  /** The name of the step to re-execute from: its first occurrence in the journal is the fork point. */
  fromStep: string;
  /**
   * A second fork of the same run with this key (within retention) forks nothing and returns the first fork's ref,
   * whatever its `fromStep`. Not taken by `runs.bulkFork`.
   */
  idempotencyKey?: string;
}

/** The id of the fork of `sourceRunId` made with `key`. */
export function forkRunId(sourceRunId: string, key: string): string {
  return nameBasedUuid(`durable-tasks/fork\u0000${sourceRunId}\u0000${key}`);
}

/** How many entry items a fork writes at once. */
const COPY_CONCURRENCY = 16;

export async function forkRun(engine: Engine, runId: string, options: ForkOptions): Promise<RunRef<unknown>> {
  const fromStep = checkForkOptions(options);
  const key = options.idempotencyKey === undefined ? undefined : checkIdempotencyKey(options.idempotencyKey);
  if (typeof runId !== 'string' || runId === '') throw new DurableError(`runs.fork needs a run id, got ${JSON.stringify(runId)}`);
  const backend = await engine.backend();
  const forkId = key === undefined ? randomUUID() : forkRunId(runId, key);
  // Made already with this key: one read, before anything of the old run is read or copied.
  if (key !== undefined && (await backend.store.getRun(forkId))) return engine.runRef(forkId);
  const loaded = await backend.store.loadRun(runId);
  if (!loaded) throw new RunNotFoundError(runId);
  const source = loaded.run;
  checkForkable(engine, loaded);
  const plan = planFork(loaded.entries.filter((e) => e.attempt === source.attempt), fromStep);
  if (!plan) throw new StepNotFoundError(runId, fromStep);

  const now = backend.clock.now();
  const metadata = { ...(source.metadata ?? {}), forkedFrom: runId, forkedFromStep: fromStep };
  const run = newRunRecord({ runId: forkId, name: source.name, input: source.input, metadata }, now);
  // Flow control: the fork keeps the source's priority, not its idempotency key (a fork is a new run); a fork's own
  // key is shown as its idempotencyKey.
  if (source.priority !== undefined) run.priority = source.priority;
  if (key !== undefined) run.idempotencyKey = key;
  const scope = scopeOf(run.generation, engine.retentionSeconds(), now);
  const copies = renumberChunks(plan.keep.map((e) => copyEntry(e, scope)));
  for (let i = 0; i < copies.length; i += COPY_CONCURRENCY) {
    await Promise.all(
      copies
        .slice(i, i + COPY_CONCURRENCY)
        .map((entry) => recordForkedEntry(backend.store, run.runId, entry)),
    );
  }
  // The commit point: only now does the run exist (see the header). Not created: a concurrent call with the key
  // committed first (this call's copies are hidden by their generation).
  if (!(await backend.store.createRun(run))) return engine.runRef(forkId);
  // Past the commit point the fork exists: a failed dispatch must not fail the call (a caller told "failed" would
  // fork again, and have two forks). The sweeper dispatches a QUEUED run whose message never came.
  await backend.dispatcher.dispatch({ runId: run.runId }).catch((error: unknown) => {
    console.error(JSON.stringify({ level: 'error', message: 'dispatching a new fork failed; the sweeper will start it', runId: run.runId, error: String((error as Error)?.message ?? error) }));
  });
  return engine.runRef(run.runId);
}

/** `{ fromStep }` checked: a non-empty string. */
export function checkForkOptions(options: ForkOptions | undefined): string {
  const fromStep = options?.fromStep;
  if (typeof fromStep !== 'string' || fromStep === '') {
    throw new DurableError(`runs.fork needs { fromStep: <a step name> }, got ${JSON.stringify(options)}`);
  }
  return fromStep;
}

/**
 * A finished durable task run. The client that forks need not define the task (`durable runs fork --aws` has no
 * code): the worker that runs the fork executes its current code. When it does define it, it must be a task.
 */
function checkForkable(engine: Engine, loaded: LoadedRun): void {
  const { run } = loaded;
  if (!isTerminal(run)) {
    throw new RunNotForkableError(run.runId, `it is ${run.status}; only a finished run (SUCCEEDED, FAILED, CANCELLED) can be forked: cancel it first, or wait for it to end`);
  }
  if (run.status === 'SKIPPED') throw new RunNotForkableError(run.runId, 'it was SKIPPED (it never ran)');
  if (run.workflowRunId) throw new RunNotForkableError(run.runId, `it is a task run of the DAG workflow run '${run.workflowRunId}'; fork works on durable task runs`);
  const definition = engine.registry.get(run.name);
  const dagJournal = loaded.tasks.length > 0 || loaded.entries.some((e) => e.position >= DAG_POSITION_BASE && e.position < BRANCH_BASE);
  if (dagJournal || (definition && !(definition instanceof TaskDefinition))) {
    throw new RunNotForkableError(run.runId, `'${run.name}' is a DAG workflow run; fork works on durable task runs`);
  }
}

/** An entry as the new run records it: attempt 0, the new run's generation and item TTL, the rest as recorded. */
function copyEntry(entry: JournalEntry, scope: { generation?: string; ttl?: number }): JournalEntry {
  const { ttl: _old, generation: _gen, ...rest } = entry;
  return { ...rest, attempt: 0, ...scope };
}

/**
 * The kept stream chunks numbered 1..k in their old order: a fork point inside a fan-out can keep a branch's chunk
 * while dropping an earlier-numbered one, and a stream has no gaps (the fork's next chunk takes k + 1).
 */
function renumberChunks(entries: JournalEntry[]): JournalEntry[] {
  const chunks = entries.filter((e) => e.kind === 'stream').sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  const seqs = new Map(chunks.map((e, i) => [e, i + 1]));
  return entries.map((e) => (seqs.has(e) ? { ...e, seq: seqs.get(e)! } : e));
}
