/**
 * What the CLI commands need from "a durable-tasks deployment": the local dev server over HTTP, or AWS
 * directly through `Durable.fromEnv()`. Commands only see this interface.
 */
import type { OperationView, RunDetails, RunHistory, RunStatus, RunSummary } from '../../sdk/index.ts';
import type { CreateCronRequest, CronJson } from './crons.ts';

export type { OperationView, RunHistory, RunStatus, RunSummary };

/** `RunDetails` as it travels as JSON (dates as ISO strings). */
export type RunDetailsJson = Omit<RunDetails, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string };

export interface ListQuery {
  status?: RunStatus;
  name?: string;
  limit?: number;
  /** `false`: leave out DAG task runs. */
  taskRuns?: boolean;
  /** The `cursor` of the previous page (`runs.list`). */
  cursor?: string;
}

export interface PushOptions {
  scope?: string;
  metadata?: Record<string, unknown>;
}

export interface DurableApi {
  /** Where the commands go, for messages (`http://127.0.0.1:8787`, `AWS`). */
  readonly target: string;
  /** A page of runs; `cursor` (non-enumerable) when more may follow. */
  listRuns(query: ListQuery): Promise<RunSummary[] & { cursor?: string }>;
  getRun(runId: string): Promise<RunDetailsJson>;
  cancelRun(runId: string): Promise<RunDetailsJson>;
  /** `durable.runs.fork(runId, { fromStep })`: the new run's id. */
  forkRun(runId: string, fromStep: string, idempotencyKey?: string): Promise<{ runId: string; forkedFrom: string }>;
  /** The run's recorded history (`durable.runs.export`, format 1). */
  exportRun(runId: string): Promise<RunHistory>;
  push(key: string, payload: unknown, options: PushOptions): Promise<{ eventId: string }>;
  start(name: string, input: unknown): Promise<{ runId: string }>;
  /**
   * Calls `onUpdate` with the run's details each time they change, and resolves with the details once the run
   * is terminal (or rejects when `signal` aborts).
   */
  follow(runId: string, onUpdate: (run: RunDetailsJson) => void, signal?: AbortSignal): Promise<RunDetailsJson>;
  /** Every cron (created and declared) with its next tick and latest runs. */
  listCrons(): Promise<CronJson[]>;
  createCron(request: CreateCronRequest): Promise<CronJson>;
  deleteCron(name: string): Promise<void>;
  close(): Promise<void>;
}

/** An error reported by the deployment, as plain data (`{ name, message }`), with the HTTP status when any. */
export class ApiError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export const RUN_STATUSES: readonly RunStatus[] = ['QUEUED', 'RUNNING', 'WAITING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED'];
export const TERMINAL: readonly RunStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED'];

export function isTerminalStatus(status: string): boolean {
  return (TERMINAL as readonly string[]).includes(status);
}
