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
import { eventBridgeEvent } from '../support/aws-events.ts';
import { TERMINAL_STATUSES } from '../../sdk/ports.ts';
import type { Delivery } from './chaos-queue.ts';
import { CrashError, InjectedFault } from './faults.ts';
import { planForks } from './forks.ts';
import { lostWakeup } from './lost-wakeup.ts';
import type { FaultProfile } from './profiles.ts';
import type { ScheduleReport } from './report.ts';
import { aftershock, judge } from './verdict.ts';
import { buildWorld, type BackendFactory } from './world.ts';
import { generateProgram } from './workload/generate.ts';
import { eventSpecs, expectedDurationMs, shouldPush } from './workload/oracle.ts';
import type { EventSpec, Program } from './workload/program.ts';

export interface ScheduleOptions {
  seed: number;
  runs: number;
  profile: FaultProfile;
  factory?: BackendFactory;
  /** @default 30 s */
  leaseMs?: number;
}

const SWEEP_EVERY_MS = 60_000;
const REPUSH_AFTER_MS = 60_000;
const TWO_WORKERS = 0.15;

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
  const world = await buildWorld({ seed, profile, leaseMs, ...(options.factory ? { factory: options.factory } : {}), elapse: (ms) => elapse(ms) });
  const { clock, random, workloadRandom, driverRandom, chaos, parts, queue, timerDues, sweepIndex, workers, routers } = world;
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
  // A stream of its own, so the other streams (and so every earlier seed's schedule) are unchanged by it.
  const forkRandom = random.fork('forks');
  const forkPlans = planForks(programs, forkRandom);
  const forkScheduled = new Set<string>();
  const forked = new Set<string>();
  let failedForks = 0;
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
  /** Forks a finished run from its planned step; a failed fork call (a fault, a crash mid-copy) is made again. */
  const fork = (sourceId: string) => {
    const plan = forkPlans.get(sourceId)!;
    const w = forkRandom.pick(workers);
    const { promise } = chaos.run('fork', w.engine.workerId, sourceId, () => w.runs.fork(sourceId, { fromStep: plan.fromStep, ...(plan.key ? { idempotencyKey: plan.key } : {}) }));
    promise.then(
      (ref) => {
        forked.add(sourceId);
        say(`forked ${sourceId} from '${plan.fromStep}': ${ref.runId}`);
      },
      (error) => {
        failedForks++;
        say(`fork ${sourceId} failed: ${(error as Error).message}; retrying`);
        schedule(clock.now() + 10_000, `fork ${sourceId}`, () => fork(sourceId));
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
      if (run.status === 'SUCCEEDED' && forkPlans.has(run.runId) && !forkScheduled.has(run.runId)) {
        forkScheduled.add(run.runId);
        schedule(clock.now() + forkRandom.int(0, 60_000), `fork ${run.runId}`, () => fork(run.runId), run.runId);
      }
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
      // for it (no wakeAt) and no wake is pending. Nobody will ever replay it: a lost wake-up.
      if (quiescent && !actions.some((a) => a.runId === run.runId) && run.status === 'WAITING' && run.wake === run.seen && run.wakeAt === undefined && !lostReported.has(run.runId)) {
        const lost = lostWakeup(run, loaded, program, decided, runs);
        if (lost) {
          lostReported.add(run.runId);
          failures.push(lost);
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
    if (started.size === programs.length && open === 0 && chaos.ops.size === 0 && forked.size === forkScheduled.size) {
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

  const verdict = await judge({ world, profile, programs, forkPlans, forked, stuck, wakeupsRepairedBySweeper, failures });
  const { checked, steps, forkCheck } = verdict;
  if (!stuck) await aftershock(world, programs, verdict, { worker, settle, sweep, deliver }, failures);

  for (const w of workers) await w.close();
  await parts.close();
  return {
    seed,
    profile: profile.name,
    runs: programs.length,
    childRuns: [...checked.snapshot.values()].filter((s) => s.run.parent).length,
    faults: chaos.summary(),
    checks: checked.checks + steps.checked + forkCheck.checks,
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
    forks: forkCheck.forks,
    failedForks,
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
