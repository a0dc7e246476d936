/**
 * Ticks without EventBridge Scheduler: the test environment (virtual clock) and the embedded default (wall
 * clock). One timer per cron, armed for its next tick from now; a tick starts its run through `fire` (the same
 * `fireCronTick` the AWS worker calls, so a tick's run id makes a duplicate harmless) and arms the next tick.
 *
 * What it keeps in memory is derived: the crons are in the table, and after a restart it arms each one's next
 * tick from the current time. So a tick never runs twice (same run id) and ticks missed while the process was
 * down are not caught up, as with EventBridge Scheduler.
 */
import type { Backend, CronRecord, CronSchedules } from '../../ports.ts';
import { declaredCrons } from './declared.ts';
import { cronStoreOf } from './process-store.ts';
import { parseCron } from './expression.ts';

/** The clock the scheduler arms its timers on (the virtual clock in tests). */
export interface CronTimerClock {
  now(): number;
  setTimer(at: number, fn: () => void): () => void;
}

interface Armed {
  expression: string;
  cancel: () => void;
}

export class InProcessCronScheduler implements CronSchedules {
  private readonly armed = new Map<string, Armed>();
  private closed = false;

  constructor(
    private readonly clock: CronTimerClock,
    /** Starts the run of one tick. */
    private readonly fire: (name: string, tick: number) => Promise<unknown>,
    /** Keeps the tick's work visible to `settle()` (the client's tracker). */
    private readonly track: (work: Promise<unknown>) => void,
  ) {}

  async put(cron: CronRecord): Promise<void> {
    this.arm(cron.name, cron.expression);
  }

  async delete(name: string): Promise<void> {
    this.armed.get(name)?.cancel();
    this.armed.delete(name);
  }

  /** Arms `name` for its next tick from now (again only if its expression changed). */
  arm(name: string, expression: string): void {
    if (this.closed) return;
    const existing = this.armed.get(name);
    if (existing?.expression === expression) return;
    existing?.cancel();
    const parsed = parseCron(expression, `cron '${name}'`);
    const entry: Armed = { expression, cancel: () => undefined };
    const schedule = (after: number) => {
      const at = parsed.next(after);
      if (at === undefined) return;
      entry.cancel = this.clock.setTimer(at, () => {
        if (this.armed.get(name) !== entry) return;
        this.track(this.fire(name, at));
        // From the later of the tick and now: a process that was stalled does not catch up the ticks it slept through.
        schedule(Math.max(at, this.clock.now()));
      });
    };
    this.armed.set(name, entry);
    schedule(this.clock.now());
  }

  /** The crons armed, by name (for tests and the dashboard). */
  names(): string[] {
    return [...this.armed.keys()];
  }

  close(): void {
    this.closed = true;
    for (const entry of this.armed.values()) entry.cancel();
    this.armed.clear();
  }
}

/** The in-process scheduler of each engine: one per engine, whoever starts it (the embedded worker or `worker.start()`). */
const byEngine = new WeakMap<object, InProcessCronScheduler>();

/** What starting the in-process scheduler needs from an engine (sdk/core/engine.ts). */
interface EngineLike {
  registry: Parameters<typeof declaredCrons>[0];
}

/** The engine's in-process scheduler, if one was started. */
export function inProcessCronScheduler(engine: EngineLike): InProcessCronScheduler | undefined {
  return byEngine.get(engine);
}

/**
 * Starts `engine`'s in-process scheduler when its backend has no recurring schedules of its own (no EventBridge
 * Scheduler: the test environment, the embedded default, `durable dev`), and arms every stored and declared
 * cron. Idempotent. Returns `undefined` on a backend whose schedules fire elsewhere.
 */
export function startInProcessCrons(
  engine: EngineLike,
  backend: Backend,
  fire: (name: string, tick: number) => Promise<unknown>,
  track: (work: Promise<unknown>) => void,
): InProcessCronScheduler | undefined {
  const existing = byEngine.get(engine);
  if (existing) return existing;
  const clock = backend.clock as Partial<CronTimerClock> | undefined;
  if (backend.cronSchedules || typeof clock?.setTimer !== 'function' || !engine.registry) return undefined;
  const store = cronStoreOf(backend);
  const scheduler = new InProcessCronScheduler(clock as CronTimerClock, fire, track);
  byEngine.set(engine, scheduler);
  armDeclared(engine);
  track(store.listCrons().then((crons) => crons.forEach((c) => scheduler.arm(c.name, c.expression))));
  return scheduler;
}

/** Arms the declared crons of `engine`'s registry (after a definition), when it has an in-process scheduler. */
export function armDeclared(engine: EngineLike): void {
  const scheduler = byEngine.get(engine);
  if (!scheduler) return;
  for (const cron of declaredCrons(engine.registry, 0)) scheduler.arm(cron.name, cron.expression);
}

/** Stops `engine`'s in-process scheduler. */
export function stopInProcessCrons(engine: EngineLike): void {
  byEngine.get(engine)?.close();
  byEngine.delete(engine);
}
