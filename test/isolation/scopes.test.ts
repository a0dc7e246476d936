/**
 * Scope isolation: an event pushed in scope A never wakes a waiter in scope B (Hatchet's #4714: events
 * leaking across tenants), with many runs of several tenants waiting on the same key while runs start and
 * events are pushed concurrently; on the memory adapters and on the aws adapters over dynalite + fauxqs.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { awsHarnessFactory, memoryHarness, type Harness, type HarnessFactory } from '../contract/harness.ts';
import { Random } from '../chaos/random.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

const backends: [string, HarnessFactory, { runs: number; pushes: number }][] = [
  ['memory', memoryHarness, { runs: 200, pushes: 400 }],
  ['aws (dynalite + fauxqs)', (...args) => aws.factory(...args), { runs: 60, pushes: 120 }],
];

const KEY = 'order:paid';
const BUCKETS = 10;

interface Payload {
  tenant: string;
  n: number;
  seq: number;
}

describe.each(backends)('scope isolation on %s', (_name, factory, size) => {
  test('pushes in tenants A and B, interleaved with starts, only ever wake waiters of their own tenant; tenant C hears nothing', { timeout: 120_000 }, async () => {
    const h: Harness = await factory();
    try {
      const random = new Random(4714);
      const task = h.durable.durableTask({
        name: 'tenant-wait',
        fn: async (input: { tenant: string; n: number }, ctx) =>
          ctx.waitForEvent<Payload>(KEY, `input.n == ${input.n}`, { scope: input.tenant }),
      });
      const plan = Array.from({ length: size.runs }, (_, i) => ({ tenant: i % 10 === 9 ? 'C' : i % 2 === 0 ? 'A' : 'B', n: i % BUCKETS }));
      const pushes = Array.from({ length: size.pushes }, (_, seq): Payload => ({ tenant: random.chance(0.5) ? 'A' : 'B', n: random.int(0, BUCKETS - 1), seq }));
      const refs: { tenant: string; n: number; runId: string }[] = [];
      let seq = size.pushes;
      const push = (p: Payload) => h.durable.events.push(KEY, p, { scope: p.tenant });

      // Starts and pushes, in chunks, concurrently: registration races the router.
      const chunks = 10;
      for (let c = 0; c < chunks; c++) {
        const starting = plan.slice((c * plan.length) / chunks, ((c + 1) * plan.length) / chunks);
        const pushing = pushes.slice((c * pushes.length) / chunks, ((c + 1) * pushes.length) / chunks);
        const started = starting.map(async (p) => refs.push({ ...p, runId: (await task.runNoWait(p)).runId }));
        await Promise.all([...started, ...random.shuffle(pushing).map(push)]);
      }
      await h.settle();
      // Every bucket of A and B once more, now that every waiter is registered.
      for (const tenant of ['A', 'B']) for (let n = 0; n < BUCKETS; n++) await push({ tenant, n, seq: seq++ });
      await h.settle();

      for (const ref of refs) {
        const run = await h.durable.runs.get(ref.runId);
        if (ref.tenant === 'C') {
          expect(run.status, `run ${ref.runId} of tenant C`).toBe('WAITING');
          continue;
        }
        expect(run.status, `run ${ref.runId} of tenant ${ref.tenant}`).toBe('SUCCEEDED');
        const out = run.output as Payload;
        expect(out.tenant, `run ${ref.runId} of tenant ${ref.tenant} woken by an event of tenant ${out.tenant}`).toBe(ref.tenant);
        expect(out.n).toBe(ref.n);
      }
      // Tenant C's waiters are all still registered, each in its scope.
      const waiters = await h.backend.store.findWaiters(KEY);
      expect(waiters.map((w) => w.scope).sort()).toEqual(refs.filter((r) => r.tenant === 'C').map(() => 'C'));
    } finally {
      await h.close();
    }
  });

  test('lookback matches only recorded events of the waiter’s own scope', { timeout: 60_000 }, async () => {
    const h: Harness = await factory();
    try {
      const task = h.durable.durableTask({
        name: 'look-back',
        fn: async (input: { tenant: string }, ctx) => ctx.waitForEvent<Payload>('signup', '', { scope: input.tenant, lookback: '1h' }),
      });
      for (let i = 0; i < 5; i++) await h.durable.events.push('signup', { tenant: 'B', n: i, seq: i }, { scope: 'B' });
      await h.durable.events.push('signup', { tenant: 'none', n: 0, seq: 5 });
      const a = await task.runNoWait({ tenant: 'A' });
      const b = await task.runNoWait({ tenant: 'B' });
      await h.settle();
      expect((await h.durable.runs.get(a.runId)).status).toBe('WAITING');
      expect(((await h.durable.runs.get(b.runId)).output as Payload).tenant).toBe('B');
      await h.durable.events.push('signup', { tenant: 'A', n: 9, seq: 6 }, { scope: 'A' });
      await h.settle();
      expect(((await h.durable.runs.get(a.runId)).output as Payload).tenant).toBe('A');
    } finally {
      await h.close();
    }
  });

  test('a waiter without a scope hears every scope; a scoped one never hears unscoped events', { timeout: 60_000 }, async () => {
    const h: Harness = await factory();
    try {
      const any = h.durable.durableTask({ name: 'any-scope', fn: async (_: {}, ctx) => ctx.waitForEvent<Payload>('ping') });
      const scoped = h.durable.durableTask({ name: 'scoped', fn: async (_: {}, ctx) => ctx.waitForEvent<Payload>('ping', '', { scope: 'A' }) });
      const r1 = await any.runNoWait({});
      const r2 = await scoped.runNoWait({});
      await h.settle();
      await h.durable.events.push('ping', { tenant: 'none', n: 0, seq: 0 });
      await h.settle();
      expect(((await h.durable.runs.get(r1.runId)).output as Payload).tenant).toBe('none');
      expect((await h.durable.runs.get(r2.runId)).status).toBe('WAITING');
      await h.durable.events.push('ping', { tenant: 'A', n: 0, seq: 1 }, { scope: 'A' });
      await h.settle();
      expect(((await h.durable.runs.get(r2.runId)).output as Payload).tenant).toBe('A');
    } finally {
      await h.close();
    }
  });
});
