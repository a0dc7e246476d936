/**
 * Peer: AWS's durable execution SDK (`@aws/durable-execution-sdk-js`) run by its testing package's
 * `LocalDurableTestRunner`, in this process, on W1's workload (n sequential `context.step` calls), with and
 * without `skipTime`. Loaded dynamically: the bench still runs where the dev dependencies are absent.
 */
import { median, round } from '../lib/stats.ts';
import { figure, type BenchOptions, type Row } from '../lib/types.ts';

export async function awsRunnerW1(options: BenchOptions, steps: number): Promise<Row[]> {
  let sdk: typeof import('@aws/durable-execution-sdk-js');
  let testing: typeof import('@aws/durable-execution-sdk-js-testing');
  try {
    sdk = await import('@aws/durable-execution-sdk-js');
    testing = await import('@aws/durable-execution-sdk-js-testing');
  } catch (error) {
    options.log(`  AWS runner skipped: ${(error as Error).message}`);
    return [];
  }
  const { withDurableExecution } = sdk;
  const { LocalDurableTestRunner } = testing;
  const handler = withDurableExecution(async (event: { n: number }, context) => {
    let sum = 0;
    for (let i = 0; i < event.n; i++) sum += await context.step(`step-${i}`, async () => i);
    return sum;
  });
  const rows: Row[] = [];
  for (const skipTime of [false, true]) {
    // skipTime makes each step take ~20 ms (its fake-timer loop), so fewer repetitions there.
    const runs = options.quick ? 1 : skipTime ? 2 : 5;
    await LocalDurableTestRunner.setupTestEnvironment({ skipTime });
    try {
      const once = async (n: number) => {
        const runner = new LocalDurableTestRunner({ handlerFunction: handler });
        const started = performance.now();
        const execution = await runner.run({ payload: { n } });
        const ms = performance.now() - started;
        if (execution.getStatus() !== 'SUCCEEDED' || execution.getResult() !== (n * (n - 1)) / 2) {
          throw new Error(`AWS runner: ${execution.getStatus()} ${JSON.stringify(execution.getResult())}`);
        }
        return ms;
      };
      await once(skipTime ? 10 : steps); // warm-up
      const samples: number[] = [];
      for (let i = 0; i < runs; i++) samples.push(await once(steps));
      const ms = median(samples);
      rows.push({
        workload: 'W1',
        system: skipTime ? 'AWS runner (skipTime)' : 'AWS runner',
        figures: [figure(`${steps} sequential steps`, round(ms), 'ms'), figure('throughput', Math.round((steps * 1000) / ms), 'steps/s')],
        notes: [`LocalDurableTestRunner, skipTime: ${skipTime}, median of ${runs} after a warm-up`],
        data: { samplesMs: samples.map((s) => round(s)) },
      });
      options.log(`  AWS runner skipTime=${skipTime}: ${round(ms)} ms`);
    } finally {
      await LocalDurableTestRunner.teardownTestEnvironment();
    }
  }
  return rows;
}
