/**
 * The invariants a chaos schedule must keep (../../../shared/ARCHITECTURE.md), checked against the store
 * after the schedule, plus a ledger of every step side effect and every journal write seen while it ran.
 *
 * Side effects, precisely: each execution of a step function is recorded with the driver operation
 * (worker) that ran it and the journal snapshot its replay loaded. Then
 * - a recorded outcome names the execution that produced it, and user code only ever saw that outcome;
 * - no replay executes a step whose outcome (or a later retry state) was in the journal it loaded;
 * - per step attempt, at most one execution ran in an operation that suffered no fault; with no fault at
 *   all in the schedule, exactly one ran. Executions beyond one are re-executions, counted by the fault that
 *   explains them (a write that failed before or after landing, a crash, a stall past the lease).
 */
import type { JournalEntry, RunRecord, RunStore } from '../../sdk/ports.ts';
import { TERMINAL_STATUSES } from '../../sdk/ports.ts';
import { CrashError, runIdOf, TAINTING, type CallObserver, type Chaos, type FaultKind, type Op } from './faults.ts';
import { isLedgerWrite, storeCallEffect } from './port-methods.ts';
import type { StepLedger } from './workload/interpret.ts';
import { attemptsOf, childPrograms, expectedOutcome, expectedStream } from './workload/oracle.ts';
import type { Program } from './workload/program.ts';

interface Execution {
  x: string;
  ok: boolean;
  op: Op | undefined;
  seq: number;
}

interface StepRecord {
  seq: number;
  final: boolean;
  stepAttempt: number;
}

const stepKey = (runId: string, attempt: number, step: string) => `${runId}|${attempt}|${step}`;

export interface StepStats {
  /** Step attempts with a recorded outcome that were checked. */
  checked: number;
  executions: number;
  /** Executions beyond the first, by the fault kinds of the operations that ran them. */
  reexecutions: number;
  reexecutionsByCause: Record<string, number>;
}

export class Ledger implements StepLedger, CallObserver {
  readonly violations: string[] = [];
  private readonly executionLog = new Map<string, Execution[]>();
  private readonly records = new Map<string, StepRecord[]>();
  private readonly observations = new Map<string, Set<string>>();
  private readonly replays = new WeakMap<object, { loadSeq: number | undefined }>();
  /** Winning journal writes per `${runId}|${attempt}|${position}`. */
  private readonly wins = new Map<string, number>();
  private nextExecution = 0;
  /** When each run turned terminal (call sequence of the write). */
  private readonly terminalSeq = new Map<string, number>();
  /** Finished runs that a write of an abandoned operation reached after they turned terminal (see leftoversExplained). */
  private readonly abandonedWrites = new Set<string>();
  writes = 0;
  /** Fork runs (runs.fork) and the run each was forked from: their copied step entries are the source's executions. */
  private readonly forkSources = new Map<string, string>();

  /** Flow-controlled runs: when their function was first entered, and their concurrency key. */
  readonly flowEntries = new Map<string, { at: number; group: string }>();

  constructor(private readonly chaos: Chaos) {}

  /** Declares `runId` a fork of `sourceRunId` (attempt 0 of the source: the only one the fork workload forks). */
  forked(runId: string, sourceRunId: string): void {
    this.forkSources.set(runId, sourceRunId);
  }

  /** How many times a step's side effect ran in a run's attempt (all step attempts). */
  executions(runId: string, attempt: number, step: string): number {
    const prefix = `${stepKey(runId, attempt, step)}|`;
    let n = 0;
    for (const [key, list] of this.executionLog) if (key.startsWith(prefix)) n += list.length;
    return n;
  }

