import type { Backend } from '../../ports.ts';
import { ClockTimers } from './clock-timers.ts';
import { InMemoryRequestCounter } from '../shared/in-memory-counter.ts';
import { InProcessBus } from './in-process-bus.ts';
import { MemoryQueue } from './memory-queue.ts';
import { MemoryRunStore } from './memory-store.ts';
import { MemoryCronStore } from './memory-crons.ts';
import { VirtualClock, type TimerClock } from './virtual-clock.ts';

export { ClockTimers, InMemoryRequestCounter, InProcessBus, MemoryQueue, MemoryRunStore, VirtualClock };
export { RealClock, type TimerClock } from './virtual-clock.ts';

/** A backend entirely in this process, on a virtual clock unless another is given. */
export interface MemoryBackend extends Backend {
  store: MemoryRunStore;
  dispatcher: MemoryQueue;
  timers: ClockTimers;
  bus: InProcessBus;
  clock: TimerClock;
  counter: InMemoryRequestCounter;
}

export function createMemoryBackend(clock: TimerClock = new VirtualClock()): MemoryBackend {
  const counter = new InMemoryRequestCounter();
  const store = new MemoryRunStore(counter, () => clock.now());
  const dispatcher = new MemoryQueue(clock, counter);
  const timers = new ClockTimers(clock, dispatcher);
  const bus = new InProcessBus();
  return {
    store,
    flow: store.flow,
    dispatcher,
    timers,
    bus,
    clock,
    counter,
    crons: new MemoryCronStore(counter),
    async close() {
      timers.clear();
      dispatcher.listen(undefined);
    },
  };
}
