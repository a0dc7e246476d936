/** What one chaos schedule reports: its figures, its failures, and all it takes to replay and read a failure. */
import type { FaultRecord } from './faults.ts';
import type { StepStats } from './invariants.ts';
import type { LaggingIndexStats } from './lagging-index.ts';
import type { Program } from './workload/program.ts';

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
  /** Fork runs made by the fork workload (forks.ts), and fork calls that failed (and were made again). */
  forks: number;
  failedForks: number;
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

/** A failing schedule, printed so it can be replayed with CHAOS_SEED. */
export function describeFailure(report: ScheduleReport, replay = `CHAOS_SEED=${report.seed} CHAOS_PROFILE=${report.profile} npx vitest run test/chaos/chaos.test.ts`): string {
  // CHAOS_LOG=<n>: print the last n faults and trace lines instead (a large n prints them all).
  const faultLines = Number(process.env.CHAOS_LOG) || 60;
  const traceLines = Number(process.env.CHAOS_LOG) || 80;
  return [
    `chaos schedule failed: seed ${report.seed}, profile ${report.profile} (replay: ${replay})`,
    `failures (${report.failures.length}):`,
    ...report.failures.slice(0, 20).map((f) => `  - ${f}`),
    `faults: ${JSON.stringify(report.faults)}`,
    `programs:`,
    ...report.programs.map((p) => `  ${JSON.stringify(p)}`),
    `fault log (last ${Math.min(faultLines, report.faultLog.length)} of ${report.faultLog.length}):`,
    ...report.faultLog.slice(-faultLines).map((f) => `  #${f.seq} +${((f.at - Date.UTC(2030, 0, 1)) / 1000).toFixed(1)}s ${f.kind} ${f.call} run=${f.runId ?? '-'} op=${f.op ?? '-'}`),
    `trace (last ${Math.min(traceLines, report.trace.length)} of ${report.trace.length}):`,
    ...report.trace.slice(-traceLines).map((t) => `  ${t}`),
  ].join('\n');
}
