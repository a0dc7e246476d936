/**
 * Peer on a real database: DBOS (`@dbos-inc/dbos-sdk`) on the PostgreSQL at PG_URL, in this process, on W1
 * (n sequential steps), W3 (50 × 10 in parallel) and W6 (send → parked workflow resumed and finished).
 * Only runs when PG_URL is set; loaded dynamically so the bench runs without it.
 */
import { median, round } from '../lib/stats.ts';
import { figure, type BenchOptions, type Row } from '../lib/types.ts';

export async function dbosPeer(options: BenchOptions, pgUrl: string, selected: (id: string) => boolean): Promise<Row[]> {
  let DBOS: typeof import('@dbos-inc/dbos-sdk').DBOS;
  try {
    ({ DBOS } = await import('@dbos-inc/dbos-sdk'));
  } catch (error) {
    options.log(`  DBOS skipped: ${(error as Error).message}`);
    return [];
  }
  const steps = options.quick ? 100 : 1_000;
  const sequential = DBOS.registerWorkflow(
    async (n: number) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await DBOS.runStep(async () => i, { name: `step-${i}` });
      return sum;
    },
    { name: 'bench-sequential' },
  );
  const parked = DBOS.registerWorkflow(
    async () => {
      await DBOS.runStep(async () => 0, { name: 'before' });
      return DBOS.recv<{ id: string }>('go', 60);
    },
    { name: 'bench-parked' },
  );
  DBOS.setConfig({ name: 'durable-tasks-bench', systemDatabaseUrl: pgUrl, logLevel: 'error' });
  await DBOS.launch();
  const rows: Row[] = [];
  try {
    if (selected('W1')) {
      const once = async () => {
        const started = performance.now();
        const handle = await DBOS.startWorkflow(sequential)(steps);
        await handle.getResult();
        return performance.now() - started;
      };
      await once();
      const samples: number[] = [];
      for (let i = 0; i < (options.quick ? 1 : 3); i++) samples.push(await once());
      const ms = median(samples);
      rows.push({
        workload: 'W1',
        system: 'DBOS',
        figures: [figure(`${steps} sequential steps`, round(ms), 'ms'), figure('throughput', Math.round((steps * 1000) / ms), 'steps/s')],
        notes: ['DBOS on PostgreSQL (PG_URL), median after a warm-up'],
        data: { samplesMs: samples.map((s) => round(s)) },
      });
    }
    if (selected('W3')) {
      const runs = options.quick ? 10 : 50;
      const per = options.quick ? 5 : 10;
      const once = async () => {
        const started = performance.now();
        const handles = await Promise.all(Array.from({ length: runs }, () => DBOS.startWorkflow(sequential)(per)));
        await Promise.all(handles.map((h) => h.getResult()));
        return performance.now() - started;
      };
      await once();
      const samples: number[] = [];
      for (let i = 0; i < (options.quick ? 1 : 3); i++) samples.push(await once());
      const ms = median(samples);
      rows.push({
        workload: 'W3',
        system: 'DBOS',
        figures: [figure(`${runs} runs × ${per} steps`, round(ms), 'ms'), figure('throughput', Math.round((runs * per * 1000) / ms), 'steps/s')],
        notes: ['DBOS on PostgreSQL (PG_URL)'],
      });
    }
    if (selected('W6')) {
      const samples: number[] = [];
      const total = options.quick ? 3 : 23;
      for (let i = 0; i < total; i++) {
        const handle = await DBOS.startWorkflow(parked)();
        await new Promise((r) => setTimeout(r, 50)); // let it reach recv
        const started = performance.now();
        await DBOS.send(handle.workflowID, { id: String(i) }, 'go');
        await handle.getResult();
        if (i >= 3 || options.quick) samples.push(performance.now() - started);
      }
      rows.push({
        workload: 'W6',
        system: 'DBOS',
        figures: [figure('push → resumed and finished, p50', round(median(samples), 2), 'ms')],
        notes: ['DBOS.send → recv → workflow result, median of the samples after 3 warm-up'],
        data: { samplesMs: samples.map((s) => round(s, 2)) },
      });
    }
  } finally {
    await DBOS.shutdown();
  }
  for (const row of rows) options.log(`  DBOS ${row.workload}: ${row.figures.map((f) => `${f.value} ${f.unit}`).join(', ')}`);
  return rows;
}
