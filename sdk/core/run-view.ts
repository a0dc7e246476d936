import type { JournalEntry, LoadedRun, RunStatus, Waiter } from '../ports.ts';
import { publicError } from './errors.ts';
import { decodePayload } from './json.ts';

/** One durable call of a run, as `runs.get` shows it. */
export interface OperationView {
  attempt: number;
  position: number;
  kind: string;
  name: string;
  /** done | failed | retrying | waiting */
  status: string;
  result?: unknown;
  error?: { name: string; message: string };
  /** Sleeps and timers: when due (ISO). */
  dueAt?: string;
  /** Which condition (or child run) resolved a wait. */
  resolvedBy?: string;
  /** Stream chunks (`kind: 'stream'`, the chunk in `result`): the chunk's place in the run's stream. */
  seq?: number;
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
  operations: OperationView[];
  /** DAG workflow runs: each task's status. */
  tasks?: { name: string; status: RunStatus; runId?: string; output?: unknown; triggers?: Record<string, unknown> }[];
}

export function describeRun(loaded: LoadedRun): RunDetails {
  const { run } = loaded;
  const ops: OperationView[] = loaded.entries.map(entryView);
  const pending = new Map<string, Waiter[]>();
  for (const w of loaded.waiters) {
    if (loaded.entries.some((e) => e.attempt === w.attempt && e.position === w.position)) continue;
    const key = `${w.attempt}:${w.position}`;
    pending.set(key, [...(pending.get(key) ?? []), w]);
  }
  for (const waiters of pending.values()) {
    const first = waiters[0]!;
    ops.push({
      attempt: first.attempt,
      position: first.position,
      kind: first.opKind,
      name: first.opName,
      status: 'waiting',
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

function entryView(e: JournalEntry): OperationView {
  const view: OperationView = { attempt: e.attempt, position: e.position, kind: e.kind, name: e.name, status: e.status, createdAt: new Date(e.createdAt).toISOString() };
  if (e.result !== undefined) view.result = decodePayload(e.result);
  if (e.seq !== undefined) view.seq = e.seq;
  if (e.error) view.error = publicError(e.error);
  if (e.dueAt !== undefined) view.dueAt = new Date(e.dueAt).toISOString();
  if (e.retryAt !== undefined) view.dueAt = new Date(e.retryAt).toISOString();
  if (e.resolvedBy !== undefined) view.resolvedBy = e.resolvedBy;
  return view;
}
