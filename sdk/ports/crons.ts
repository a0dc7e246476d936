/** A cron as stored (sdk/core/cron): created through `durable.crons.create`, or declared with `on: { cron }`. */
export interface CronRecord {
  /** Unique per deployment; declared crons are named `<task>:<expression>`. */
  name: string;
  /** The task or workflow each tick starts. */
  task: string;
  /** Five fields, UTC. */
  expression: string;
  /** JSON text of the input every tick's run gets. */
  input: string;
  /** Declared in code (`on: { cron }`) rather than created through the API: reconciling may delete it. */
  declared?: boolean;
  createdAt: number;
}

/** Where crons are kept (the table on AWS and locally), so every process lists the same crons. */
export interface CronStore {
  /** Creates the cron iff no cron has that name; `false` when one has. */
  createCron(cron: CronRecord): Promise<boolean>;
  /** Creates or replaces (reconciling declared crons). */
  putCron(cron: CronRecord): Promise<void>;
  getCron(name: string): Promise<CronRecord | undefined>;
  listCrons(): Promise<CronRecord[]>;
  /** `false` when there was no such cron. */
  deleteCron(name: string): Promise<boolean>;
}

/**
 * What arranges for a cron's ticks to arrive (EventBridge Scheduler on AWS; without it, the client's in-process
 * scheduler). Each tick arrives as a cron tick message (sdk/core/cron/tick-message.ts) on the dispatch path.
 */
export interface CronSchedules {
  /** Creates or updates the schedule of `cron`. */
  put(cron: CronRecord): Promise<void>;
  /** Deletes it; an unknown name is success. */
  delete(name: string): Promise<void>;
}
