/**
 * The message a cron schedule puts on the dispatch queue: `{"cron":"<name>","tick":"<time>"}`. On AWS the tick is
 * EventBridge Scheduler's `<aws.scheduler.scheduled-time>` context attribute (e.g. `2030-01-01T03:00:00Z`), filled
 * in by Scheduler on each invocation, so a redelivered or retried invocation carries the same tick.
 */
import { parseJsonObject } from '../dispatch-message.ts';

/** A cron tick: which cron, and the scheduled time (epoch ms). */
export interface CronTick {
  cron: string;
  tick: number;
}

/** Scheduler's placeholder for the scheduled time of an invocation. */
export const SCHEDULED_TIME_PLACEHOLDER = '<aws.scheduler.scheduled-time>';

/** The body a schedule of cron `name` sends; `tick` defaults to Scheduler's placeholder. */
export function cronTickBody(name: string, tick: string = SCHEDULED_TIME_PLACEHOLDER): string {
  return JSON.stringify({ cron: name, tick });
}

/**
 * Parses a cron tick body. Anything else (a dispatch message `{"runId"}`, garbage) yields `undefined`.
 *
 * @example
 * parseCronTickBody('{"cron":"nightly","tick":"2030-01-01T03:00:00Z"}'); // { cron: 'nightly', tick: 1893466800000 }
 */
export function parseCronTickBody(body: unknown): CronTick | undefined {
  if (typeof body !== 'string' || !body.includes('"cron"')) return undefined;
  const { cron, tick } = parseJsonObject(body) ?? {};
  if (typeof cron !== 'string' || cron === '' || typeof tick !== 'string') return undefined;
  const time = Date.parse(tick);
  return Number.isFinite(time) ? { cron, tick: time } : undefined;
}

/** The id of the one run a tick starts: the same for every delivery of the tick, on every worker. */
export function cronRunId(name: string, tick: number): string {
  return `cron:${name}:${new Date(tick).toISOString()}`;
}

/**
 * The dispatch message `{"runId":"durable-tasks:reconcile-crons"}` asks a worker to reconcile the declared crons
 * (sdk/core/cron/service.ts `reconcileCrons`). The sweeper sends it on its first invocation in a container, so the
 * worker, which may write the table and the group's schedules, does the reconciling. No run has this id: a worker
 * without cron support drops it as a message for an unknown run.
 */
export const RECONCILE_CRONS_RUN_ID = 'durable-tasks:reconcile-crons';
