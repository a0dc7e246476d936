/**
 * The recorded history of a run, format 1: plain JSON, enough to replay the run's code without the store
 * (`replayHistory`). Written by `durable.runs.export`; the README's "Safe upgrades" section documents it.
 * A reader accepts unknown extra fields (later versions of format 1 may add some) and refuses any other
 * `format`.
 */
import type { JournalEntry, LoadedRun, OperationKind, RunStatus, SerializedError, TaskState } from '../../ports.ts';
import { decodePayload } from '../json.ts';
import { InvalidHistoryError } from './invalid-history-error.ts';

export const HISTORY_FORMAT = 1;

/** One durable call of the recorded run, at its journal position. */
export interface HistoryEntry {
  position: number;
  kind: OperationKind;
  /** The step's name, the event key, the child task's name, the patch id (`''` for sleeps and `now`). */
  name: string;
  /** `pending`: a wait or child the run is parked on (no outcome yet); `retrying`: a step between attempts. */
  status: 'done' | 'failed' | 'retrying' | 'pending';
  /** The recorded result, as JSON (absent when it was `undefined`). */
  result?: unknown;
  /** The recorded error of a failed call (a retrying step's last error). */
  error?: HistoryError;
  /** When it was recorded (ISO 8601). */
  time: string;
  /** Sleeps: when due; retrying steps: when the next attempt may run (ISO 8601). */
  dueAt?: string;
  stepAttempt?: number;
  /** Waits: which condition resolved it. */
  resolvedBy?: string;
}

export interface HistoryError {
  name: string;
  message: string;
  data?: Record<string, unknown>;
}

/** A run's history, as `durable.runs.export` writes it. */
export interface RunHistory {
  format: typeof HISTORY_FORMAT;
  runId: string;
  /** The task's name (`<workflow>/<task>` for a DAG task run). */
  name: string;
  status: RunStatus;
  /** The attempt whose journal `entries` holds (each attempt starts from a fresh journal). */
  attempt: number;
  input?: unknown;
  output?: unknown;
  error?: HistoryError;
  createdAt: string;
  exportedAt: string;
  /** DAG task runs: what `ctx.workflowInput()`, `ctx.parentOutput()` and `ctx.triggers()` answer. */
  workflow?: { runId: string; input?: unknown; parentOutputs: Record<string, unknown>; triggers: Record<string, unknown> };
  entries: HistoryEntry[];
}

const KINDS: readonly OperationKind[] = ['step', 'sleep', 'wait', 'child', 'spawn', 'now', 'event', 'patch', 'map', 'parallel'];
const STATUSES: readonly HistoryEntry['status'][] = ['done', 'failed', 'retrying', 'pending'];
const RUN_STATUSES: readonly RunStatus[] = ['QUEUED', 'RUNNING', 'WAITING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED'];

const iso = (ms: number) => new Date(ms).toISOString();

function historyError(error: SerializedError): HistoryError {
  return { name: error.name, message: error.message, ...(error.data ? { data: error.data } : {}) };
}

function entryOf(e: JournalEntry): HistoryEntry {
  return {
    position: e.position,
    kind: e.kind,
    name: e.name,
    status: e.status,
    ...(e.result !== undefined ? { result: decodePayload(e.result) } : {}),
    ...(e.error ? { error: historyError(e.error) } : {}),
    time: iso(e.createdAt),
    ...(e.dueAt !== undefined ? { dueAt: iso(e.dueAt) } : {}),
    ...(e.retryAt !== undefined ? { dueAt: iso(e.retryAt) } : {}),
    ...(e.stepAttempt !== undefined ? { stepAttempt: e.stepAttempt } : {}),
    ...(e.resolvedBy !== undefined ? { resolvedBy: e.resolvedBy } : {}),
  };
}

/**
 * The history of `loaded`'s current attempt: its entries, and the waits it is parked on as `pending` entries.
 * `workflow`: the workflow run, for a DAG task run.
 */
export function toHistory(loaded: LoadedRun, exportedAt: number, workflow?: LoadedRun): RunHistory {
  const { run } = loaded;
  const entries = loaded.entries.filter((e) => e.attempt === run.attempt).map(entryOf);
  const held = new Set(entries.map((e) => e.position));
  for (const w of loaded.waiters) {
    if (w.attempt !== run.attempt || held.has(w.position)) continue;
    held.add(w.position);
    entries.push({ position: w.position, kind: w.opKind, name: w.opName, status: 'pending', time: iso(w.createdAt) });
  }
  entries.sort((a, b) => a.position - b.position);
  const input = decodePayload(run.input);
  return {
    format: HISTORY_FORMAT,
    runId: run.runId,
    name: run.name,
    status: run.status,
    attempt: run.attempt,
    ...(input !== undefined ? { input } : {}),
    ...(run.output !== undefined ? { output: decodePayload(run.output) } : {}),
    ...(run.error ? { error: historyError(run.error) } : {}),
    createdAt: iso(run.createdAt),
    exportedAt: iso(exportedAt),
    ...(workflow ? { workflow: workflowContext(run.name, workflow) } : {}),
    entries,
  };
}

