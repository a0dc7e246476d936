/**
 * The set-up of one chaos schedule: the virtual clock, the seeded random streams, the chaos controller and its
 * ledger, the backend (the real store behind a lagging sweep index, every port behind its fault wrapper, the
 * chaos queue as dispatcher), and two workers (two clients with different worker ids over that one backend) with
 * the workload defined and the event router handler of each.
 */
import { Durable } from 'durable-tasks';
import { ClockTimers, InMemoryRequestCounter, InProcessBus, MemoryRunStore, VirtualClock } from '../../sdk/adapters/memory/index.ts';
import type { Backend, Dispatcher, FlowStore, JournalEntry, RunStore, Timers } from '../../sdk/ports.ts';
import { ChaosQueue } from './chaos-queue.ts';
import { Chaos } from './faults.ts';
import { faultyBus, faultyDispatcher, faultyFlow, faultyStore, faultyTimers } from './fault-wrappers.ts';
import { Ledger } from './invariants.ts';
import { laggingSweepIndex, type LaggingIndexStats } from './lagging-index.ts';
import type { FaultProfile } from './profiles.ts';
import { Random } from './random.ts';
import { memoryRawEntries } from './raw-journal.ts';
import { defineWorkload } from './workload/interpret.ts';

/** The storage (and, for AWS, the transport) one schedule runs on. */
export interface ChaosBackendParts {
  /** The real store the engine writes to (wrapped with faults by the driver). */
  store: RunStore;
  /** The same data, read by the driver and the checks without faults. */
  inspect: RunStore;
  /** Each journal entry item's own entry as stored, before `mergeJournal` (the duplicate-position check). */
  rawEntries(runId: string): Promise<JournalEntry[]>;
  /** A real queue messages travel through (SQS); absent: in-process. */
  transport?: Dispatcher;
  close(): Promise<void>;
}
export type BackendFactory = (clock: VirtualClock) => Promise<ChaosBackendParts>;

export const memoryBackend: BackendFactory = async (clock) => {
  const store = new MemoryRunStore(undefined, () => clock.now());
  return { store, inspect: store, rawEntries: async (runId) => memoryRawEntries(store, runId), close: async () => undefined };
};

const WORKERS = ['worker-a', 'worker-b'];

export interface WorldOptions {
  seed: number;
  profile: FaultProfile;
  factory?: BackendFactory;
  leaseMs: number;
  /** Lets virtual time pass inside a step (the driver's; called only once the schedule runs). */
  elapse: (ms: number) => Promise<void>;
}

export interface World {
  clock: VirtualClock;
  random: Random;
  workloadRandom: Random;
  driverRandom: Random;
  chaos: Chaos;
  ledger: Ledger;
  parts: ChaosBackendParts;
  queue: ChaosQueue;
  /** Due times of the timers each run scheduled: a run parked on one of them after it fired had its wake-up dropped. */
  timerDues: Map<string, Set<number>>;
  sweepIndex: LaggingIndexStats;
  workers: Durable[];
  /** The router Lambda's handler of each client. */
  routers: Map<Durable, ReturnType<ReturnType<Durable['worker']>['eventRouterHandler']>>;
}

export async function buildWorld(options: WorldOptions): Promise<World> {
  const { seed, profile, leaseMs } = options;
  const clock = new VirtualClock(Date.UTC(2030, 0, 1));
  const random = new Random(seed);
  const workloadRandom = random.fork('workload');
  const driverRandom = random.fork('driver');
  const chaos = new Chaos(profile, random.fork('faults'), clock, leaseMs + 1_000);
  const ledger = new Ledger(chaos);
  chaos.observer = ledger;
  const parts = await (options.factory ?? memoryBackend)(clock);
  const queue = new ChaosQueue(chaos, clock, parts.transport);
  const timers = new ClockTimers(clock, queue.timerTarget());
  const timerDues = new Map<string, Set<number>>();
  const recordingTimers: Timers = {
    schedule: async (timerId, dueAt, message) => {
      await timers.schedule(timerId, dueAt, message);
      let dues = timerDues.get(message.runId);
      if (!dues) timerDues.set(message.runId, (dues = new Set()));
      dues.add(dueAt);
    },
    cancel: (timerId) => timers.cancel(timerId),
  };
  const sweepIndex: LaggingIndexStats = { stale: 0, fresh: 0 };
  const backend: Backend = {
    store: faultyStore(laggingSweepIndex(parts.store, clock, random.fork('sweep-index'), 90_000, sweepIndex), chaos),
    flow: faultyFlow((parts.store as { flow?: FlowStore }).flow!, chaos),
    dispatcher: faultyDispatcher(queue, chaos),
    timers: faultyTimers(recordingTimers, chaos),
    bus: faultyBus(new InProcessBus(), chaos),
    clock,
    counter: new InMemoryRequestCounter(),
    close: async () => timers.clear(),
  };
  const workers = WORKERS.map((workerId) => {
    const durable = new Durable({ backend, workerId, leaseMs, cancelPollMs: 0, log: () => undefined });
    defineWorkload(durable, ledger, options.elapse);
    return durable;
  });
  await new Promise((r) => setImmediate(r)); // the clients connect the bus to their router
  // The router Lambda's handler of each client: it resumes the first run an event wakes itself (under the same
  // faults as any worker), instead of dispatching it.
  const routers = new Map(workers.map((w) => [w, w.worker('router', { workflows: w.engine.registry.all() }).eventRouterHandler()]));
  return { clock, random, workloadRandom, driverRandom, chaos, ledger, parts, queue, timerDues, sweepIndex, workers, routers };
}