  /**
   * A fork's step entry copied from its source (it never ran in the fork): its outcome is one of the source's
   * executions, which the source's own entry accounts for.
   */
  private copiedFromSource(runId: string, entry: JournalEntry): boolean {
    const source = this.forkSources.get(runId);
    if (source === undefined || this.executions(runId, entry.attempt, entry.name) > 0) return false;
    const prefix = `${stepKey(source, 0, entry.name)}|`;
    const execs = [...this.executionLog].filter(([key]) => key.startsWith(prefix)).flatMap(([, list]) => list);
    const x = entry.status === 'done' ? (JSON.parse(entry.result ?? '{}') as { x?: string }).x : undefined;
    return execs.length > 0 && (x === undefined || execs.some((e) => e.x === x));
  }

  flowEntered(runId: string, group: string): void {
    if (!this.flowEntries.has(runId)) this.flowEntries.set(runId, { at: this.chaos.now(), group });
  }

  replayStarted(ctx: object, runId: string): void {
    this.replays.set(ctx, { loadSeq: this.chaos.current()?.loads.get(runId) });
  }

  execute(ctx: object, runId: string, attempt: number, step: string, stepAttempt: number, ok: boolean): string {
    const op = this.chaos.current();
    if (op?.crashed) throw new CrashError(`step '${step}' (the worker is dead)`);
    const key = stepKey(runId, attempt, step);
    const loadSeq = this.replays.get(ctx)?.loadSeq;
    if (loadSeq !== undefined) {
      const stale = (this.records.get(key) ?? []).find((r) => r.seq < loadSeq && (r.final || r.stepAttempt > stepAttempt));
      if (stale) {
        this.violations.push(
          `step ${key} attempt ${stepAttempt} executed by op ${op?.id} although the journal it loaded (seq ${loadSeq}) held its ${stale.final ? 'outcome' : `retry state ${stale.stepAttempt}`} (seq ${stale.seq})`,
        );
      }
    }
    const x = `x${++this.nextExecution}`;
    const list = this.executionLog.get(`${key}|${stepAttempt}`) ?? [];
    list.push({ x, ok, op, seq: this.chaos.seq });
    this.executionLog.set(`${key}|${stepAttempt}`, list);
    return x;
  }

  observed(runId: string, attempt: number, step: string, execution: string): void {
    const key = stepKey(runId, attempt, step);
    const set = this.observations.get(key) ?? new Set();
    set.add(execution);
    this.observations.set(key, set);
  }

  completed(port: string, method: string, args: unknown[], result: unknown, seq: number, op?: Op): void {
    if (port !== 'store') return;
    if (isLedgerWrite(method)) this.writes++;
    // A write still in flight (stalled) when its worker gave up on the operation, landing after the run finished.
    if (isLedgerWrite(method) && op?.done && [...op.faults].some((k) => TAINTING.has(k))) {
      const runId = runIdOf('store', method, args);
      if (runId !== undefined && this.terminalSeq.has(runId)) this.abandonedWrites.add(runId);
    }
    const effect = storeCallEffect(method, args, result);
    if (effect.kind === 'run-updated') {
      const { run } = effect;
      if (run && TERMINAL_STATUSES.includes(run.status) && !this.terminalSeq.has(run.runId)) this.terminalSeq.set(run.runId, seq);
    }
    if (effect.kind === 'entry-put') {
      const { runId, entry, won } = effect;
      if (!won) return;
      // Per generation: a keyed fork made again after a crash mid-copy writes its copies again under a new one.
      const key = `${runId}|${entry.generation ?? ''}|${entry.attempt}|${entry.position}`;
      const wins = (this.wins.get(key) ?? 0) + 1;
      this.wins.set(key, wins);
      if (wins > 1) this.violations.push(`journal position ${key} was won ${wins} times (first-wins broken)`);
      if (entry.kind === 'step') this.record(runId, entry, seq);
    }
    if (effect.kind === 'retry-updated' && effect.applied) this.record(effect.runId, effect.entry, seq);
  }

