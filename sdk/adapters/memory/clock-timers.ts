import type { DispatchMessage, Dispatcher, Timers } from '../../ports.ts';
import type { TimerClock } from './virtual-clock.ts';

/**
 * Timers kept in-process on a TimerClock. They are not persisted themselves: the run item's `wakeAt`
 * is, and the sweeper re-fires a due run after a restart.
 */
export class ClockTimers implements Timers {
  private readonly pending = new Map<string, () => void>();

  constructor(
    private readonly clock: TimerClock,
    private readonly dispatcher: Dispatcher,
  ) {}

  async schedule(timerId: string, dueAt: number, message: DispatchMessage): Promise<void> {
    if (this.pending.has(timerId)) return;
    const cancel = this.clock.setTimer(dueAt, () => {
      this.pending.delete(timerId);
      void this.dispatcher.dispatch(message);
    });
    this.pending.set(timerId, cancel);
  }

  async cancel(timerId: string): Promise<void> {
    this.pending.get(timerId)?.();
    this.pending.delete(timerId);
  }

  /** Timers not yet fired. */
  get size(): number {
    return this.pending.size;
  }

  /** Drops every timer (close). */
  clear() {
    for (const cancel of this.pending.values()) cancel();
    this.pending.clear();
  }
}
