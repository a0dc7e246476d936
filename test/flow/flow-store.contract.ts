/**
 * The FlowStore contract (sdk/ports.ts), run on the memory store and on DynamoDB (dynalite): every count is
 * exact under concurrent requests, duplicates change nothing, the queue is ordered by priority then age.
 */
import { describe, expect, test } from 'vitest';
import type { FlowStore } from '../../sdk/ports.ts';

export type FlowStoreFactory = () => Promise<FlowStore>;

/** The holders of a slot (a take with room for none reads them back). */
async function holders(flow: FlowStore, slot: string): Promise<string[]> {
  return (await flow.acquireSlot(slot, 'probe', 0)).state.holders.sort();
}

export function flowStoreContract(name: string, make: FlowStoreFactory) {
  describe(`FlowStore: ${name}`, () => {
    test('30 concurrent takes of a maxRuns 3 key: exactly 3 win; a duplicate take by a holder changes nothing', async () => {
      const flow = await make();
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => flow.acquireSlot('t#k', `r${i}`, 3)));
      const winners = results.flatMap((r, i) => (r.result === 'acquired' ? [`r${i}`] : []));
      expect(winners).toHaveLength(3);
      expect(await holders(flow, 't#k')).toEqual(winners.sort());
      const again = await Promise.all(winners.map((id) => flow.acquireSlot('t#k', id, 3)));
      expect(again.map((r) => r.result)).toEqual(['held', 'held', 'held']);
      expect(await holders(flow, 't#k')).toHaveLength(3);
    });

    test('concurrent releases, takes and hand-overs never exceed maxRuns; duplicate releases and transfers count once', async () => {
      const flow = await make();
      for (const id of ['a', 'b', 'c']) expect((await flow.acquireSlot('t#k', id, 3)).result).toBe('acquired');
      const ops = await Promise.all([
        flow.releaseSlot('t#k', 'a'),
        flow.releaseSlot('t#k', 'a'),
        flow.transferSlot('t#k', 'b', 'x'),
        flow.transferSlot('t#k', 'b', 'x'),
        ...Array.from({ length: 10 }, (_, i) => flow.acquireSlot('t#k', `n${i}`, 3)),
      ]);
      expect(ops.slice(0, 2).filter((released) => released === true)).toHaveLength(1);
      expect(ops.slice(2, 4).filter((moved) => moved === 'moved')).toHaveLength(1);
      const newcomers = ops.slice(4).filter((r) => typeof r === 'object' && r.result === 'acquired');
      expect(newcomers).toHaveLength(1);
      const held = await holders(flow, 't#k');
      expect(held).toHaveLength(3);
      expect(held).toContain('c');
      expect(held).toContain('x');
      // The count follows the holders: one release makes room for exactly one more.
      await flow.releaseSlot('t#k', 'c');
      const after = await Promise.all(Array.from({ length: 5 }, (_, i) => flow.acquireSlot('t#k', `m${i}`, 3)));
      expect(after.filter((r) => r.result === 'acquired')).toHaveLength(1);
    });

    test('random interleavings on one key: holders never exceed maxRuns', async () => {
      const flow = await make();
      const live = new Set<string>();
      for (let round = 0; round < 8; round++) {
        const ops = Array.from({ length: 12 }, (_, i) => {
          const id = `r${round}-${i}`;
          const victims = [...live];
          const victim = victims[(round * 7 + i) % Math.max(1, victims.length)];
          if (i % 3 === 0 && victim) return flow.releaseSlot('t#k', victim).then(() => live.delete(victim));
          if (i % 3 === 1 && victim) return flow.transferSlot('t#k', victim, id).then((m) => m === 'moved' && (live.delete(victim), live.add(id)));
          return flow.acquireSlot('t#k', id, 4).then((r) => r.result === 'acquired' && live.add(id));
        });
        await Promise.all(ops);
        const held = await holders(flow, 't#k');
        expect(held.length).toBeLessThanOrEqual(4);
        expect(held).toEqual([...live].sort());
      }
    });

    test('markSlotChecked: one checker at a time', async () => {
      const flow = await make();
      const first = await Promise.all([flow.markSlotChecked('t#k', 10, undefined), flow.markSlotChecked('t#k', 11, undefined)]);
      expect(first.filter(Boolean)).toHaveLength(1);
      expect(await flow.markSlotChecked('t#k', 20, 5)).toBe(false);
    });

    test('the queue: highest priority first, then oldest; enqueue is idempotent; dequeue removes', async () => {
      const flow = await make();
      const entries = [
        { runId: 'low-old', priority: 1, createdAt: 1 },
        { runId: 'high-new', priority: 3, createdAt: 9 },
        { runId: 'low-new', priority: 1, createdAt: 5 },
        { runId: 'medium', priority: 2, createdAt: 7 },
        { runId: 'high-old', priority: 3, createdAt: 2 },
      ];
      for (const e of entries) await flow.enqueue('t#k', e);
      await flow.enqueue('t#k', entries[0]!);
      expect((await flow.queueHead('t#k', 10)).map((e) => e.runId)).toEqual(['high-old', 'high-new', 'medium', 'low-old', 'low-new']);
      await flow.dequeue('t#k', entries[4]!);
      expect((await flow.queueHead('t#k', 2)).map((e) => e.runId)).toEqual(['high-new', 'medium']);
      expect(await flow.queueHead('other#k', 2)).toEqual([]);
    });

    test('rate limits: 20 concurrent takes of a limit of 5 take exactly 5; the next window refills', async () => {
      const flow = await make();
      expect(await flow.consumeUnits('api', 1, 1_000)).toEqual({ type: 'missing' });
      await flow.upsertRateLimit('api', 5, 1_000);
      const taken = await Promise.all(Array.from({ length: 20 }, () => flow.consumeUnits('api', 1, 1_000)));
      expect(taken.filter((r) => r.type === 'taken')).toHaveLength(5);
      const spent = taken.find((r) => r.type === 'spent');
      expect(spent).toEqual({ type: 'spent', refillAt: 2_000, limit: 5 });
      expect(await flow.consumeUnits('api', 6, 1_500)).toEqual({ type: 'too-many', limit: 5 });
      const next = await Promise.all(Array.from({ length: 8 }, () => flow.consumeUnits('api', 1, 2_000)));
      expect(next.filter((r) => r.type === 'taken')).toHaveLength(5);
    });

    test('dynamic rate limits: created on first use, each key its own window', async () => {
      const flow = await make();
      const dyn = { limit: 2, durationMs: 60_000 };
      const a = await Promise.all(Array.from({ length: 5 }, () => flow.consumeUnits('user:a', 1, 0, dyn)));
      const b = await Promise.all(Array.from({ length: 5 }, () => flow.consumeUnits('user:b', 1, 0, dyn)));
      expect(a.filter((r) => r.type === 'taken')).toHaveLength(2);
      expect(b.filter((r) => r.type === 'taken')).toHaveLength(2);
      expect(await flow.consumeUnits('user:a', 3, 10, dyn)).toEqual({ type: 'too-many', limit: 2 });
      expect((await flow.consumeUnits('user:a', 1, 60_000, dyn)).type).toBe('taken');
    });
  });
}
