/**
 * Runs one chaos schedule: a seeded workload on two workers (two clients with different worker ids over
 * one backend), with faults injected at every port, on a virtual clock driven like production (timers fire
 * as time passes, the sweeper runs every virtual minute). The driver plays the outside world: it starts
 * runs, delivers queue messages (shuffled, sometimes to both workers at once), pushes the events each
 * waiting run needs (decoys first), cancels runs, and re-delivers failed messages as SQS would.
 *
 * Faults stop after a chaos window; from then on every run must reach its final state within the
 * liveness bound. Then the invariants are checked, late events are pushed at the finished runs, and
 * nothing may change.
 */
import { randomUUID } from 'node:crypto';
import { Durable } from 'durable-tasks';
import { eventBridgeEvent } from '../support/aws-events.ts';
import { ClockTimers, InMemoryRequestCounter, InProcessBus, MemoryRunStore, VirtualClock } from '../../sdk/adapters/memory/index.ts';
import type { Backend, Dispatcher, FlowStore, JournalEntry, RunStore, Timers } from '../../sdk/ports.ts';
import { TERMINAL_STATUSES } from '../../sdk/ports.ts';
import {
  Chaos,
  ChaosQueue,
  CrashError,
  InjectedFault,
  TAINTING,
  faultyBus,
  faultyDispatcher,
  faultyStore,
  faultyFlow,
  faultyTimers,
  type FaultProfile,
  type FaultRecord,
  type Delivery,
} from './faults.ts';
import { DAG_POSITION_BASE } from '../../sdk/core/dag/positions.ts';
import { Ledger, checkFlowInFlight, checkOutcomes, type StepStats } from './invariants.ts';
import { memoryRawEntries } from './raw-journal.ts';
import { laggingSweepIndex, type LaggingIndexStats } from './lagging-index.ts';
import { Random } from './random.ts';
import {
  defineWorkload,
  eventSpecs,
  expectedDurationMs,
  generateProgram,
  shouldPush,
  childPrograms,
  DAG_TASKS,
  FLOW_MAX_RUNS,
  type EventSpec,
  type Program,
} from './workload.ts';

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

export interface ScheduleOptions {
  seed: number;
  runs: number;
  profile: FaultProfile;
  factory?: BackendFactory;
  /** @default 30 s */
  leaseMs?: number;
}

export interface ScheduleReport {
  seed: number;
  profile: string;
  runs: number;
  childRuns: number;
  faults: Record<string, number>;
  checks: number;
  failures: string[];
  steps: StepStats;
  /** Virtual time the schedule took, and the latest time a run finished, from the start. */
  virtualMs: number;
  lastFinishMs: number;
  deliveries: number;
  concurrentDeliveries: number;
  /** Pushes delivered as EventBridge delivers them to the router Lambda, and the runs it resumed itself. */
  routerPushes: number;
  routerResumes: number;
  sweeps: number;
  sweepRedispatched: number;
  /** Finished runs with waiters left behind by a worker that died or failed mid-cleanup (explained by faults). */
  explainedLeftovers: number;
  /**
   * Wake-ups the sweeper had to repair (a wake whose message was lost, or a run parked on a timer that already
   * fired); always 0 without faults.
   */
  wakeupsRepairedBySweeper: number;
  /** Sweeps answered by the lagging sweep index with an earlier snapshot (stale), and with the present. */
  sweepIndex: LaggingIndexStats;
  processResults: Record<string, number>;
  programs: Program[];
  faultLog: FaultRecord[];
  trace: string[];
}

const SWEEP_EVERY_MS = 60_000;
const REPUSH_AFTER_MS = 60_000;
const TWO_WORKERS = 0.15;
const WORKERS = ['worker-a', 'worker-b'];

interface Action {
  at: number;
  label: string;
  runId?: string;
  fn: () => void;
}

interface PushState {
  lastAttemptAt: number;
  scheduled: boolean;
  decoysDone: boolean;
}

