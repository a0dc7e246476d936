/**
 * Ticks without EventBridge Scheduler: the test environment (virtual clock) and the embedded default (wall
 * clock). One timer per cron, armed for its next tick from now; a tick starts its run through `fire` (the same
 * `fireCronTick` the AWS worker calls, so a tick's run id makes a duplicate harmless) and arms the next tick.
 *
 * What it keeps in memory is derived: the crons are in the table, and after a restart it arms each one's next
 * tick from the current time. So a tick never runs twice (same run id) and ticks missed while the process was
 * down are not caught up, as with EventBridge Scheduler.
 */
import type { CronRecord, CronSchedules } from '../../ports.ts';
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
