import type { ScheduleReport } from './report.ts';

/** The figures of a chaos run: runs, injected faults by kind, outcomes checked, failures. */
export function summarize(label: string, reports: readonly ScheduleReport[]): string {
  const sum = (f: (r: ScheduleReport) => number) => reports.reduce((n, r) => n + f(r), 0);
  const faults: Record<string, number> = {};
  const causes: Record<string, number> = {};
  const results: Record<string, number> = {};
  for (const r of reports) {
    for (const [k, v] of Object.entries(r.faults)) faults[k] = (faults[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.steps.reexecutionsByCause)) causes[k] = (causes[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.processResults)) results[k] = (results[k] ?? 0) + v;
  }
  const byProfile: Record<string, number> = {};
  const reexecutionsByProfile: Record<string, number> = {};
  for (const r of reports) {
    byProfile[r.profile] = (byProfile[r.profile] ?? 0) + r.runs;
    reexecutionsByProfile[r.profile] = (reexecutionsByProfile[r.profile] ?? 0) + r.steps.reexecutions;
  }
  const dags = reports.reduce((n, r) => n + r.programs.filter((p) => p.dag).length, 0);
  const cancels = reports.reduce((n, r) => n + r.programs.filter((p) => p.cancel).length, 0);
  return [
    `chaos ${label}: ${reports.length} schedules, ${sum((r) => r.runs)} runs (${dags} DAG workflow runs, ${cancels} cancelled by the driver) + ${sum((r) => r.childRuns)} child and task runs (by profile: ${JSON.stringify(byProfile)})`,
    `  injected faults: ${sum((r) => Object.values(r.faults).reduce((a, b) => a + b, 0))} ${JSON.stringify(faults)}`,
    `  outcomes checked: ${sum((r) => r.checks)} assertions; step attempts checked ${sum((r) => r.steps.checked)}, executions ${sum((r) => r.steps.executions)}, re-executions ${sum((r) => r.steps.reexecutions)} (by profile ${JSON.stringify(reexecutionsByProfile)}; the lost executions' workers suffered ${JSON.stringify(causes)})`,
    `  deliveries ${sum((r) => r.deliveries)} (to both workers at once: ${sum((r) => r.concurrentDeliveries)}), process results ${JSON.stringify(results)}`,
    `  pushes through the router handler ${sum((r) => r.routerPushes)}, runs it resumed itself ${sum((r) => r.routerResumes)}`,
    `  forks (runs.fork from a step, forks.ts) ${sum((r) => r.forks)}, fork calls that failed and were made again ${sum((r) => r.failedForks)}`,
    `  sweeps ${sum((r) => r.sweeps)}, re-dispatched ${sum((r) => r.sweepRedispatched)}, wake-ups repaired by the sweeper ${sum((r) => r.wakeupsRepairedBySweeper)}, sweeps answered by the lagging index from an earlier snapshot ${sum((r) => r.sweepIndex.stale)} (from the present ${sum((r) => r.sweepIndex.fresh)}), finished runs with waiters left by a worker that died mid-cleanup ${sum((r) => r.explainedLeftovers)}`,
    `  virtual time: longest schedule ${(Math.max(...reports.map((r) => r.virtualMs)) / 3_600_000).toFixed(1)} h, latest finish ${(Math.max(...reports.map((r) => r.lastFinishMs)) / 3_600_000).toFixed(1)} h`,
    `  failures: ${reports.filter((r) => r.failures.length).length} schedules (${reports.filter((r) => r.failures.length).map((r) => `${r.seed}/${r.profile}`).join(', ') || 'none'})`,
  ].join('\n');
}