  /**
   * Whether a fault explains garbage left behind a finished run (waiters, a late journal entry): a worker died or
   * failed after the run turned terminal, before its cleanup (the finisher, or a stale replay that registered
   * waiters after the finisher cleaned up). Nothing but a later matching event removes those.
   * Also a write of an operation its worker had already given up on after a fault (the write stalled past the lease,
   * then the replay failed on another call): it lands whenever it lands, and no code of that worker is left to see it
   * (a Lambda's request in flight when it returned). Seed 2 / no-throw-after: a fork's replay registered a timeout's
   * waiters (stalled) while its background stream write failed; another worker finished the run meanwhile.
   */
  leftoversExplained(runId: string): boolean {
    if (this.abandonedWrites.has(runId)) return true;
    const at = this.terminalSeq.get(runId);
    if (at === undefined) return false;
    return this.chaos.log.some((f) => f.runId === runId && f.seq >= at && TAINTING.has(f.kind));
  }

  private record(runId: string, entry: JournalEntry, seq: number) {
    const key = stepKey(runId, entry.attempt, entry.name);
    const list = this.records.get(key) ?? [];
    list.push({ seq, final: entry.status !== 'retrying', stepAttempt: entry.stepAttempt ?? 0 });
    this.records.set(key, list);
  }

  /** Checks every step of the journals in `entriesByRun` against the executions seen. */
  checkSteps(entriesByRun: Map<string, { run: RunRecord; entries: JournalEntry[] }>, strict: boolean): StepStats {
    const stats: StepStats = { checked: 0, executions: 0, reexecutions: 0, reexecutionsByCause: {} };
    const recordedKeys = new Set<string>();
    for (const [runId, { run, entries }] of entriesByRun) {
      for (const entry of entries) {
        if (entry.kind !== 'step') continue;
        const key = stepKey(runId, entry.attempt, entry.name);
        recordedKeys.add(key);
        if (this.copiedFromSource(runId, entry)) {
          stats.checked++;
          continue;
        }
        const lastAttempt = entry.stepAttempt ?? 0;
        const upTo = entry.status === 'retrying' ? lastAttempt - 1 : lastAttempt;
        for (let a = 0; a <= upTo; a++) {
          const execs = this.executionLog.get(`${key}|${a}`) ?? [];
          stats.checked++;
          stats.executions += execs.length;
          if (execs.length === 0) {
            this.violations.push(`step ${key} attempt ${a} has a recorded outcome but never ran`);
            continue;
          }
          const clean = execs.filter((e) => !tainted(e.op));
          if (clean.length > 1) {
            this.violations.push(`step ${key} attempt ${a} ran ${clean.length} times in operations that suffered no fault (${clean.map((e) => `op ${e.op?.id}`).join(', ')})`);
          }
          if (strict && execs.length !== 1) this.violations.push(`step ${key} attempt ${a} ran ${execs.length} times in a schedule without faults`);
          if (execs.length > 1) {
            stats.reexecutions += execs.length - 1;
            // Each execution whose outcome was not the one recorded was lost: say why (the fault its worker suffered).
            const recordedX = a === lastAttempt && entry.status === 'done' ? (JSON.parse(entry.result ?? '{}') as { x?: string }).x : undefined;
            const lost = recordedX === undefined ? execs.slice(0, -1) : execs.filter((e) => e.x !== recordedX);
            for (const e of lost) {
              const cause = causes(e.op)[0] ?? 'concurrent replay';
              stats.reexecutionsByCause[cause] = (stats.reexecutionsByCause[cause] ?? 0) + 1;
            }
          }
        }
        if (entry.status === 'done') {
          const { x } = JSON.parse(entry.result ?? '{}') as { x?: string };
          const execs = this.executionLog.get(`${key}|${lastAttempt}`) ?? [];
          if (!execs.some((e) => e.x === x && e.ok)) this.violations.push(`step ${key}: the recorded outcome (${x}) is not one a successful execution produced`);
          for (const seen of this.observations.get(key) ?? []) {
            if (seen !== x) this.violations.push(`step ${key}: user code saw outcome ${seen} but the journal recorded ${x} (two outcomes for one position)`);
          }
        }
      }
      void run;
    }
    // A side effect that ran in a healthy operation of a run that was not cancelled must have its outcome recorded.
    for (const [execKey, execs] of this.executionLog) {
      const key = execKey.slice(0, execKey.lastIndexOf('|'));
      if (recordedKeys.has(key)) continue;
      const runId = key.slice(0, key.indexOf('|'));
      const run = entriesByRun.get(runId)?.run;
      if (run?.status === 'CANCELLED') continue;
      const clean = execs.filter((e) => !tainted(e.op));
      if (clean.length > 0) this.violations.push(`step ${execKey} ran in a healthy operation but its outcome was never recorded (run ${run?.status ?? 'missing'})`);
    }
    return stats;
  }
}

