import { TERMINAL_STATUSES, type JournalEntry, type LoadedRun, type RunStatus, type Waiter } from '../ports.ts';
import { publicError } from './errors.ts';
import { decodePayload } from './json.ts';

/** One durable call of a run, as `runs.get` shows it. */
export interface OperationView {
  attempt: number;
  position: number;
  kind: string;
  name: string;
  /**
   * done | failed | retrying | waiting | sleeping (a sleep whose `dueAt` is still ahead) |
   * interrupted (a sleep still ahead when its run ended, e.g. cancelled).
   */
  status: string;
  result?: unknown;
  error?: { name: string; message: string };
  /** Sleeps, retries and pending waits with a timeout: when due (ISO). */
  dueAt?: string;
  /** Which condition (or child run) resolved a wait. */
  resolvedBy?: string;
  /** Pending waits: what they wait for. */
  waitingFor?: { type: string; key: string; eventKey?: string; expression?: string; scope?: string; dueAt?: string; childRunId?: string }[];
  createdAt: string;
}

export interface RunSummary {
  runId: string;
  name: string;
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  /** The run of a DAG task: its workflow run. */
  workflowRunId?: string;
  output?: unknown;
  error?: { name: string; message: string };
}

export interface RunDetails {
  runId: string;
  name: string;
  status: RunStatus;
  input: unknown;
  output: unknown;
  error: { name: string; message: string } | undefined;
  attempt: number;
  createdAt: Date;
  updatedAt: Date;
  parentRunId?: string;
  workflowRunId?: string;
  metadata?: Record<string, unknown>;
  /** The idempotency key the run was started with. */
  idempotencyKey?: string;
  /** Flow-control priority (1 LOW .. 3 HIGH), when not the default. */
  priority?: number;
  /** Flow control: the concurrency key (`<task>#<key>`) the run holds or waits for. */
  concurrencyKey?: string;
  /** A QUEUED run held by flow control: which concurrency key or rate limit it waits for, and why. */
  waitingFor?: string;
  operations: OperationView[];
  /** DAG workflow runs: each task's status. */
  tasks?: { name: string; status: RunStatus; runId?: string; output?: unknown; triggers?: Record<string, unknown> }[];
}

/** `now`: the backend's clock (a sleep recorded with a `dueAt` still ahead is pending, not done). */
export function describeRun(loaded: LoadedRun, now: number = Date.now()): RunDetails {
  const { run } = loaded;
  const ended = TERMINAL_STATUSES.includes(run.status);
  const ops: OperationView[] = loaded.entries.map((e) => entryView(e, now, ended));
  const pending = new Map<string, Waiter[]>();
  for (const w of loaded.waiters) {
    if (loaded.entries.some((e) => e.attempt === w.attempt && e.position === w.position)) continue;
    const key = `${w.attempt}:${w.position}`;
    pending.set(key, [...(pending.get(key) ?? []), w]);
  }
  for (const waiters of pending.values()) {
    const first = waiters[0]!;
    const dues = waiters.filter((w) => w.dueAt !== undefined).map((w) => w.dueAt!);
    ops.push({
      attempt: first.attempt,
      position: first.position,
      kind: first.opKind,
      name: first.opName,
      status: 'waiting',
      ...(dues.length ? { dueAt: new Date(Math.min(...dues)).toISOString() } : {}),
      waitingFor: waiters.map((w) => ({
        type: w.type,
        key: w.readableDataKey,
        ...(w.eventKey !== undefined ? { eventKey: w.eventKey } : {}),
        ...(w.expression ? { expression: w.expression } : {}),
        ...(w.scope !== undefined ? { scope: w.scope } : {}),
        ...(w.dueAt !== undefined ? { dueAt: new Date(w.dueAt).toISOString() } : {}),
        ...(w.childRunId !== undefined ? { childRunId: w.childRunId } : {}),
      })),
      createdAt: new Date(first.createdAt).toISOString(),
    });
  }
  ops.sort((a, b) => a.attempt - b.attempt || a.position - b.position);
  const details: RunDetails = {
    runId: run.runId,
    name: run.name,
    status: run.status,
    input: decodePayload(run.input),
    output: decodePayload(run.output),
    error: run.error ? publicError(run.error) : undefined,
    attempt: run.attempt,
    createdAt: new Date(run.createdAt),
    updatedAt: new Date(run.updatedAt),
    operations: ops,
  };
  if (run.parent) details.parentRunId = run.parent.runId;
  if (run.workflowRunId) details.workflowRunId = run.workflowRunId;
  if (run.metadata) details.metadata = run.metadata;
  if (run.idempotencyKey !== undefined) details.idempotencyKey = run.idempotencyKey;
  if (run.priority !== undefined) details.priority = run.priority;
  if (run.flow?.slot !== undefined) details.concurrencyKey = run.flow.slot;
  if (run.status === 'QUEUED' && run.flow?.waitingFor !== undefined) details.waitingFor = run.flow.waitingFor;
  if (loaded.tasks.length) {
    details.tasks = loaded.tasks.map((t) => ({
      name: t.task,
      status: t.status,
      ...(t.taskRunId ? { runId: t.taskRunId } : {}),
      ...(t.output !== undefined ? { output: decodePayload(t.output) } : {}),
      ...(t.triggers ? { triggers: t.triggers } : {}),
    }));
  }
  return details;
}

function entryView(e: JournalEntry, now: number, ended: boolean): OperationView {
  // A sleep's entry is written when it starts (its `dueAt` decides it): until then it is pending.
  const status = e.kind === 'sleep' && e.dueAt !== undefined && e.dueAt > now ? (ended ? 'interrupted' : 'sleeping') : e.status;
  const view: OperationView = { attempt: e.attempt, position: e.position, kind: e.kind, name: e.name, status, createdAt: new Date(e.createdAt).toISOString() };
  if (e.result !== undefined) view.result = decodePayload(e.result);
  if (e.error) view.error = publicError(e.error);
  if (e.dueAt !== undefined) view.dueAt = new Date(e.dueAt).toISOString();
  if (e.retryAt !== undefined) view.dueAt = new Date(e.retryAt).toISOString();
  if (e.resolvedBy !== undefined) view.resolvedBy = e.resolvedBy;
  return view;
}
