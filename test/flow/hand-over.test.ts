/**
 * The hand-over's interleavings, forced step by step on the memory adapters (sdk/core/flow/hand-over.ts).
 */
import { describe, expect, test } from 'vitest';
import { createMemoryBackend, VirtualClock } from '../../sdk/adapters/memory/index.ts';
import { MemoryFlowStore } from '../../sdk/adapters/memory/memory-flow.ts';
import { newRunRecord } from '../../sdk/core/run-record.ts';
import { queueEntry, release } from '../../sdk/core/flow/hand-over.ts';
import type { FlowStore, RunRecord } from '../../sdk/ports.ts';

async function setUp() {
  const backend = createMemoryBackend(new VirtualClock());
  const flow = new MemoryFlowStore();
  const make = async (runId: string, status: RunRecord['status']) => {
    const run: RunRecord = { ...newRunRecord({ runId, name: 't', input: '{}' }, 0), status, flow: { slot: 't#k' } };
    await backend.store.createRun(run);
    return run;
  };
  return { backend, flow, make };
}

describe('hand-over', () => {
  test('a run that queues between the release looking at an empty queue and freeing the slot gets the slot (no lost wake-up)', async () => {
    const { backend, flow, make } = await setUp();
    const a = await make('a', 'SUCCEEDED');
    const b = await make('b', 'QUEUED');
    expect((await flow.acquireSlot('t#k', 'a', 1)).result).toBe('acquired');
    let first = true;
    // b's gate runs right after the release's first look: it queues, then finds the key still full (a holds it).
    const racing: FlowStore = Object.assign(Object.create(flow) as FlowStore, {
      queueHead: async (slot: string, limit: number) => {
        const head = await flow.queueHead(slot, limit);
        if (first) {
          first = false;
          await flow.enqueue('t#k', queueEntry(b));
          expect((await flow.acquireSlot('t#k', 'b', 1)).result).toBe('full');
        }
        return head;
      },
    });
    await release(a, { backend }, racing, 1);
    expect((await flow.acquireSlot('t#k', 'probe', 0)).state.holders).toEqual(['b']);
    expect(await flow.queueHead('t#k', 5)).toEqual([]);
    expect((await backend.store.getRun('b'))!.wake).toBe(1);
  });

  test('a queued run that ended before its hand-over passes the slot on to the next one', async () => {
    const { backend, flow, make } = await setUp();
    const a = await make('a', 'SUCCEEDED');
    const gone = await make('gone', 'CANCELLED');
    const next = await make('next', 'QUEUED');
    await flow.acquireSlot('t#k', 'a', 1);
    await flow.enqueue('t#k', { ...queueEntry(gone), createdAt: 1 });
    await flow.enqueue('t#k', { ...queueEntry(next), createdAt: 2 });
    await release(a, { backend }, flow, 1);
    expect((await flow.acquireSlot('t#k', 'probe', 0)).state.holders).toEqual(['next']);
    expect(await flow.queueHead('t#k', 5)).toEqual([]);
  });

  test('two releasers racing for one queued run: one hands its slot over, the other frees its own', async () => {
    const { backend, flow, make } = await setUp();
    const a = await make('a', 'SUCCEEDED');
    const b = await make('b', 'SUCCEEDED');
    await make('c', 'QUEUED');
    await flow.acquireSlot('t#k', 'a', 2);
    await flow.acquireSlot('t#k', 'b', 2);
    await flow.enqueue('t#k', { runId: 'c', priority: 1, createdAt: 0 });
    await Promise.all([release(a, { backend }, flow, 2), release(b, { backend }, flow, 2)]);
    expect((await flow.acquireSlot('t#k', 'probe', 0)).state.holders).toEqual(['c']);
    expect(await flow.queueHead('t#k', 5)).toEqual([]);
  });
});
