/**
 * `npm run bench`: every workload on the test environment and on the embedded default, the peers, the
 * cost model; prints a table and writes bench/results.json and bench/w5-resume-cost.svg.
 *
 * Environment:
 *   BENCH_QUICK=1        small sizes, for a smoke run (peers off unless BENCH_PEERS=1)
 *   BENCH_MODES=test     which of our modes to run (test, local; default both)
 *   BENCH_ONLY=W1,W5     which workloads (W1…W6, sim, bundle, soak; default all but soak, which runs only when named)
 *   BENCH_SOAK_RUNS      runs of the soak (default 100,000; 100 in quick mode); BENCH_SOAK_WINDOW runs at once (100);
 *   BENCH_SOAK_MINUTES   a time cap for the soak (no run starts after it)
 *   BENCH_PEERS=0|1      run AWS's LocalDurableTestRunner (and DBOS with PG_URL); default on unless quick
 *   PG_URL=postgres://…  run the DBOS peer on this PostgreSQL
 *   BENCH_OUT=dir        where results.json and the SVG go (default bench/)
 *   BENCH_W4_LOCAL_RUNS  runs for W4 on the embedded default (default 1,000)
 */
import { fileURLToPath } from 'node:url';
import { runBench } from './lib/orchestrate.ts';
import type { BenchOptions } from './lib/types.ts';

const env = process.env;
const quick = env.BENCH_QUICK === '1';
const list = (value: string | undefined) => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const modes = list(env.BENCH_MODES);
const options: BenchOptions = {
  quick,
  modes: (modes.length ? modes : ['test', 'local']).map((m) => {
    if (m !== 'test' && m !== 'local') throw new Error(`BENCH_MODES: unknown mode '${m}' (test, local)`);
    return m;
  }),
  peers: env.BENCH_PEERS === undefined ? !quick : env.BENCH_PEERS === '1',
  pgUrl: env.PG_URL || undefined,
  only: list(env.BENCH_ONLY).map((w) => (w.toLowerCase() === 'bundle' ? 'bundle' : w.toUpperCase())),
  log: (line) => process.stderr.write(`${line}\n`),
};
const outDir = env.BENCH_OUT ?? fileURLToPath(new URL('.', import.meta.url));

const { table } = await runBench(options, outDir);
process.stdout.write(`${table}\n`);
// Local servers and SDK clients are closed; anything left (a peer's handles) must not keep the process alive.
process.exit(0);
