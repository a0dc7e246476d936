import { TERMINAL_STATUSES, type JournalEntry, type LoadedRun, type PayloadStore, type RunStatus, type Waiter } from '../ports.ts';
import { publicError } from './errors.ts';
import { decodePayload } from './json.ts';
import { isPayloadRef, parsePayloadRef, resolvePayload } from './payloads.ts';

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
  /** The result's size, when it is a large payload kept in S3 and was not fetched (`runs.get(id, { payloads: false })`). */
  resultBytes?: number;
  error?: { name: string; message: string };
  /** Sleeps, retries and pending waits with a timeout: when due (ISO). */
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
  /** The run of a DAG task: its workflow run. */
  workflowRunId?: string;
  output?: unknown;
  /** Set instead of `output` when the output is a large payload kept in S3: listing never fetches it (`runs.get` does). */
  outputBytes?: number;
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
  /** Sizes of the input and output when they are large payloads kept in S3 and were not fetched (`{ payloads: false }`). */
  inputBytes?: number;
  outputBytes?: number;
  /** DAG workflow runs: each task's status. */
  tasks?: { name: string; status: RunStatus; runId?: string; output?: unknown; triggers?: Record<string, unknown> }[];
}

/**
 * The run's large payloads fetched from the payload store (in parallel, 8 at a time), so `describeRun` sees JSON
 * text everywhere. With `fetch: false` nothing is fetched: `describeRun` then reports their sizes instead.
 */
export async function fetchPayloads(payloads: PayloadStore | undefined, loaded: LoadedRun): Promise<LoadedRun> {
  const texts = [loaded.run.input, loaded.run.output, ...loaded.entries.map((e) => e.result), ...loaded.tasks.map((t) => t.output)];
  const refs = [...new Set(texts.filter((t): t is string => isPayloadRef(t)))];
  if (refs.length === 0) return loaded;
  const fetched = new Map<string, string>();
  for (let i = 0; i < refs.length; i += 8) {
    await Promise.all(refs.slice(i, i + 8).map(async (ref) => fetched.set(ref, (await resolvePayload(payloads, ref))!)));
  }
  const text = <T extends string | undefined>(t: T): T => (isPayloadRef(t) ? (fetched.get(t!) as T) : t);
  return {
    ...loaded,
    run: { ...loaded.run, input: text(loaded.run.input), ...(loaded.run.output !== undefined ? { output: text(loaded.run.output) } : {}) },
    entries: loaded.entries.map((e) => (isPayloadRef(e.result) ? { ...e, result: text(e.result) } : e)),
    tasks: loaded.tasks.map((t) => (isPayloadRef(t.output) ? { ...t, output: text(t.output) } : t)),
  };
}

/** A stored payload as a value, or its size when it is a large payload that was not fetched. */
export function viewPayload(text: string | undefined): { value?: unknown; bytes?: number } {
  return isPayloadRef(text) ? { bytes: parsePayloadRef(text).bytes } : { value: decodePayload(text) };
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
    input: viewPayload(run.input).value,
    output: viewPayload(run.output).value,
    error: run.error ? publicError(run.error) : undefined,
    attempt: run.attempt,
    createdAt: new Date(run.createdAt),
    updatedAt: new Date(run.updatedAt),
    operations: ops,
  };
  if (isPayloadRef(run.input)) details.inputBytes = parsePayloadRef(run.input).bytes;
  if (isPayloadRef(run.output)) details.outputBytes = parsePayloadRef(run.output).bytes;
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
      ...(t.output !== undefined && !isPayloadRef(t.output) ? { output: decodePayload(t.output) } : {}),
      ...(t.triggers ? { triggers: t.triggers } : {}),
    }));
  }
  return details;
}

function entryView(e: JournalEntry, now: number, ended: boolean): OperationView {
  // A sleep's entry is written when it starts (its `dueAt` decides it): until then it is pending.
  const status = e.kind === 'sleep' && e.dueAt !== undefined && e.dueAt > now ? (ended ? 'interrupted' : 'sleeping') : e.status;
  const view: OperationView = { attempt: e.attempt, position: e.position, kind: e.kind, name: e.name, status, createdAt: new Date(e.createdAt).toISOString() };
  if (isPayloadRef(e.result)) view.resultBytes = parsePayloadRef(e.result).bytes;
  else if (e.result !== undefined) view.result = decodePayload(e.result);
  if (e.seq !== undefined) view.seq = e.seq;
  if (e.error) view.error = publicError(e.error);
  if (e.dueAt !== undefined) view.dueAt = new Date(e.dueAt).toISOString();
  if (e.retryAt !== undefined) view.dueAt = new Date(e.retryAt).toISOString();
  if (e.resolvedBy !== undefined) view.resolvedBy = e.resolvedBy;
  return view;
}
