/**
 * Crons as the CLI and the dashboard see them (JSON: dates as ISO strings), with each cron's latest runs.
 * Shared by the dev server (GET /api/crons) and the `--aws` mode (DirectApi).
 */
import type { Durable, RunStatus } from '../../sdk/index.ts';

/** One recent run of a cron (its run id is `cron:<name>:<tick>`). */
export interface CronRunJson {
  runId: string;
  status: RunStatus;
  tick: string;
}

export interface CronJson {
  name: string;
  task: string;
  expression: string;
  input: unknown;
  /** The next tick, ISO (UTC). */
  next: string;
  /** Declared in code with `on: { cron }`. */
  declared: boolean;
  /** Newest first, at most `LAST_RUNS`. */
  lastRuns: CronRunJson[];
}

/** How many recent runs each cron shows. */
export const LAST_RUNS = 5;

export interface CreateCronRequest {
  name: string;
  task: string;
  expression: string;
  input?: unknown;
}

/** Every cron with its next tick and its latest runs (one runs listing per task). */
export async function describeCrons(durable: Durable): Promise<CronJson[]> {
  const crons = await durable.crons.details();
  const runsByTask = new Map<string, Awaited<ReturnType<Durable['runs']['list']>>>();
  for (const task of new Set(crons.map((c) => c.task))) runsByTask.set(task, await durable.runs.list({ name: task, limit: 1000 }));
  return crons.map((cron) => {
    const prefix = `cron:${cron.name}:`;
    const lastRuns = (runsByTask.get(cron.task) ?? [])
      .filter((r) => r.runId.startsWith(prefix))
      .map((r) => ({ runId: r.runId, status: r.status, tick: r.runId.slice(prefix.length) }))
      .sort((a, b) => b.tick.localeCompare(a.tick))
      .slice(0, LAST_RUNS);
    return { name: cron.name, task: cron.task, expression: cron.expression, input: cron.input, next: cron.next.toISOString(), declared: cron.declared, lastRuns };
  });
}

/** `crons.create` from a request naming the task. */
export async function createCron(durable: Durable, request: CreateCronRequest): Promise<CronJson> {
  const cron = await durable.crons.create(request.task, { name: request.name, expression: request.expression, input: request.input === undefined ? {} : request.input });
  return { name: cron.name, task: cron.task, expression: cron.expression, input: cron.input, next: cron.next.toISOString(), declared: false, lastRuns: [] };
}