export async function runSchedule(options: ScheduleOptions): Promise<ScheduleReport> {
  const { seed, profile } = options;
  const leaseMs = options.leaseMs ?? 30_000;
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
  // Due times of the timers each run scheduled: a run parked on one of them after it fired had its wake-up dropped.
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
    defineWorkload(durable, ledger, (ms) => elapse(ms));
    return durable;
  });
  await new Promise((r) => setImmediate(r)); // the clients connect the bus to their router
  // The router Lambda's handler of each client: it resumes the first run an event wakes itself (under the same
  // faults as any worker), instead of dispatching it.
  const routers = new Map(workers.map((w) => [w, w.worker('router', { workflows: w.engine.registry.all() }).eventRouterHandler()]));
  let routerPushes = 0;
  let routerResumes = 0;

  const trace: string[] = [];
  const t0 = clock.now();
  const say = (line: string) => {
    trace.push(`+${((clock.now() - t0) / 1000).toFixed(1)}s ${line}`);
    if (trace.length > 4000) trace.splice(0, 1000);
  };
  const failures: string[] = [];
  const processResults: Record<string, number> = {};
  let deliveries = 0;
  let concurrentDeliveries = 0;
  let sweeps = 0;
  let sweepRedispatched = 0;
  let wakeupsRepairedBySweeper = 0;

  const programs = Array.from({ length: options.runs }, (_, i) => generateProgram(workloadRandom, `s${seed}-r${i}`, 0, i));
  // Flow-controlled runs of one group take turns (maxRuns slots): the group lasts as long as its runs one after another.
  const groupMs = new Map<string, number>();
  for (const p of programs) if (p.group !== undefined) groupMs.set(p.group, (groupMs.get(p.group) ?? 0) + expectedDurationMs(p));
  const maxDuration = Math.max(...programs.map(expectedDurationMs), ...groupMs.values());
  const chaosUntil = t0 + 30_000 + maxDuration + 20 * 60_000;
  const deadline = chaosUntil + maxDuration + 60 * 60_000;

  const actions: Action[] = [];
  const schedule = (at: number, label: string, fn: () => void, runId?: string) => {
    actions.push({ at, label, fn, ...(runId !== undefined ? { runId } : {}) });
    actions.sort((a, b) => a.at - b.at);
  };
  const worker = () => driverRandom.pick(workers);
  const started = new Set<string>();
  const pushes = new Map<string, PushState>();
  const lostReported = new Set<string>();

  const start = (program: Program) => {
    const w = worker();
    const { promise } = chaos.run('start', w.engine.workerId, program.id, () => w.engine.start(program.task, program, { runId: program.id }));
    promise.then(
      () => {
        started.add(program.id);
        say(`started ${program.id}`);
      },
      (error) => {
        say(`start ${program.id} failed: ${(error as Error).message}; retrying`);
        schedule(clock.now() + 5_000, `start ${program.id}`, () => start(program));
      },
    );
  };
  const cancel = (runId: string) => {
    const w = worker();
    const { promise } = chaos.run('cancel', w.engine.workerId, runId, () => w.runs.cancel(runId));
    promise.then(
      () => say(`cancelled ${runId}`),
      (error) => {
        say(`cancel ${runId} failed: ${(error as Error).message}; retrying`);
        schedule(clock.now() + 10_000, `cancel ${runId}`, () => cancel(runId));
      },
    );
  };
  /** Decoys pushed before the run gets to its waits: a wait registering then must skip them (lookback, grace). */
  const earlyDecoys = (program: Program) => {
    const w = worker();
    chaos.run('push', w.engine.workerId, program.id, async () => {
      for (const spec of eventSpecs(program)) {
        for (const decoy of spec.decoys) await w.events.push(spec.key, decoy.payload, decoy.scope !== undefined ? { scope: decoy.scope } : {}).catch(() => undefined);
      }
    }).promise.catch(() => undefined);
  };
  for (const program of programs) {
    const at = t0 + driverRandom.int(0, 30_000);
    if (driverRandom.chance(0.4)) schedule(at, `early decoys ${program.id}`, () => earlyDecoys(program));
    schedule(at, `start ${program.id}`, () => start(program));
    if (program.cancel) schedule(at + driverRandom.int(0, 120_000), `cancel ${program.id}`, () => cancel(program.id));
  }

  const deliver = (d: Delivery): Promise<unknown>[] => {
    const targets = driverRandom.chance(TWO_WORKERS) ? workers : [worker()];
    if (targets.length > 1) concurrentDeliveries++;
    const started: Promise<unknown>[] = [];
    for (const w of targets) {
      deliveries++;
      const { promise } = chaos.run('process', w.engine.workerId, d.runId, () => w.engine.process(d.runId));
      started.push(promise);
      promise.then(
        (result) => {
          processResults[result] = (processResults[result] ?? 0) + 1;
          say(`${w.engine.workerId} ${d.runId} (${d.source}): ${result}`);
        },
        (error) => {
          processResults.threw = (processResults.threw ?? 0) + 1;
          if (!(error instanceof InjectedFault) && !(error instanceof CrashError) && !isStaleReplayAbort(error)) {
            failures.push(`unexpected error processing ${d.runId} on ${w.engine.workerId}: ${(error as Error)?.stack ?? String(error)}`);
          }
          // SQS makes a failed message visible again after its visibility timeout; an in-process listener drops it.
          const again = driverRandom.chance(0.5);
          say(`${w.engine.workerId} ${d.runId} (${d.source}) threw ${(error as Error).message}${again ? '; redelivery in 30 s' : '; message dropped'}`);
          if (again) queue.redeliver(d.runId, clock.now() + 30_000);
        },
      );
    }
    return started;
  };

  /**
   * Virtual time passing inside a step (a slow side effect): due timers fire, and their messages are delivered
   * at once, while the step's replay still holds its run. Waits for those deliveries, but only a few turns: a
   * stalled operation is released by the main loop only.
   */
  const elapse = async (ms: number) => {
    // First let the step's siblings (the sleep) take their positions and schedule their timers.
    for (let i = 0; i < 20; i++) await tick();
    clock.fireDue(clock.now() + ms);
    await queue.pump();
    const running = queue.takeReady().flatMap((d) => deliver(d));
    let turns = 0;
    const few = (async () => {
      while (turns++ < 50) await tick();
    })();
    await Promise.race([Promise.allSettled(running), few]);
  };

  const pushOp = (runId: string, spec: EventSpec, state: PushState, push: boolean) => {
    const w = worker();
    state.scheduled = false;
    state.lastAttemptAt = clock.now();
    const { promise } = chaos.run('push', w.engine.workerId, runId, async () => {
      if (!state.decoysDone) {
        for (const decoy of spec.decoys) {
          await w.events.push(spec.key, decoy.payload, decoy.scope !== undefined ? { scope: decoy.scope } : {}).catch(() => undefined);
        }
        state.decoysDone = true;
      }
      if (!push) return;
      if (driverRandom.chance(0.5)) {
        await w.events.push(spec.key, spec.payload, spec.scope !== undefined ? { scope: spec.scope } : {});
        return;
      }
      // As EventBridge delivers it to the router Lambda (a retried delivery is a new push here, as above).
      routerPushes++;
      const detail = { key: spec.key, payload: spec.payload, eventId: randomUUID(), time: clock.now(), ...(spec.scope !== undefined ? { scope: spec.scope } : {}) };
      const routed = await routers.get(w)!(eventBridgeEvent(detail));
      routerResumes += routed.resumed.length;
    });
    promise.then(
      () => say(`pushed ${spec.key} for ${runId}${push ? '' : ' (decoys only)'}`),
      (error) => {
        // EventBridge retries a failed router invocation; a user whose push rejected pushes again.
        say(`push ${spec.key} for ${runId} failed: ${(error as Error).message}; retrying in 10 s`);
        if (!state.scheduled) {
          state.scheduled = true;
          schedule(clock.now() + 10_000, `push ${spec.key}`, () => pushOp(runId, spec, state, push), runId);
        }
      },
    );
  };

  /** Looks at the store as the outside world would: which waits need their events, which runs are stranded. */
  const observe = async (quiescent: boolean) => {
    const runs = await parts.inspect.listRuns({});
    let open = 0;
    for (const run of runs) {
      if (TERMINAL_STATUSES.includes(run.status)) continue;
      open++;
      const loaded = await parts.inspect.loadRun(run.runId);
      if (!loaded) continue;
      const program = JSON.parse(run.input) as Program;
      // DAG task runs carry the workflow's input; their own waits are not the driver's business.
      if (program.dag && run.workflowRunId) continue;
      const specs = eventSpecs(program);
      const decided = new Set(loaded.entries.filter((e) => e.attempt === run.attempt).map((e) => e.position));
      for (const w of loaded.waiters) {
        if (w.attempt !== run.attempt || w.type !== 'event' || decided.has(w.position) || w.satisfiedAt !== undefined) continue;
        const spec = specs.find((s) => s.key === w.eventKey && s.expr === (w.expression ?? ''));
        if (!spec) continue;
        const key = `${run.runId}|${w.attempt}|${w.position}|${w.index}`;
        let state = pushes.get(key);
        if (!state) {
          state = { lastAttemptAt: -Infinity, scheduled: false, decoysDone: false };
          pushes.set(key, state);
        }
        if (state.scheduled) continue;
        state.scheduled = true;
        const push = shouldPush(program, spec);
        const at = state.lastAttemptAt === -Infinity ? clock.now() + driverRandom.int(0, 10_000) : Math.max(clock.now(), state.lastAttemptAt + REPUSH_AFTER_MS);
        if (!push && state.decoysDone) continue; // nothing more to send; stays scheduled so it is not re-planned
        const s = state;
        schedule(at, `push ${spec.key}`, () => pushOp(run.runId, spec, s, push), run.runId);
      }
      // Parked with nothing left to wait for: every registered wait is resolved in the journal, no timer is due
      // for it (no wakeAt) and no wake is pending. Nobody will ever replay it: a lost wake-up. (A stale replay
      // may leave waiters at positions the run has passed; those are garbage, not what the run waits for.)
      if (quiescent && !actions.some((a) => a.runId === run.runId) && run.status === 'WAITING' && run.wake === run.seen && run.wakeAt === undefined) {
        const live = new Set(runs.filter((r) => !TERMINAL_STATUSES.includes(r.status)).map((r) => r.runId));
        const relevant = program.dag ? loaded.waiters : loaded.waiters.filter((w) => w.attempt === run.attempt);
        const pending = relevant.filter((w) => {
          if (program.dag) {
            // A workflow run: a gate matters while its task is undecided.
            if (w.position < DAG_POSITION_BASE) return false;
            const task = DAG_TASKS[Math.floor((w.position - DAG_POSITION_BASE) / 4)];
            const state = loaded.tasks.find((t) => t.task === task);
            return state === undefined || state.status === 'WAITING';
          }
          return true;
        });
        const unresolved = pending.filter((w) => !decided.has(w.position) || (w.type === 'child' && live.has(w.childRunId!)));
        const taskRunsLive = program.dag && loaded.tasks.some((t) => t.taskRunId !== undefined && live.has(t.taskRunId));
        if (pending.length > 0 && unresolved.length === 0 && !taskRunsLive && !lostReported.has(run.runId)) {
          lostReported.add(run.runId);
          failures.push(
            `lost wake-up: run ${run.runId} is WAITING (wake ${run.wake} = seen ${run.seen}, no wakeAt) although every wait it registered is resolved in the journal (positions ${[...new Set(pending.map((w) => w.position))].join(', ')}); no message and no sweep will replay it`,
          );
        }
      }
    }
    return open;
  };

  const sweep = async () => {
    sweeps++;
    const candidates = await parts.inspect.sweepCandidates(clock.now(), 1000);
    const queued = new Set(queue.pendingRunIds());
    for (const run of candidates) {
      if (run.status !== 'WAITING' || queued.has(run.runId) || chaos.ops.size) continue;
      // A wake (event, child, cancel) whose message never came, or a timer that fired while the run was being
      // replayed and whose message was dropped, leaving the run parked on a due time only the sweeper acts on.
      const timerDropped = run.wakeAt !== undefined && run.wakeAt <= clock.now() && timerDues.get(run.runId)?.has(run.wakeAt) === true;
      if (run.wake !== run.seen || timerDropped) {
        wakeupsRepairedBySweeper++;
        say(`sweeper repairs a wake-up of ${run.runId} (wake ${run.wake}/${run.seen}, wakeAt ${run.wakeAt})`);
      }
    }
    const w = worker();
    const { promise } = chaos.run('sweep', w.engine.workerId, undefined, () => w.engine.sweep());
    promise.then(
      (n) => {
        sweepRedispatched += n;
        if (n > 0) say(`sweep re-dispatched ${n}`);
      },
      (error) => say(`sweep failed: ${(error as Error).message}`),
    );
  };

  const realTime = profile.realDelayMs > 0 || parts.transport !== undefined;
  const tick = () => new Promise<void>((r) => (realTime ? setTimeout(r, 2) : setImmediate(r)));
  const settle = async () => {
    let stable = 0;
    for (let spins = 0; ; spins++) {
      if (process.env.CHAOS_DEBUG && spins % 20000 === 19999) {
        console.error(`settle spinning: ${[...chaos.ops].map((o) => `op ${o.id} ${o.kind} ${o.runId} calls ${o.calls} pending ${o.pending} stalled ${o.stalled} crashed ${o.crashed}`).join('; ')}`);
        console.error(trace.slice(-10).join('\n'));
      }
      if (chaos.ops.size === 0) {
        await tick();
        await tick();
        if (chaos.ops.size === 0) return;
        continue;
      }
      if (chaos.onlyStalledLeft()) {
        if (++stable >= 8) return;
      } else stable = 0;
      await Promise.race([...[...chaos.ops].map((o) => o.over), tick()]);
    }
  };

  let nextSweep = t0 + SWEEP_EVERY_MS;
  let rounds = 0;
  let lastFinish = t0;
  let stuck = false;
  for (;;) {
    if (process.env.CHAOS_DEBUG && rounds % 1000 === 0) {
      console.error(`round ${rounds} t+${(clock.now() - t0) / 1000}s ops ${chaos.ops.size} queue ${queue.size} actions ${actions.length} deliveries ${deliveries} faults ${chaos.log.length}`);
      console.error(trace.slice(-15).join('\n'));
    }
    if (++rounds > 200_000) {
      failures.push('the driver made no progress in 200,000 rounds');
      break;
    }
    if (chaos.enabled && clock.now() >= chaosUntil) {
      chaos.enabled = false;
      say('chaos window over: quiet period');
    }
    await queue.pump();
    const ready = queue.takeReady();
    for (const d of driverRandom.shuffle(ready)) deliver(d);
    const due = actions.filter((a) => a.at <= clock.now());
    actions.splice(0, due.length);
    for (const a of due) a.fn();
    await settle();
    const open = await observe(chaos.ops.size === 0 && queue.size === 0);
    if (queue.nextAt() !== undefined && queue.nextAt()! <= clock.now()) continue;
    if (actions.length && actions[0]!.at <= clock.now()) continue;
    if (parts.transport && (await queue.pump()) > 0) continue;
    if (started.size === programs.length && open === 0 && chaos.ops.size === 0) {
      lastFinish = clock.now();
      break;
    }
    const candidates = [clock.nextDue(), nextSweep, queue.nextAt(), actions[0]?.at, chaos.nextStallRelease()].filter((t): t is number => t !== undefined);
    const next = Math.max(clock.now(), Math.min(...candidates));
    if (next > deadline) {
      stuck = true;
      break;
    }
    clock.fireDue(next);
    chaos.releaseStalls(clock.now());
    if (clock.now() >= nextSweep) {
      nextSweep += SWEEP_EVERY_MS;
      await sweep();
    }
  }
  if (stuck) failures.push(`liveness: runs were not all finished ${((deadline - t0) / 60_000).toFixed(0)} virtual minutes after the start (chaos stopped at ${((chaosUntil - t0) / 60_000).toFixed(0)})`);
  chaos.enabled = false;
  chaos.releaseStalls(Infinity);
  await settle();

  const eventKeys = new Set<string>();
  const collect = (p: Program) => {
    for (const s of eventSpecs(p)) eventKeys.add(s.key);
    for (const c of childPrograms(p)) collect(c);
  };
  programs.forEach(collect);
  const explained = (runId: string) => ledger.leftoversExplained(runId);
  const checked = await checkOutcomes(parts.inspect, programs, eventKeys, explained, (runId) => parts.rawEntries(runId));
  failures.push(...checked.failures);
  failures.push(...checkFlowInFlight(ledger.flowEntries, checked.snapshot, FLOW_MAX_RUNS));
  const strict = ![...chaos.counts.keys()].some((k) => TAINTING.has(k));
  const steps = ledger.checkSteps(
    new Map([...checked.snapshot].map(([id, s]) => [id, { run: s.run, entries: s.entries }])),
    strict,
  );
  failures.push(...ledger.violations);
  if ((profile.name === 'clean' || profile.name === 'races') && wakeupsRepairedBySweeper > 0) {
    failures.push(`${wakeupsRepairedBySweeper} wake-up(s) had to be repaired by the sweeper in a schedule where no message is lost`);
  }

  // Aftershock: every event again, every timer fired, sweeps: finished runs must not change.
  if (!stuck) {
    const before = checked.snapshot;
    const all = (p: Program): Program[] => [p, ...childPrograms(p).flatMap(all)];
    for (const p of programs.flatMap(all)) {
      for (const spec of eventSpecs(p)) {
        const w = worker();
        chaos.run('push', w.engine.workerId, p.id, () => w.events.push(spec.key, spec.payload, spec.scope !== undefined ? { scope: spec.scope } : {})).promise.catch(
          (error) => failures.push(`late push of ${spec.key} failed: ${(error as Error).message}`),
        );
      }
    }
    await settle();
    clock.fireDue(clock.now() + 4 * 86_400_000);
    await sweep();
    await settle();
    await queue.pump();
    for (const d of queue.takeReadyAll()) deliver(d);
    await settle();
    const after = await checkOutcomes(parts.inspect, programs, eventKeys, explained, (runId) => parts.rawEntries(runId));
    for (const [runId, b] of before) {
      const a = after.snapshot.get(runId);
      // A late event may resolve a left-behind waiter into the journal (and remove it); only faults explain those.
      const entriesChanged = a !== undefined && a.entries.length !== b.entries.length && !(b.waiters > 0 && explained(runId));
      if (!a || a.run.status !== b.run.status || a.run.output !== b.run.output || entriesChanged) {
        failures.push(`run ${runId} changed after it finished: ${b.run.status}/${b.entries.length} entries → ${a?.run.status}/${a?.entries.length} entries`);
      }
    }
    for (const f of after.failures) if (!checked.failures.includes(f)) failures.push(`after late events: ${f}`);
  }

  for (const w of workers) await w.close();
  await parts.close();
  return {
    seed,
    profile: profile.name,
    runs: programs.length,
    childRuns: [...checked.snapshot.values()].filter((s) => s.run.parent).length,
    faults: chaos.summary(),
    checks: checked.checks + steps.checked,
    failures,
    steps,
    virtualMs: clock.now() - t0,
    lastFinishMs: lastFinish - t0,
    deliveries,
    concurrentDeliveries,
    routerPushes,
    routerResumes,
    sweeps,
    sweepRedispatched,
    explainedLeftovers: checked.explainedLeftovers,
    wakeupsRepairedBySweeper,
    sweepIndex,
    processResults,
    programs,
    faultLog: chaos.log,
    trace,
  };
}

