/**
 * Flow control under load and races (issue 15), on the memory adapters and on the aws adapters over dynalite +
 * fauxqs: many runs started at once on one concurrency key all start (no lost hand-over), never above maxRuns;
 * priority among runs waiting for a slot or for a rate limit's refill; a hot key does not hold up other keys.
 */
import { forgeRun } from '../support/env.ts';
import { afterEach, describe, expect, test } from 'vitest';
import { Priority, RateLimitDuration } from 'durable-tasks';
import type { Harness, HarnessFactory } from '../contract/harness.ts';

export function flowRacesContract(name: string, make: HarnessFactory) {
  describe(`flow control under load: ${name}`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    for (const [runs, maxRuns] of [
      [60, 10],
      [50, 1],
    ] as const) {
      test(`${runs} runs started at once on one key (maxRuns ${maxRuns}) all run, never more than ${maxRuns} at a time, no sweep needed`, async () => {
        h = await make();
        let inFn = 0;
        let most = 0;
        const task = h.durable.task({
          name: `hot-${maxRuns}`,
          concurrency: { expression: 'input.key', maxRuns },
          fn: async (input: { n: number; key: string }) => {
            most = Math.max(most, ++inFn);
            await new Promise((r) => setTimeout(r, 2));
            inFn--;
            return input.n;
          },
        });
        const refs = await Promise.all(Array.from({ length: runs }, (_, n) => task.runNoWait({ n, key: 'hot' })));
        // No virtual time passes: every start must come from a hand-over or a free slot, not from a sweep or timer.
        await h.settle();
        const statuses = await Promise.all(refs.map(async (r) => (await h!.durable.runs.get(r.runId)).status));
        expect(statuses.filter((s) => s !== 'SUCCEEDED')).toEqual([]);
        expect(await Promise.all(refs.map((r) => r.result()))).toEqual(Array.from({ length: runs }, (_, n) => n));
        expect(most).toBeLessThanOrEqual(maxRuns);
        // Every slot was given back and every queue item removed.
        const flow = h.backend.flow ?? (h.backend.store as unknown as { flow: NonNullable<typeof h.backend.flow> }).flow;
        expect((await flow.acquireSlot(`hot-${maxRuns}#hot`, 'probe', 0)).state.holders).toEqual([]);
        expect(await flow.queueHead(`hot-${maxRuns}#hot`, 10)).toEqual([]);
      }, 120_000);
    }

    for (const kind of ['static', 'dynamic'] as const) {
      test(`priority among runs waiting for a ${kind} rate limit's refill: high first, then oldest first`, async () => {
        h = await make();
        if (kind === 'static') await h.durable.rateLimits.upsert({ key: 'prio-api', limit: 1, duration: RateLimitDuration.MINUTE });
        const order: string[] = [];
        const task = h.durable.task({
          name: `rate-prio-${kind}`,
          rateLimits: [kind === 'static' ? { staticKey: 'prio-api', units: 1 } : { dynamicKey: 'input.tenant', units: 1, limit: 1, duration: RateLimitDuration.MINUTE }],
          fn: async (input: { tenant: string; id: string }) => {
            order.push(input.id);
            return input.id;
          },
        });
        const ids = ['first', 'low1', 'high', 'medium', 'low2', 'high2'];
        const priorities = [undefined, Priority.LOW, Priority.HIGH, Priority.MEDIUM, undefined, Priority.HIGH];
        const refs = [];
        for (const [i, id] of ids.entries()) {
          const p = priorities[i];
          refs.push(await task.runNoWait({ tenant: 't', id }, p === undefined ? {} : { priority: p }));
          await h.settle();
          await h.advance(1);
        }
        expect(order).toEqual(['first']);
        const waiting = await h.durable.runs.get(refs[1]!.runId);
        expect(waiting.status).toBe('QUEUED');
        expect(waiting.waitingFor).toMatch(/rate limit/);
        // One unit a minute: each refill starts the best waiting run, whoever the timers wake first.
        for (let minute = 0; minute < 6 && order.length < ids.length; minute++) await h.advance(60_000);
        expect(order).toEqual(['first', 'high', 'high2', 'medium', 'low1', 'low2']);
        // Nothing left queued for the limit.
        const flow = h.backend.flow ?? (h.backend.store as unknown as { flow: NonNullable<typeof h.backend.flow> }).flow;
        expect(await flow.rateWaitersAhead(kind === 'static' ? 'prio-api' : 't', { runId: 'z', priority: 0, createdAt: Number.MAX_SAFE_INTEGER }, 10)).toEqual([]);
      }, 60_000);
    }

    test('a run waiting for a refill that is cancelled leaves the queue and holds no units back', async () => {
      h = await make();
      await h.durable.rateLimits.upsert({ key: 'cancel-api', limit: 1, duration: RateLimitDuration.MINUTE });
      const task = h.durable.task({ name: 'rate-cancel', rateLimits: [{ staticKey: 'cancel-api', units: 1 }], fn: async (input: { id: string }) => input.id });
      const a = await task.runNoWait({ id: 'a' });
      await h.settle();
      const b = await task.runNoWait({ id: 'b' }, { priority: Priority.HIGH });
      await h.advance(1);
      const c = await task.runNoWait({ id: 'c' });
      await h.settle();
      await h.durable.runs.cancel(b.runId);
      await h.settle();
      await h.advance(60_000);
      expect([(await h.durable.runs.get(a.runId)).status, (await h.durable.runs.get(b.runId)).status, (await h.durable.runs.get(c.runId)).status]).toEqual([
        'SUCCEEDED',
        'CANCELLED',
        'SUCCEEDED',
      ]);
    });

    test('crash recovery: a run that ended without leaving the refill queue holds no units back past one window', async () => {
      h = await make();
      await h.durable.rateLimits.upsert({ key: 'crash-api', limit: 1, duration: RateLimitDuration.MINUTE });
      const task = h.durable.task({ name: 'rate-crash', rateLimits: [{ staticKey: 'crash-api', units: 1 }], fn: async (input: { id: string }) => input.id });
      const a = await task.runNoWait({ id: 'a' });
      await h.settle();
      const dead = await task.runNoWait({ id: 'dead' }, { priority: Priority.HIGH });
      await h.advance(1);
      const c = await task.runNoWait({ id: 'c' });
      await h.settle();
      expect((await h.durable.runs.get(c.runId)).waitingFor).toMatch(/after 1 run\(s\) queued ahead/);
      // The process that failed `dead` died before taking it out of the queue.
      await forgeRun(h.backend.store, dead.runId, { set: { status: 'FAILED', error: { name: 'Error', message: 'crashed' } } });
      await h.advance(60_000);
      expect([(await h.durable.runs.get(a.runId)).status, (await h.durable.runs.get(c.runId)).status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    });
  });
}
