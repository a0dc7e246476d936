/**
 * The throttling simulation (bench/sim/): the three loads of issue 19 on a simulated AWS account that throttles at
 * the published quotas, and the modelled AWS figures beside AWS durable functions'. One row per load and one for
 * the modelled figures.
 */
import { parkedLoad, startsLoad, waitersLoad, type LoadResult } from '../sim/loads.ts';
import { modelledFigures } from '../sim/modelled.ts';
import { figure, type BenchOptions, type Row } from '../lib/types.ts';

function loadRow(r: LoadResult): Row {
  return {
    workload: 'SIM',
    system: `sim: ${r.load}`,
    figures: [
      figure('runs', r.runs, 'runs'),
      figure('runs/s (simulated)', r.runsPerSecond, 'runs/s'),
      figure('p50', r.p50Ms, 'ms'),
      figure('p99', r.p99Ms, 'ms'),
      figure('lost', r.lost, 'runs'),
      figure('duplicated', r.duplicated, 'runs'),
      figure('step re-runs', r.stepReruns, 'steps'),
      figure('throttled attempts', Object.values(r.throttled).reduce((a, b) => a + b, 0), 'attempts'),
      figure('SDK retries', r.sdkRetries, 'attempts'),
    ],
    notes: [`scale 1/${Math.round(1 / r.scale)}; Lambda peak ${r.lambdaPeak} of ${r.lambdaLimit}; throttled ${JSON.stringify(r.throttled)}; hot ${JSON.stringify(r.hot)}`, ...r.notes],
    data: r,
  };
}

export async function sim(options: BenchOptions): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [name, load] of [['starts', startsLoad], ['parked', parkedLoad], ['waiters', waitersLoad]] as const) {
    options.log(`  sim: ${name}…`);
    const r = await load(options.quick);
    options.log(`    ${r.runs} runs, ${r.runsPerSecond} runs/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, lost ${r.lost}, duplicated ${r.duplicated}, throttled ${JSON.stringify(r.throttled)}`);
    rows.push(loadRow(r));
  }
  options.log('  sim: modelled figures…');
  const m = await modelledFigures(options.quick);
  options.log(`    ${m.steps} sequential steps: ${m.modelledStepsPerSecond} steps/s modelled (${m.modelledMsPerStep} ms/step), ${m.simulatedStepsPerSecond} simulated; event -> result p50 ${m.eventToResultP50Ms} ms; AWS durable functions ${m.awsDurableFunctions.stepsPerSecond} steps/s`);
  rows.push({
    workload: 'SIM',
    system: 'sim: modelled',
    figures: [
      figure(`${m.steps} sequential steps, modelled`, m.modelledStepsPerSecond, 'steps/s'),
      figure('ms per step, modelled', m.modelledMsPerStep, 'ms'),
      figure('DynamoDB requests per step', m.requestsPerStep, 'requests'),
      figure('steps/s, simulated', m.simulatedStepsPerSecond, 'steps/s'),
      figure('event -> resumed result, p50', m.eventToResultP50Ms, 'ms'),
      figure('event -> resumed result, p99', m.eventToResultP99Ms, 'ms'),
      figure('AWS durable functions (published)', m.awsDurableFunctions.stepsPerSecond, 'steps/s'),
    ],
    notes: [`AWS durable functions: ${m.awsDurableFunctions.stepsPerSecond} steps/s, ${m.awsDurableFunctions.medianMsPerStep} ms median per step (${m.awsDurableFunctions.source})`],
    data: m,
  });
  return rows;
}