function tainted(op: Op | undefined): boolean {
  if (!op) return false;
  for (const f of op.faults) if (TAINTING.has(f)) return true;
  return false;
}

const CAUSE_ORDER: readonly FaultKind[] = ['crash-before', 'crash-after', 'stall', 'throw-after', 'throw-before'];

/** The tainting faults an operation suffered, most telling first. */
function causes(op: Op | undefined): FaultKind[] {
  return op ? CAUSE_ORDER.filter((f) => op.faults.has(f)) : [];
}

export interface OutcomeCheck {
  runs: number;
  /** Individual assertions made. */
  checks: number;
}

/** Every run in the store, with its journal and waiters. */
export async function snapshot(store: RunStore) {
  const runs = await store.listRuns({});
  const loaded = new Map<string, { run: RunRecord; entries: JournalEntry[]; waiters: number }>();
  for (const run of runs) {
    const l = await store.loadRun(run.runId);
    if (l) loaded.set(run.runId, { run: l.run, entries: l.entries, waiters: l.waiters.length });
  }
  return loaded;
}

/**
 * Checks every run against the oracle and the journal and waiter invariants. Returns the failures (empty
 * when all hold) and how many assertions were made.
 */
export async function checkOutcomes(
  store: RunStore,
  programs: readonly Program[],
  eventKeys: ReadonlySet<string>,
  explained: (runId: string) => boolean,
  rawEntries?: (runId: string) => Promise<JournalEntry[]>,
): Promise<{ failures: string[]; checks: number; explainedLeftovers: number; snapshot: Awaited<ReturnType<typeof snapshot>> }> {
  let explainedLeftovers = 0;
  const failures: string[] = [];
  let checks = 0;
  const check = (ok: boolean, message: () => string) => {
    checks++;
    if (!ok) failures.push(message());
  };
  const all = await snapshot(store);
  const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

  const verify = (runId: string, program: Program, parentCancelled: boolean) => {
    const slot = all.get(runId);
    check(slot !== undefined, () => `run ${runId} (${program.task}) does not exist`);
    if (!slot) return;
    const { run } = slot;
    const expected = expectedOutcome(program);
    const terminal = TERMINAL_STATUSES.includes(run.status);
    check(terminal, () => `run ${runId} is stuck in ${run.status} (attempt ${run.attempt}, wake ${run.wake}/${run.seen}, wakeAt ${run.wakeAt}, lease ${run.leaseOwner}@${run.leaseUntil})`);
    if (parentCancelled && run.status === 'CANCELLED') return;
    check(run.status === expected.status, () => `run ${runId}: status ${run.status}, expected ${expected.status}${run.error ? ` (error ${run.error.name}: ${run.error.message})` : ''}`);
    if (run.status !== expected.status) return;
    check(run.attempt === expected.attempt, () => `run ${runId}: attempt ${run.attempt}, expected ${expected.attempt}`);
    if (expected.status === 'SUCCEEDED') {
      const output = run.output === undefined ? undefined : JSON.parse(run.output);
      check(same(output, expected.output), () => `run ${runId}: output\n  ${JSON.stringify(output)}\nexpected\n  ${JSON.stringify(expected.output)}`);
    } else if (expected.status === 'FAILED') {
      check(run.error?.name === expected.error!.name && run.error?.message === expected.error!.message, () => `run ${runId}: error ${JSON.stringify(run.error && { name: run.error.name, message: run.error.message })}, expected ${JSON.stringify(expected.error)}`);
    } else {
      check(run.error?.name === 'RunCancelledError', () => `run ${runId}: cancelled with error ${run.error?.name}, expected RunCancelledError`);
    }
    // DAG task runs are checked through the workflow's output.
    if (program.dag) return;
    streamChecks.push(checkStream(store, run, program, run.status === 'CANCELLED').then((problems) => problems.forEach((p) => check(false, () => p))).then(() => void (checks++)));
    // One child run per runChild call per attempt, each with its own oracle.
    const children = [...all.values()].filter((s) => s.run.parent?.runId === runId).map((s) => s.run);
    const childOps = childPrograms(program);
    if (!program.cancel) {
      check(children.length === childOps.length * attemptsOf(program), () => `run ${runId}: ${children.length} child runs, expected ${childOps.length * attemptsOf(program)}`);
    } else {
      check(children.length <= childOps.length, () => `run ${runId}: ${children.length} child runs, at most ${childOps.length} expected`);
    }
    for (const child of children) {
      const childProgram = JSON.parse(child.input) as Program;
      verify(child.runId, childProgram, run.status === 'CANCELLED');
    }
  };
  const streamChecks: Promise<void>[] = [];
  for (const program of programs) verify(program.id, program, false);
  await Promise.all(streamChecks);

  for (const [runId, { run, entries, waiters }] of all) {
    // On the stored items, before `mergeJournal` (which keeps one entry per position, so could never show two), of
    // the run item's generation: a keyed fork made again after a crash mid-copy reuses the run id, and the first
    // call's copies stay behind under their own generation, hidden (they are not the run's journal).
    const raw = rawEntries ? (await rawEntries(runId)).filter((e) => e.generation === run.generation) : entries;
    const duplicates = duplicatePositions(runId, raw);
    check(duplicates.length === 0, () => duplicates.join('\n'));
    if (TERMINAL_STATUSES.includes(run.status)) {
      if (waiters > 0 && explained(runId)) explainedLeftovers++;
      else check(waiters === 0, () => `run ${runId} is ${run.status} but ${waiters} waiter(s) were left behind`);
    } else {
      check(false, () => `run ${runId} (${run.name}) is not terminal: ${run.status}`);
    }
  }
  for (const key of eventKeys) {
    const left = (await store.findWaiters(key)).filter((w) => {
      const status = all.get(w.runId)?.run.status;
      return (status === undefined || TERMINAL_STATUSES.includes(status)) && !explained(w.runId);
    });
    check(left.length === 0, () => `event key '${key}': ${left.length} waiter(s) of finished runs still indexed (${left.map((w) => w.runId).join(', ')})`);
  }
  return { failures, checks, explainedLeftovers, snapshot: all };
}