function workflowContext(taskRunName: string, workflow: LoadedRun): NonNullable<RunHistory['workflow']> {
  const own = taskRunName.slice(taskRunName.indexOf('/') + 1);
  const parentOutputs: Record<string, unknown> = {};
  let triggers: Record<string, unknown> = {};
  for (const state of workflow.tasks as TaskState[]) {
    // Absent for a skipped parent or an `undefined` output: `ctx.parentOutput` answers `undefined` for both.
    if (state.status === 'SUCCEEDED' && state.output !== undefined) parentOutputs[state.task] = decodePayload(state.output);
    if (state.task === own) triggers = state.triggers ?? {};
  }
  const input = decodePayload(workflow.run.input);
  return { runId: workflow.run.runId, ...(input !== undefined ? { input } : {}), parentOutputs, triggers };
}

/**
 * What a replay needs of a history: `parseHistory` fills in what a hand-written (or trimmed) file may leave
 * out: `runId`, `status` and the times are only informative, `attempt` defaults to 0, an entry's `status` to
 * `failed` when it has an `error` and `done` otherwise.
 */
export type ReplayableHistory = Omit<RunHistory, 'status'> & { status?: RunStatus };

/**
 * Checks that `value` is a format-1 history (or its JSON text) and returns it, normalised.
 * @throws {InvalidHistoryError} not JSON, an unknown format, or a malformed field (named)
 */
export function parseHistory(value: unknown, source = 'the history'): ReplayableHistory {
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (error) {
      throw new InvalidHistoryError(`${source} is not JSON: ${(error as Error).message}`, { cause: error });
    }
  }
  const bad = (what: string): never => {
    throw new InvalidHistoryError(`${source} is malformed: ${what}. Export histories with durable.runs.export or \`durable runs export RUN_ID\``);
  };
  if (!isObject(value)) return bad(`expected an object, got ${describe(value)}`);
  if (value.format !== HISTORY_FORMAT) {
    throw new InvalidHistoryError(
      value.format === undefined
        ? `${source} has no "format" field: it is not a durable-tasks run history (durable.runs.export writes one)`
        : `${source} has format ${JSON.stringify(value.format)}, which this version cannot read (it reads format ${HISTORY_FORMAT})`,
    );
  }
  const h = value;
  if (typeof h.name !== 'string' || h.name === '') bad('"name" must be a non-empty string');
  if (h.runId !== undefined && typeof h.runId !== 'string') bad('"runId" must be a string');
  if (h.status !== undefined && !RUN_STATUSES.includes(h.status as RunStatus)) bad(`"status" must be one of ${RUN_STATUSES.join(', ')}, got ${describe(h.status)}`);
  if (h.attempt !== undefined && !isWhole(h.attempt)) bad('"attempt" must be a whole number ≥ 0');
  if (!Array.isArray(h.entries)) return bad('"entries" must be an array');
  if (h.error !== undefined) checkError(h.error, '"error"', bad);
  if (h.workflow !== undefined && !(isObject(h.workflow) && isObject(h.workflow.parentOutputs ?? {}) && isObject(h.workflow.triggers ?? {}))) {
    bad('"workflow" must be an object with "parentOutputs" and "triggers" objects');
  }
  const seen = new Set<number>();
  const entries = h.entries.map((e: unknown, i: number): HistoryEntry => {
    const at = `entries[${i}]`;
    if (!isObject(e)) return bad(`${at} must be an object`);
    if (!isWhole(e.position)) bad(`${at}.position must be a whole number ≥ 0`);
    if (seen.has(e.position as number)) bad(`${at}.position ${String(e.position)} appears twice`);
    seen.add(e.position as number);
    if (!KINDS.includes(e.kind as OperationKind)) bad(`${at}.kind must be one of ${KINDS.join(', ')}, got ${describe(e.kind)}`);
    if (typeof e.name !== 'string') bad(`${at}.name must be a string`);
    if (e.status !== undefined && !STATUSES.includes(e.status as HistoryEntry['status'])) bad(`${at}.status must be one of ${STATUSES.join(', ')}, got ${describe(e.status)}`);
    if (e.status === 'failed' && e.error === undefined) bad(`${at} failed but has no "error"`);
    if (e.error !== undefined) checkError(e.error, `${at}.error`, bad);
    if (e.dueAt !== undefined && typeof e.dueAt !== 'string' && typeof e.dueAt !== 'number') bad(`${at}.dueAt must be an ISO 8601 string`);
    const status = (e.status as HistoryEntry['status'] | undefined) ?? (e.error !== undefined ? 'failed' : 'done');
    return { ...(e as unknown as HistoryEntry), status };
  });
  const workflow = h.workflow as RunHistory['workflow'] | undefined;
  return {
    ...(h as unknown as RunHistory),
    runId: typeof h.runId === 'string' ? h.runId : '',
    attempt: (h.attempt as number | undefined) ?? 0,
    ...(workflow ? { workflow: { ...workflow, parentOutputs: workflow.parentOutputs ?? {}, triggers: workflow.triggers ?? {} } } : {}),
    entries,
  };
}

function checkError(error: unknown, at: string, bad: (what: string) => never) {
  if (!isObject(error) || typeof error.name !== 'string' || typeof error.message !== 'string') bad(`${at} must be { name, message }`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isWhole(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : JSON.stringify(value) ?? String(value);
}
