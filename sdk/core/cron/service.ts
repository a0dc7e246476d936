/**
 * `durable.crons`: create, list and delete crons, and what every backend does with a tick: start the one run of
 * that tick (`fireCronTick`). Crons live in the CronStore (the table), so every process lists the same ones;
 * their ticks come from the CronSchedules port (EventBridge Scheduler) or, without it, from the client's
 * in-process scheduler. Declared crons (`on: { cron }`) need no create: see `reconcileCrons`.
 */
import type { CronRecord, CronSchedules } from '../../ports.ts';
import { assertName, TaskDefinition, WorkflowDefinition } from '../definitions.ts';
import type { Engine } from '../engine.ts';
import { InvalidDefinitionError } from '../errors.ts';
import { decodePayload, encodePayload } from '../json.ts';
import { declaredCrons } from './declared.ts';
import { CronAlreadyExistsError, CronNotFoundError } from './errors.ts';
import { parseCron } from './expression.ts';
import { cronRunId, type CronTick } from './tick-message.ts';
import { cronStoreOf } from './process-store.ts';

/** A cron as `crons.list()` shows it. */
export interface CronView {
  name: string;
  /** The task or workflow each tick starts. */
  task: string;
  expression: string;
  input: unknown;
  /** The next tick (UTC), from now. */
  next: Date;
}

/** A cron with where it comes from (the CLI and the dashboard show it). */
export interface CronDetails extends CronView {
  /** Declared in code with `on: { cron }` (deleted by removing it there). */
  declared: boolean;
}

/** Options of `crons.create`. */
export interface CreateCronOptions {
  /** Unique per deployment. */
  name: string;
  /** Five fields (minute hour day-of-month month day-of-week), UTC. */
  expression: string;
  /** The input of every tick's run (JSON). @default {} */
  input?: unknown;
}

/** What a cron can start: a standalone task, a durable task or a workflow (or its name). */
export type CronTarget = TaskDefinition<never, unknown> | WorkflowDefinition<never> | string;

/** The `crons` member of a client. */
export class Crons {
  /** @internal */
  constructor(
    private readonly engine: Engine,
    /** The in-process scheduler, when this client fires ticks itself. */
    private readonly inProcess: () => CronSchedules | undefined,
  ) {}

  /**
   * Creates a cron: each tick of `expression` starts one run of `target` with `input`.
   *
   * @throws {InvalidDefinitionError} a malformed expression (naming it), a bad name, or a task of a workflow
   * @throws {CronAlreadyExistsError} a cron (created or declared) has that name
   * @throws {DurableError} input that is not JSON; {PayloadTooLargeError} over 256 KiB
   * @example
   * await durable.crons.create(report, { name: 'hourly-eu', expression: '0 * * * *', input: { region: 'eu' } });
   */
  async create(target: CronTarget, options: CreateCronOptions): Promise<CronView> {
    const task = targetName(target);
    if (!options || typeof options !== 'object') throw new InvalidDefinitionError('crons.create needs options { name, expression, input? }');
    assertName(options.name, 'a cron');
    const where = `cron '${options.name}'`;
    const expression = parseCron(options.expression, where).source;
    const input = encodePayload(options.input === undefined ? {} : options.input, `input of ${where}`) ?? '{}';
    const backend = await this.engine.backend();
    const store = cronStoreOf(backend);
    if (declaredCrons(this.engine.registry, 0).some((c) => c.name === options.name)) throw new CronAlreadyExistsError(options.name);
    const record: CronRecord = { name: options.name, task, expression, input, createdAt: backend.clock.now() };
    if (!(await store.createCron(record))) throw new CronAlreadyExistsError(options.name);
    try {
      await this.schedules(backend.cronSchedules).put(record);
    } catch (error) {
      await store.deleteCron(record.name).catch(() => undefined);
      throw error;
    }
    return publicView(view(record, backend.clock.now()));
  }

  /** Every cron: created ones and those declared with `on: { cron }`, by name, with each one's next tick. */
  async list(): Promise<CronView[]> {
    return (await this.details()).map(publicView);
  }

  /** @internal `list()` with each cron's origin (CLI, dashboard). */
  async details(): Promise<CronDetails[]> {
    const backend = await this.engine.backend();
    const now = backend.clock.now();
    const byName = new Map<string, CronRecord>();
    for (const cron of await cronStoreOf(backend).listCrons()) byName.set(cron.name, cron);
    for (const cron of declaredCrons(this.engine.registry, now)) if (!byName.has(cron.name)) byName.set(cron.name, cron);
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)).map((cron) => view(cron, now));
  }

  /**
   * Deletes a created cron: no tick starts a run after it returns (a run already started goes on).
   * @throws {CronNotFoundError} no created cron has that name (a declared cron is removed from the code instead)
   */
  async delete(name: string): Promise<void> {
    if (typeof name !== 'string' || name === '') throw new CronNotFoundError(String(name), 'a cron name is a non-empty string');
    const backend = await this.engine.backend();
    const store = cronStoreOf(backend);
    const cron = await store.getCron(name);
    const declared = cron?.declared || declaredCrons(this.engine.registry, 0).some((c) => c.name === name);
    if (declared) throw new CronNotFoundError(name, "it is declared in code with on: { cron }; remove it there and redeploy");
    if (!cron) throw new CronNotFoundError(name);
    await this.schedules(backend.cronSchedules).delete(name);
    if (!(await store.deleteCron(name))) throw new CronNotFoundError(name, 'it was deleted meanwhile');
  }

  private schedules(aws: CronSchedules | undefined): CronSchedules {
    return aws ?? this.inProcess() ?? NO_SCHEDULES;
  }
}