/**
 * The run's stream against the oracle: seqs 1..n with no gap; each attempt's chunks after the previous attempt's;
 * every chunk of every attempt exactly once; the run's own chunks in program order, each branch's in branch order.
 * A cancelled run may have stopped anywhere: what it put is a prefix of each sequence, still each chunk once.
 */
async function checkStream(store: RunStore, run: RunRecord, program: Program, cancelled: boolean): Promise<string[]> {
  const problems: string[] = [];
  const chunks = await store.readStream(run.runId, run.generation, 0, 100_000);
  const id = `run ${run.runId}: stream`;
  chunks.forEach((c, i) => {
    if (c.seq !== i + 1) problems.push(`${id} seq ${c.seq} at place ${i + 1} (a gap: a subscriber could read past a chunk)`);
  });
  const values = chunks.map((c) => JSON.parse(c.result!) as { tag: string; a: number });
  const keys = values.map((v) => `${v.a}:${v.tag}`);
  const dupes = keys.filter((k, i) => keys.indexOf(k) !== i);
  if (dupes.length) problems.push(`${id} repeats chunks ${[...new Set(dupes)].join(', ')}`);
  for (let i = 1; i < values.length; i++) if (values[i]!.a < values[i - 1]!.a) problems.push(`${id}: a chunk of attempt ${values[i]!.a} after one of attempt ${values[i - 1]!.a}`);
  const expected = expectedStream(program);
  const attempts = cancelled ? 1 : attemptsOf(program);
  const prefix = (got: string[], want: string[]) => (cancelled ? want.slice(0, got.length) : want).join(',') === got.join(',');
  for (let a = 0; a < attempts; a++) {
    const mine = values.filter((v) => v.a === a).map((v) => v.tag);
    const top = mine.filter((t) => t.startsWith('x'));
    if (!prefix(top, expected.top)) problems.push(`${id} attempt ${a}: run chunks ${top.join(',')}, expected ${expected.top.join(',')}`);
    let k = 0;
    for (const branch of expected.branches) {
      const got = mine.filter((t) => branch.includes(t));
      if (!prefix(got, branch)) problems.push(`${id} attempt ${a}: branch chunks ${got.join(',')}, expected ${branch.join(',')}`);
      k += got.length;
    }
    if (top.length + k !== mine.length) problems.push(`${id} attempt ${a}: chunks the program never puts: ${mine.join(',')}`);
  }
  if (values.some((v) => v.a >= attempts)) problems.push(`${id}: chunks of attempts past ${attempts - 1}`);
  return problems;
}

