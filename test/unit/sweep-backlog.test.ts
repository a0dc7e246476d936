/**
 * During a backlog the dispatch messages of QUEUED runs are merely waiting in the queue: the sweeper must not
 * re-send each of them every minute (duplicate messages and invocations that deepen the backlog), yet a run whose
 * message was really lost must still be re-sent at the first sweep past `sweepQueuedAfterMs`. On memory and on the
 * AWS adapters over dynalite + fauxqs, with nothing consuming the queue.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { Durable } from '../../sdk/durable.ts';
import { createMemoryBackend, VirtualClock } from '../../sdk/adapters/memory/index.ts';
import { redispatchQueued } from '../../sdk/core/sweep-policy.ts';
import type { Backend } from '../../sdk/ports.ts';
import { awsHarnessFactory } from '../contract/harness.ts';

const RUNS = 40;
const MINUTES = 30;

/** Starts RUNS runs nobody consumes, sweeps every minute for MINUTES minutes; returns the messages sent per run. */
async function backlog(durable: Durable, clock: VirtualClock, sent: () => number): Promise<number> {
  const task = durable.durableTask({ name: 'queued', fn: async () => 1 });
  for (let i = 0; i < RUNS; i++) await task.runNoWait({});
  expect(sent()).toBe(RUNS);
  for (let minute = 1; minute <= MINUTES; minute++) {
    clock.fireDue(clock.now() + 60_000);
    await durable.engine.sweep();
  }
  return sent() / RUNS;
}

describe('given runs waiting in a backlog for 30 minutes, swept every minute', () => {
  test('then (memory) each is re-sent at 1, 2, 4, 8 and 16 minutes, not every minute', async () => {
    const clock = new VirtualClock();
    const base = createMemoryBackend(clock);
    let sent = 0;
    const dispatcher: Backend['dispatcher'] = {
      dispatch: async () => void sent++,
      receive: async () => [],
    };
    const durable = new Durable({ backend: { ...base, dispatcher }, embeddedWorker: 'none', log: () => undefined });
    expect(await backlog(durable, clock, () => sent)).toBe(1 + 5);
    await durable.close();
  });

  const aws = awsHarnessFactory();
  afterAll(() => aws.stop());
  test('then (aws adapters) the same: 6 messages per run in 30 minutes instead of 31', async () => {
    const h = await aws.factory(undefined, { embeddedWorker: false });
    const tracked = h.backend.dispatcher as unknown as { sent: number };
    expect(await backlog(h.durable, h.clock, () => tracked.sent)).toBe(1 + 5);
    await h.close();
  });
});

describe('given a run whose message was lost', () => {
  test('then the first sweep past the threshold re-sends it, whatever the sweep period', () => {
    for (const period of [5_000, 15_000, 60_000, 300_000]) {
      // Sweeps at multiples of `period`: the first one at or after 60 s re-dispatches.
      let first: number | undefined;
      for (let t = period; t <= 600_000 && first === undefined; t += period) if (redispatchQueued(t, 60_000, period)) first = t;
      expect(first, String(period)).toBe(Math.ceil(60_000 / period) * period);
    }
  });

  test('then every doubling is crossed exactly once by a sequence of sweeps', () => {
    const at: number[] = [];
    for (let t = 7_000; t <= 3_600_000; t += 7_000) if (redispatchQueued(t, 60_000, 7_000)) at.push(t);
    expect(at.map((t) => Math.floor(Math.log2(t / 60_000)))).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('given a sweep that fails while dispatching', () => {
  test('then the next sweep re-sends what it did not (its window is not taken as done)', async () => {
    const clock = new VirtualClock();
    const base = createMemoryBackend(clock);
    let failing = false;
    let sent = 0;
    const dispatcher: Backend['dispatcher'] = {
      dispatch: async () => {
        if (failing) throw new Error('SQS throttled');
        sent++;
      },
      receive: async () => [],
    };
    const durable = new Durable({ backend: { ...base, dispatcher }, embeddedWorker: 'none', log: () => undefined });
    const task = durable.durableTask({ name: 'queued', fn: async () => 1 });
    await task.runNoWait({});
    clock.fireDue(clock.now() + 30_000);
    expect(await durable.engine.sweep()).toBe(0);
    clock.fireDue(clock.now() + 40_000);
    failing = true;
    await expect(durable.engine.sweep()).rejects.toThrow('SQS throttled');
    failing = false;
    clock.fireDue(clock.now() + 30_000);
    expect(await durable.engine.sweep()).toBe(1); // age 100 s: the crossing at 60 s is still owed
    expect(sent).toBe(2);
    await durable.close();
  });
});