/**
 * Starts the one run of a tick: id `cron:<name>:<tick ISO>`, created with the store's conditional create, so a
 * duplicate delivery, a second worker or a restart starts nothing more. Its metadata is `{ cron, tick }`.
 * A cron that no longer exists, or whose task this process does not define, is logged and dropped (retrying
 * cannot fix either).
 *
 * @returns the run id, or `undefined` when nothing was started
 */
export async function fireCronTick(engine: Engine, tick: CronTick): Promise<string | undefined> {
  const backend = await engine.backend();
  const cron = (await backend.crons?.getCron(tick.cron)) ?? declaredCrons(engine.registry, 0).find((c) => c.name === tick.cron);
  const iso = new Date(tick.tick).toISOString();
  if (!cron) {
    console.error(JSON.stringify({ level: 'warn', message: 'cron tick for a cron that no longer exists; dropped', cron: tick.cron, tick: iso }));
    return undefined;
  }
  if (!engine.registry.get(cron.task)) {
    console.error(JSON.stringify({ level: 'error', message: 'cron tick for a task this worker does not define; dropped', cron: cron.name, task: cron.task, tick: iso }));
    return undefined;
  }
  const ref = await engine.start(cron.task, decodePayload(cron.input), { runId: cronRunId(cron.name, tick.tick), metadata: { cron: cron.name, tick: iso } });
  return ref.runId;
}

/**
 * Brings the stored crons and their schedules in line with the declarations of `engine`'s registry: every
 * declared cron stored and scheduled (created, or updated when its expression changed), every stored declared
 * cron no longer in the code unscheduled and removed. Crons created through the API are left alone; a declared
 * cron whose name an API-created cron already has is skipped (logged). Idempotent: concurrent runs converge.
 * Costs one Query when nothing changed.
 */
export async function reconcileCrons(engine: Engine): Promise<{ put: string[]; deleted: string[] }> {
  const backend = await engine.backend();
  const result = { put: [] as string[], deleted: [] as string[] };
  const store = backend.crons;
  const schedules = backend.cronSchedules;
  if (!store || !schedules) return result;
  const stored = new Map((await store.listCrons()).map((c) => [c.name, c]));
  const declared = declaredCrons(engine.registry, backend.clock.now());
  for (const cron of declared) {
    const existing = stored.get(cron.name);
    if (existing && !existing.declared) {
      console.error(JSON.stringify({ level: 'warn', message: 'a cron created through the API has the name of a declared cron; the declared one is not scheduled', cron: cron.name }));
      continue;
    }
    if (existing && existing.task === cron.task && existing.expression === cron.expression && existing.input === cron.input) continue;
    // Schedule first, then record: a stored declared cron always has its schedule, so "unchanged" above is safe.
    await schedules.put(cron);
    await store.putCron(cron);
    result.put.push(cron.name);
  }
  const names = new Set(declared.map((c) => c.name));
  for (const cron of stored.values()) {
    if (!cron.declared || names.has(cron.name)) continue;
    await schedules.delete(cron.name);
    await store.deleteCron(cron.name);
    result.deleted.push(cron.name);
  }
  return result;
}

function publicView({ declared: _declared, ...cron }: CronDetails): CronView {
  return cron;
}

function view(cron: CronRecord, now: number): CronDetails {
  const next = parseCron(cron.expression, `cron '${cron.name}'`).next(now);
  return { name: cron.name, task: cron.task, expression: cron.expression, input: decodePayload(cron.input), next: new Date(next ?? Number.NaN), declared: cron.declared === true };
}

function targetName(target: CronTarget): string {
  if (typeof target === 'string') {
    assertName(target, 'the task of a cron');
    return target;
  }
  if (target instanceof WorkflowDefinition) return target.name;
  if (target instanceof TaskDefinition) {
    if (target.workflow) throw new InvalidDefinitionError(`task '${target.name}' belongs to workflow '${target.workflow.name}': a cron starts the workflow instead`);
    return target.name;
  }
  throw new InvalidDefinitionError('crons.create needs a task, a durable task or a workflow (or its name) as its first argument');
}

const NO_SCHEDULES: CronSchedules = { put: async () => undefined, delete: async () => undefined };