/**
 * Positions held by more than one journal entry item: `entries` are the items' own entries as stored (not their
 * carried copies, not merged). Two items at one (attempt, position) would be two recorded outcomes.
 */
export function duplicatePositions(runId: string, entries: readonly JournalEntry[]): string[] {
  const seen = new Map<string, JournalEntry>();
  const found: string[] = [];
  for (const e of entries) {
    const key = `${e.attempt}:${e.position}`;
    const first = seen.get(key);
    if (first) found.push(`run ${runId}: two journal entries at attempt ${e.attempt} position ${e.position} (${first.kind} '${first.name}' ${first.status}, ${e.kind} '${e.name}' ${e.status})`);
    else seen.set(key, e);
  }
  return found;
}

/** JSON with sorted keys, for comparisons that ignore key order. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * Never more than `maxRuns` flow-controlled runs of a key in flight: each run is in flight from the first time its
 * function was entered until its terminal write (`updatedAt`); at equal times an end comes before a start (the
 * slot is handed over after the finisher's terminal write).
 */
export function checkFlowInFlight(
  entries: ReadonlyMap<string, { at: number; group: string }>,
  runs: ReadonlyMap<string, { run: RunRecord }>,
  maxRuns: number,
): string[] {
  const failures: string[] = [];
  const byGroup = new Map<string, { at: number; delta: number; runId: string }[]>();
  for (const [runId, { at, group }] of entries) {
    const run = runs.get(runId)?.run;
    const events = byGroup.get(group) ?? [];
    events.push({ at, delta: 1, runId });
    if (run && TERMINAL_STATUSES.includes(run.status)) events.push({ at: run.updatedAt, delta: -1, runId });
    byGroup.set(group, events);
  }
  for (const [group, events] of byGroup) {
    events.sort((a, b) => a.at - b.at || a.delta - b.delta);
    let inFlight = 0;
    for (const e of events) {
      inFlight += e.delta;
      if (inFlight > maxRuns) failures.push(`concurrency key '${group}': ${inFlight} runs in flight at +${e.at} when ${e.runId} entered (maxRuns ${maxRuns})`);
    }
  }
  return failures;
}
