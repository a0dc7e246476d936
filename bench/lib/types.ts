/** What workloads return and the orchestrator prints and saves. */
import type { CapacitySnapshot } from '../cost/capacity-meter.ts';

export interface Figure {
  name: string;
  value: number;
  unit: string;
}

/** One workload measured on one system. */
export interface Row {
  /** W1 … W6, bundle. */
  workload: string;
  /** Which system: 'test env', 'embedded', 'AWS runner', 'AWS runner (skipTime)', 'DBOS', 'dynalite floor'. */
  system: string;
  figures: Figure[];
  /** Requests by `Service.Operation` the measured phase made (per operation where the workload says so). */
  requests?: Record<string, number>;
  /** DynamoDB capacity the measured phase consumed (embedded default only). */
  capacity?: CapacitySnapshot;
  /** Anything a reader needs to interpret the figures (sizes used, what was skipped and why). */
  notes?: string[];
  /** Raw data a chart or the cost model uses. */
  data?: unknown;
}

export interface BenchOptions {
  /** Small sizes for a fast smoke run (BENCH_QUICK=1). */
  quick: boolean;
  /** Which of our modes to run (BENCH_MODES=test,local). */
  modes: readonly ('test' | 'local')[];
  /** Run the peers (AWS's runner; DBOS when `pgUrl` is set). Off in quick mode unless BENCH_PEERS=1. */
  peers: boolean;
  /** PostgreSQL URL for the DBOS peer (PG_URL). */
  pgUrl: string | undefined;
  /** Workloads to run (BENCH_ONLY=W1,W5): all when empty. */
  only: readonly string[];
  /** Progress lines go here. */
  log(line: string): void;
}

export function figure(name: string, value: number, unit: string): Figure {
  return { name, value, unit };
}