/** A replay that found a concurrent replay ahead of it aborts (the run's current owner carries on): expected after a stall. */
function isStaleReplayAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'DurableError' && /concurrent replay/.test(error.message);
}

/** A failing schedule, printed so it can be replayed with CHAOS_SEED. */
export function describeFailure(report: ScheduleReport, replay = `CHAOS_SEED=${report.seed} CHAOS_PROFILE=${report.profile} npx vitest run test/chaos/chaos.test.ts`): string {
  return [
    `chaos schedule failed: seed ${report.seed}, profile ${report.profile} (replay: ${replay})`,
    `failures (${report.failures.length}):`,
    ...report.failures.slice(0, 20).map((f) => `  - ${f}`),
    `faults: ${JSON.stringify(report.faults)}`,
    `programs:`,
    ...report.programs.map((p) => `  ${JSON.stringify(p)}`),
    `fault log (last 60 of ${report.faultLog.length}):`,
    ...report.faultLog.slice(-60).map((f) => `  #${f.seq} +${((f.at - Date.UTC(2030, 0, 1)) / 1000).toFixed(1)}s ${f.kind} ${f.call} run=${f.runId ?? '-'} op=${f.op ?? '-'}`),
    `trace (last 80 of ${report.trace.length}):`,
    ...report.trace.slice(-80).map((t) => `  ${t}`),
  ].join('\n');
}
