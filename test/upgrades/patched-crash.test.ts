/**
 * A crash right after a marker, before anything carried it: the one window where a marker can be lost (a wait's
 * waiters are written before the park that would carry the marker). The next replay must decide the same way,
 * or it would take the old branch under the waiters the patched branch registered.
 */
import { expect, test } from 'vitest';
import { Durable } from 'durable-tasks';
import { replayHistory } from 'durable-tasks/testing';
import { createMemoryBackend, VirtualClock } from '../../sdk/adapters/memory/index.ts';
import type { Backend } from '../../sdk/ports.ts';
import { delegatingStore } from '../support/env.ts';

test('a crash between a patched wait registering its waiters and the park: the marker is recorded again and the run stays on the patched branch', async () => {
  const clock = new VirtualClock();
  const base = createMemoryBackend(clock);
  let dieOnPark = true;
  const store = delegatingStore(base.store, {
    suspend: async (runId, intent) => {
      if (dieOnPark) {
        dieOnPark = false;
        throw new Error('worker killed before the park');
      }
      return base.store.suspend(runId, intent);
    },
  });
  const backend: Backend = { ...base, store };
  const durable = new Durable({ backend, embeddedWorker: 'listen', cancelPollMs: 0, leaseMs: 30_000, log: () => undefined });
  try {
    const task = durable.durableTask({
      name: 'approve',
      fn: async (_: {}, ctx) => (ctx.patched('v2') ? ctx.waitForEvent('approved-v2') : ctx.waitForEvent('approved-v1')),
    });
    const ref = await task.runNoWait({});
    await durable.idle();
    expect(dieOnPark).toBe(false);
    // The marker was lost with the park; the waiters of position 1 were written.
    expect((await durable.runs.get(ref.runId)).operations.map((o) => `${o.position}:${o.kind}:${o.name}:${o.status}`)).toEqual(['1:event:approved-v2:waiting']);
    // The history replay decides the same way on this history.
    await expect(replayHistory(task, await durable.runs.export(ref.runId))).resolves.toBeUndefined();
    clock.fireDue(clock.now() + 31_000);
    await durable.engine.sweep();
    await durable.idle();
    expect((await durable.runs.get(ref.runId)).operations.map((o) => `${o.position}:${o.kind}:${o.name}:${o.status}`)).toEqual([
      '0:patch:v2:done',
      '1:event:approved-v2:waiting',
    ]);
    await durable.events.push('approved-v2', { ok: true });
    expect(await ref.result()).toEqual({ ok: true });
  } finally {
    await durable.close();
  }
});
