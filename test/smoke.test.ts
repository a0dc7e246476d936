import { test, expect } from 'vitest';
import { createTestEnvironment } from 'durable-tasks/testing';
import { Or, SleepCondition, UserEventCondition } from 'durable-tasks';

test('smoke', async () => {
  const env = await createTestEnvironment();
  const { durable } = env;
  let effects = 0;
  const t = durable.durableTask({
    name: 'smoke',
    fn: async (input: { n: number }, ctx) => {
      const a = await ctx.step('a', () => { effects++; return input.n + 1; });
      const s = await ctx.sleepFor('1h');
      const ev = await ctx.waitForEvent('go', 'input.ok == true');
      const w = await ctx.waitFor(Or(new SleepCondition('2s', 'sleep'), new UserEventCondition('x', '', 'event')));
      return { a, s, ev, w, now: ctx.now().toISOString() };
    },
  });
  const ref = await t.runNoWait({ n: 1 });
  await env.settle();
  expect((await durable.runs.get(ref.runId)).status).toBe('WAITING');
  await env.advanceTime('1h');
  await durable.events.push('go', { ok: false });
  await env.settle();
  expect((await durable.runs.get(ref.runId)).status).toBe('WAITING');
  await durable.events.push('go', { ok: true });
  await env.settle();
  await env.advanceTime('2s');
  const out = await ref.result();
  console.log(out, durable.metrics());
  expect(effects).toBe(1);
  const t0 = performance.now();
  const many = durable.durableTask({ name: 'many', fn: async (_: {}, ctx) => { let x = 0; for (let i = 0; i < 1000; i++) x += await ctx.step(`s${i}`, () => i); return x; } });
  expect(await many.run({})).toBe(499500);
  console.log('1000 steps ms', performance.now() - t0);
  await env.close();
});
