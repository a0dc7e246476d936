/**
 * The end of a chaos schedule: the oracle and the invariants checked against the store once everything has
 * settled (outcomes, forks, flow control, side effects, wake-ups), then the aftershock: every event pushed again,
 * every timer fired, a sweep, every message delivered; no finished run may change.
 */
import type { Durable } from 'durable-tasks';
import type { Delivery } from './chaos-queue.ts';
import { TAINTING } from './faults.ts';
import { checkForks, type ForkPlan } from './forks.ts';
import { checkFlowInFlight, checkOutcomes, type StepStats } from './invariants.ts';
import type { FaultProfile } from './profiles.ts';
import type { World } from './world.ts';
import { childPrograms, eventSpecs } from './workload/oracle.ts';
import { FLOW_MAX_RUNS, type Program } from './workload/program.ts';

export interface VerdictInput {
  world: World;
  profile: FaultProfile;
  programs: Program[];
  forkPlans: ReadonlyMap<string, ForkPlan>;
  /** Sources whose fork call succeeded. */
  forked: ReadonlySet<string>;
  /** The schedule missed its liveness bound. */
  stuck: boolean;
  wakeupsRepairedBySweeper: number;
  /** The schedule's failures; the checks add theirs. */
  failures: string[];
}

export type Checked = Awaited<ReturnType<typeof checkOutcomes>>;

export interface Verdict {
  checked: Checked;
  steps: StepStats;
  forkCheck: ReturnType<typeof checkForks>;
  /** Every event key a program (or a child program) waits on. */
  eventKeys: Set<string>;
  /** Whether a fault explains what a finished run left behind. */
  explained: (runId: string) => boolean;
}

/** Checks every outcome and invariant once the schedule has settled. */
export async function judge(input: VerdictInput): Promise<Verdict> {
  const { world, profile, programs, forkPlans, forked, stuck, wakeupsRepairedBySweeper, failures } = input;
  const { chaos, ledger, parts } = world;
  const eventKeys = new Set<string>();
  const collect = (p: Program) => {
    for (const s of eventSpecs(p)) eventKeys.add(s.key);
    for (const c of childPrograms(p)) collect(c);
  };
  programs.forEach(collect);
  const explained = (runId: string) => ledger.leftoversExplained(runId);
  const checked = await checkOutcomes(parts.inspect, programs, eventKeys, explained, (runId) => parts.rawEntries(runId));
  failures.push(...checked.failures);
  for (const [runId, s] of checked.snapshot) if (typeof s.run.metadata?.forkedFrom === 'string') ledger.forked(runId, s.run.metadata.forkedFrom);
  const forkCheck = checkForks(checked.snapshot, forkPlans, programs, ledger);
  failures.push(...forkCheck.failures);
  if (!stuck && forkCheck.forks < forked.size) failures.push(`${forked.size} fork call(s) succeeded but ${forkCheck.forks} fork run(s) exist`);
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
  return { checked, steps, forkCheck, eventKeys, explained };
}

/** What the aftershock needs of the driver. */
export interface DriverMoves {
  worker(): Durable;
  settle(): Promise<void>;
  sweep(): Promise<void>;
  deliver(d: Delivery): unknown;
}

/** Every event again, every timer fired, sweeps: finished runs must not change. */
export async function aftershock(world: World, programs: Program[], verdict: Verdict, driver: DriverMoves, failures: string[]): Promise<void> {
  const { chaos, clock, queue, parts } = world;
  const { checked, eventKeys, explained } = verdict;
  const before = checked.snapshot;
  const all = (p: Program): Program[] => [p, ...childPrograms(p).flatMap(all)];
  for (const p of programs.flatMap(all)) {
    for (const spec of eventSpecs(p)) {
      const w = driver.worker();
      chaos.run('push', w.engine.workerId, p.id, () => w.events.push(spec.key, spec.payload, spec.scope !== undefined ? { scope: spec.scope } : {})).promise.catch(
        (error) => failures.push(`late push of ${spec.key} failed: ${(error as Error).message}`),
      );
    }
  }
  await driver.settle();
  clock.fireDue(clock.now() + 4 * 86_400_000);
  await driver.sweep();
  await driver.settle();
  await queue.pump();
  for (const d of queue.takeReadyAll()) driver.deliver(d);
  await driver.settle();
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
