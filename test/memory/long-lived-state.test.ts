/**
 * Per-run and per-poll state in long-lived objects is released (issue 13, item 1): `result()` listeners,
 * the engine's held cancels, the memory queue's waiting receivers.
 */
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, test } from 'vitest';
import { Durable } from 'durable-tasks';
import { createMemoryBackend, MemoryQueue, VirtualClock } from '../../sdk/adapters/memory/index.ts';
import { deferred } from '../support/env.ts';

const open: Durable[] = [];
afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
});

function client(options: { worker?: boolean; resultPollMs?: number } = {}) {
  const backend = createMemoryBackend(new VirtualClock());
  const durable = new Durable({
    backend,
    embeddedWorker: options.worker === false ? 'none' : 'listen',
    cancelPollMs: 0,
    log: () => undefined,
    ...(options.resultPollMs ? { resultPollMs: options.resultPollMs } : {}),
  });
  open.push(durable);
  return { durable, backend };
}

/** Listeners the engine's "finished here" emitter holds for a run (a private field: the same on old and new code). */
const resultListeners = (durable: Durable, runId: string) =>
  (durable.engine as unknown as { finished: { listenerCount(name: string): number } }).finished.listenerCount(runId);
const cancelsHeld = (durable: Durable) => (durable.engine as unknown as { cancelledHere: Set<string> }).cancelledHere.size;

describe('result() listeners', () => {
  test('given result() polling a parked run many times, then it holds one listener at most, and none once it returns', async () => {
    const { durable } = client({ resultPollMs: 2 });
    const task = durable.durableTask({ name: 'waits', fn: async (_: {}, ctx) => ctx.waitForEvent('go') });
    const ref = await task.runNoWait({});
    await durable.idle();
    const results = [ref.result(), ref.result()];
    await new Promise((r) => setTimeout(r, 150)); // ~75 polls each
    expect(resultListeners(durable, ref.runId)).toBeLessThanOrEqual(2);
    await durable.events.push('go', { ok: 1 });
    await expect(Promise.all(results)).resolves.toEqual([{ ok: 1 }, { ok: 1 }]);
    expect(resultListeners(durable, ref.runId)).toBe(0);
  });

  test('given a run that finishes while result() waits, then result() returns its output at once and leaves no listener', async () => {
    const { durable } = client({ resultPollMs: 60_000 });
    const gate = deferred();
    const task = durable.durableTask({ name: 'held', fn: async (_: {}, ctx) => ctx.step('s', async () => (await gate.promise, 7)) });
    const ref = await task.runNoWait({});
    const result = ref.result();
    await new Promise((r) => setTimeout(r, 20));
    gate.resolve();
    await expect(result).resolves.toBe(7); // announced in-process, not after a 60 s poll
    expect(resultListeners(durable, ref.runId)).toBe(0);
  });
});

describe('cancels held by the engine', () => {
  test('given runs cancelled while another process runs them, then this process holds none of their cancels', async () => {
    const { durable, backend } = client({ worker: false });
    const task = durable.durableTask({ name: 'elsewhere', fn: async (_: {}, ctx) => ctx.sleepFor('1h') });
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const ref = await task.runNoWait({});
      const now = backend.clock.now();
      await backend.store.updateRun(ref.runId, { set: { status: 'RUNNING', leaseOwner: 'other-worker/1', leaseUntil: now + 60_000 } });
      ids.push(ref.runId);
    }
    for (const id of ids) await durable.runs.cancel(id);
    expect(cancelsHeld(durable)).toBe(0);
    for (const id of ids) expect((await backend.store.getRun(id))?.cancelRequested).toBe(true);
  });

  test('given a run cancelled while its replay runs here, then the replay stops at its next durable call and the cancel is released', async () => {
    const { durable } = client();
    const inStep = deferred();
    const release = deferred();
    let after = false;
    const task = durable.durableTask({
      name: 'here',
      fn: async (_: {}, ctx) => {
        await ctx.step('a', async () => {
          inStep.resolve();
          await release.promise;
        });
        after = true;
        await ctx.step('b', async () => 1);
      },
    });
    const ref = await task.runNoWait({});
    await inStep.promise;
    await durable.runs.cancel(ref.runId);
    expect(cancelsHeld(durable)).toBe(1);
    release.resolve();
    await expect(ref.result()).rejects.toMatchObject({ name: 'RunCancelledError' });
    await durable.idle();
    expect(after).toBe(true);
    expect((await durable.runs.get(ref.runId))?.status).toBe('CANCELLED');
    expect(cancelsHeld(durable)).toBe(0);
  });
});

describe('memory store waiter index', () => {
  test('given runs that each waited on a key of their own and finished, then the index keeps no entry for their keys', async () => {
    const { durable, backend } = client();
    const task = durable.durableTask({ name: 'own-key', fn: async (input: { id: number }, ctx) => ctx.waitForEvent(`order:${input.id}`) });
    const refs = [];
    for (let id = 0; id < 20; id++) refs.push(await task.runNoWait({ id }));
    await durable.idle();
    for (let id = 0; id < 20; id++) await durable.events.push(`order:${id}`, { id });
    for (const [id, ref] of refs.entries()) expect(await ref.result()).toEqual({ id });
    expect((backend.store as unknown as { waiterIndex: Map<string, Set<string>> }).waiterIndex.size).toBe(0);
  });
});

describe('MemoryQueue.receive', () => {
  test('given many receives that time out on one long-lived signal, then no waiting receiver nor abort listener is left', async () => {
    const queue = new MemoryQueue(new VirtualClock());
    const polling = new AbortController();
    for (let i = 0; i < 100; i++) expect(await queue.receive(10, 1, polling.signal)).toEqual([]);
    expect((queue as unknown as { waiting: unknown[] }).waiting.length).toBe(0);
    expect(getEventListeners(polling.signal, 'abort').length).toBe(0);
  });

  test('given a receive woken by a message, and one by an abort, then each returns and leaves nothing behind', async () => {
    const queue = new MemoryQueue(new VirtualClock());
    const polling = new AbortController();
    const woken = queue.receive(10, 60_000, polling.signal);
    await queue.dispatch({ runId: 'r1' });
    expect((await woken).map((m) => m.message?.runId)).toEqual(['r1']);
    const aborted = queue.receive(10, 60_000, polling.signal);
    polling.abort();
    expect(await aborted).toEqual([]);
    expect((queue as unknown as { waiting: unknown[] }).waiting.length).toBe(0);
    expect(getEventListeners(polling.signal, 'abort').length).toBe(0);
  });
});
