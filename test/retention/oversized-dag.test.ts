/**
 * A DAG task state holds a task's output next to the event data that let it run: together they can be over
 * DynamoDB's 400 KB item limit although each is within 256 KiB. Every orchestrator pass would write it again:
 * the workflow run fails with PayloadTooLargeError instead. On memory and on DynamoDB (dynalite).
 */
import { afterAll, describe, expect, test } from 'vitest';
import { PayloadTooLargeError } from 'durable-tasks';
import { awsHarnessFactory, memoryHarness, type Harness, type HarnessFactory } from '../contract/harness.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

const backends: [string, HarnessFactory][] = [
  ['memory', memoryHarness],
  ['aws (dynalite + fauxqs)', (...args) => aws.factory(...args)],
];

describe.each(backends)('an oversized DAG task state on %s', (_name, factory) => {
  test('a task output of 250 KB after a 200 KB triggering event fails the workflow run once', { timeout: 60_000 }, async () => {
    const h: Harness = await factory();
    try {
      let calls = 0;
      const wf = h.durable.workflow({ name: 'big-state' });
      wf.task({
        name: 'gated',
        waitFor: { eventKey: 'big' },
        fn: async () => {
          calls++;
          return 'o'.repeat(250_000);
        },
      });
      const ref = await wf.runNoWait({});
      await h.settle();
      await h.durable.events.push('big', 'p'.repeat(200_000));
      await h.settle();
      const run = await h.durable.runs.get(ref.runId);
      expect(run.status).toBe('FAILED');
      expect(run.error?.name).toBe('PayloadTooLargeError');
      await expect(ref.result()).rejects.toBeInstanceOf(PayloadTooLargeError);
      expect(calls).toBe(1);
      expect(await h.backend.store.sweepCandidates(h.clock.now() + 3_600_000, 10)).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
