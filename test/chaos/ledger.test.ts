/**
 * The ledger's account of waiters left behind a finished run (invariants.ts `leftoversExplained`): which faults
 * explain them. Seed 2 / no-throw-after: a fork's replay registered a timeout's waiters with a write that stalled
 * past the lease, its background stream write failed meanwhile so the replay gave up, another worker finished the
 * run, and only then did the stalled write land. No code of the worker that gave up is left to see it (as a Lambda's
 * request still in flight when it returned): the leftovers are explained, as for a worker that died mid-cleanup.
 */
import { describe, expect, test } from 'vitest';
import { VirtualClock } from '../../sdk/adapters/memory/index.ts';
import type { RunRecord, Waiter } from '../../sdk/ports.ts';
import { Chaos, type FaultKind } from './faults.ts';
import { Ledger } from './invariants.ts';
import { CLEAN } from './profiles.ts';
import { Random } from './random.ts';

const waiters = [{ runId: 'r1', attempt: 0, position: 4, index: 0, type: 'sleep' }] as unknown as Waiter[];

/**
 * A replay registers waiters with a write held until released; it gives up (`abandon`) or awaits the write. Then
 * another worker finishes the run, then the held write lands. Whether the ledger explains the run's leftovers.
 */
async function lateWaiters(options: { fault?: FaultKind; abandon: boolean; landsBeforeFinish?: boolean }): Promise<boolean> {
  const chaos = new Chaos(CLEAN, new Random(1), new VirtualClock(), 31_000);
  const ledger = new Ledger(chaos);
  chaos.observer = ledger;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let landed: Promise<unknown> | undefined;
  const stale = chaos.run('process', 'worker-b', 'r1', async () => {
    if (options.fault) chaos.record(options.fault, 'store.registerWaiters', 'r1', chaos.current());
    landed = chaos.call('store', 'registerWaiters', [waiters], () => held);
    if (options.abandon) throw new Error('chaos: injected throw-before at store.putStreamChunk');
    await landed;
  });
  if (options.abandon) await expect(stale.promise).rejects.toThrow('putStreamChunk');
  if (options.landsBeforeFinish) {
    release();
    await landed;
  }
  const finished = { runId: 'r1', status: 'SUCCEEDED' } as RunRecord;
  await chaos.run('process', 'worker-a', 'r1', () => chaos.call('store', 'finish', ['r1', {}], async () => finished)).promise;
  release();
  await landed;
  await stale.promise.catch(() => undefined);
  return ledger.leftoversExplained('r1');
}

describe('waiters a finished run was left with, explained by the faults', () => {
  test('a stalled write of a replay that gave up, landing after the run finished, explains them (seed 2 / no-throw-after)', async () => {
    expect(await lateWaiters({ fault: 'stall', abandon: true })).toBe(true);
  });

  test('not when the replay was still waiting for its write: a stale replay that finds the run finished cleans up itself', async () => {
    expect(await lateWaiters({ fault: 'stall', abandon: false })).toBe(false);
  });

  test('not without a fault, and not when the write landed before the run finished (the finisher removes those)', async () => {
    expect(await lateWaiters({ abandon: true })).toBe(false);
    expect(await lateWaiters({ fault: 'stall', abandon: true, landsBeforeFinish: true })).toBe(false);
  });
});
