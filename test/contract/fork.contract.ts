/**
 * runs.fork / bulkFork / bulkCancel (issue 18), written once and run on the memory adapters and on the aws adapters
 * over dynalite + fauxqs: what a fork keeps (steps, consumed events, children, sleeps, now, patches) and re-executes,
 * each side effect before the fork point once over both runs, forks of failed / succeeded / cancelled runs, typed
 * errors, a fork point inside ctx.map, a crash mid-copy, and the bulk operations by filter.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { Durable, DurableError, RunNotForkableError, StepNotFoundError } from 'durable-tasks';
import type { RunRecord, RunStore } from '../../sdk/ports.ts';
import type { Harness, HarnessFactory } from './harness.ts';

const total = (h: Harness) => Object.values(h.durable.metrics().requests).reduce((a, b) => a + b, 0);

/** A store whose recordEntry fails after `budget` more writes to runs other than `spare` (a crash mid-copy). */
function crashingStore(fault: { budget: number; spare: Set<string> }) {
  return (store: RunStore): RunStore =>
    new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'recordEntry') {
          return async (runId: string, ...rest: unknown[]) => {
            if (!fault.spare.has(runId) && fault.budget-- <= 0) throw new Error('injected crash mid-copy');
            return (target.recordEntry as (...a: unknown[]) => unknown).call(target, runId, ...rest);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
}

export function forkContract(name: string, make: HarnessFactory) {
  describe(`runs.fork: ${name}`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    /** A task whose 'charge' step fails until `fixed`; every side effect counted. */
    function defineOrder(h: Harness) {
      const counts = { reserve: 0, charge: 0, ship: 0, child: 0 };
      const state = { fixed: false };
      const child = h.durable.task({ name: 'audit', fn: async (i: { id: string }) => (counts.child++, `audited ${i.id}`) });
      const order = h.durable.durableTask({
        name: 'order',
        retries: 0,
        fn: async (input: { id: string }, ctx) => {
          const at = ctx.now().getTime();
          const v2 = ctx.patched('v2');
          const reserved = await ctx.step('reserve', () => (counts.reserve++, `r-${input.id}`));
          const audit = await ctx.runChild(child, { id: input.id });
          await ctx.sleepFor('1m');
          const paid = await ctx.waitForEvent('order:paid', `input.id == '${input.id}'`);
          const charged = await ctx.step('charge', () => {
            counts.charge++;
            if (!state.fixed) throw new Error('card service down');
            return 'charged';
          });
          const shipped = await ctx.step('ship', () => (counts.ship++, 'shipped'));
          return { at, v2, reserved, audit, paid, charged, shipped };
        },
      });
      return { counts, state, order };
    }

    async function failedOrder(h: Harness, id: string) {
      const t = defineOrder(h);
      const ref = await t.order.runNoWait({ id });
      await h.settle();
      await h.advance(60_000);
      await h.durable.events.push('order:paid', { id, amount: 5 });
      await h.settle();
      await expect(ref.result()).rejects.toThrow('card service down');
      return { ...t, ref };
    }

    test('a failed run forked from its broken step: earlier operations are kept (steps, child, sleep, event, now, patch), the rest re-executes on the new code', async () => {
      h = await make();
      const { counts, state, ref } = await failedOrder(h, 'o1');
      const before = await h.durable.runs.get(ref.runId);
      state.fixed = true;
      await h.advance(3_600_000); // an hour later: ctx.now() in the fork still answers the recorded time
      const fork = await h.durable.runs.fork(ref.runId, { fromStep: 'charge' });
      expect(fork.runId).not.toBe(ref.runId);
      await h.settle();
      const out = (await fork.result()) as Record<string, unknown>;
      const original = before.operations.find((o) => o.kind === 'now')!.result as string;
      expect(out).toEqual({ at: new Date(original).getTime(), v2: true, reserved: 'r-o1', audit: 'audited o1', paid: { id: 'o1', amount: 5 }, charged: 'charged', shipped: 'shipped' });
      // Once over both runs before the fork point; the broken step twice (once each), the next once.
      expect(counts).toEqual({ reserve: 1, child: 1, charge: 2, ship: 1 });
      expect(await h.durable.runs.list({ name: 'audit' })).toHaveLength(1);
      const details = await h.durable.runs.get(fork.runId);
      expect(details.metadata).toMatchObject({ forkedFrom: ref.runId, forkedFromStep: 'charge' });
      expect(details.status).toBe('SUCCEEDED');
      expect(details.input).toEqual({ id: 'o1' });
      const kept = details.operations.filter((o) => o.position < before.operations.find((b) => b.name === 'charge')!.position);
      const orig = before.operations.filter((o) => o.position < before.operations.find((b) => b.name === 'charge')!.position);
      expect(kept.map((o) => [o.position, o.kind, o.name, o.result])).toEqual(orig.map((o) => [o.position, o.kind, o.name, o.result]));
      // The source run is untouched.
      expect((await h.durable.runs.get(ref.runId)).status).toBe('FAILED');
    });

    test('succeeded and cancelled runs fork too; forking from the first step re-runs everything', async () => {
      h = await make();
      let a = 0;
      let b = 0;
      const task = h.durable.durableTask({
        name: 'two-steps',
        fn: async (_: {}, ctx) => {
          await ctx.step('a', () => ++a);
          await ctx.sleepFor('1h');
          return ctx.step('b', () => ++b);
        },
      });
      const done = await task.runNoWait({});
      await h.settle();
      await h.advance(3_600_000);
      expect(await done.result()).toBe(1);
      const forkB = await h.durable.runs.fork(done.runId, { fromStep: 'b' });
      await h.settle();
      expect(await forkB.result()).toBe(2);
      expect([a, b]).toEqual([1, 2]);
      const forkA = await h.durable.runs.fork(done.runId, { fromStep: 'a' });
      await h.settle();
      await h.advance(3_600_000);
      expect(await forkA.result()).toBe(3);
      expect([a, b]).toEqual([2, 3]);

      // Cancelled while sleeping: it never reached 'b', so it forks from 'a' (or not at all from 'b').
      const parked = await task.runNoWait({});
      await h.settle();
      await h.durable.runs.cancel(parked.runId);
      await h.settle();
      expect((await h.durable.runs.get(parked.runId)).status).toBe('CANCELLED');
      expect([a, b]).toEqual([3, 3]);
      await expect(h.durable.runs.fork(parked.runId, { fromStep: 'b' })).rejects.toBeInstanceOf(StepNotFoundError);
      const again = await h.durable.runs.fork(parked.runId, { fromStep: 'a' });
      await h.settle();
      await h.advance(3_600_000);
      expect(await again.result()).toBe(4);
      expect([a, b]).toEqual([4, 4]);

      // Cancelled while waiting after both steps: the fork keeps 'a', re-runs 'b', waits afresh.
      let c = 0;
      const waiting = h.durable.durableTask({
        name: 'steps-then-wait',
        fn: async (_: {}, ctx) => {
          await ctx.step('a', () => ++c);
          await ctx.sleepFor('1m');
          await ctx.step('b', () => (c += 10));
          return ctx.waitForEvent('go');
        },
      });
      const cancelled = await waiting.runNoWait({});
      await h.settle();
      await h.advance(60_000);
      await h.durable.runs.cancel(cancelled.runId);
      await h.settle();
      expect(c).toBe(11);
      const resumed = await h.durable.runs.fork(cancelled.runId, { fromStep: 'b' });
      await h.settle();
      expect(c).toBe(21); // the kept sleep had passed: no new wait for it
      await h.durable.events.push('go', { ok: 1 });
      await h.settle();
      expect(await resumed.result()).toEqual({ ok: 1 });
      expect(c).toBe(21);
    });

    test("a fork's stream holds the chunks put before the fork point (numbered from 1), then its own; none of the rest", async () => {
      h = await make();
      let fail = true;
      const task = h.durable.durableTask({
        name: 'streamer',
        retries: 0,
        fn: async (_: {}, ctx) => {
          await ctx.putStream({ at: 'start' });
          await ctx.step('prepare', () => 'ready');
          await ctx.putStream({ at: 'prepared' });
          await ctx.step('send', () => {
            if (fail) throw new Error('send failed');
            return 'sent';
          });
          await ctx.putStream({ at: 'sent' });
          return 'done';
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      await expect(ref.result()).rejects.toThrow('send failed');
      fail = false;
      const fork = await h.durable.runs.fork(ref.runId, { fromStep: 'send' });
      await h.settle();
      expect(await fork.result()).toBe('done');
      const chunks: unknown[] = [];
      for await (const chunk of h.durable.runs.subscribeToStream(fork.runId)) chunks.push(chunk);
      expect(chunks).toEqual([{ at: 'start' }, { at: 'prepared' }, { at: 'sent' }]);
      const view = await h.durable.runs.get(fork.runId);
      expect(view.operations.filter((o) => o.kind === 'stream').map((o) => o.seq)).toEqual([1, 2, 3]);
    });

    test('typed errors: an unknown step, a run still in flight, an unknown run, a bad fromStep', async () => {
      h = await make();
      const task = h.durable.durableTask({
        name: 'waits',
        fn: async (_: {}, ctx) => {
          await ctx.step('first', () => 1);
          return ctx.waitForEvent('never');
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      const inFlight = h.durable.runs.fork(ref.runId, { fromStep: 'first' });
      await expect(inFlight).rejects.toBeInstanceOf(RunNotForkableError);
      await expect(inFlight).rejects.toThrow(/WAITING.*cancel it first/);
      await h.durable.runs.cancel(ref.runId);
      const missing = h.durable.runs.fork(ref.runId, { fromStep: 'nope' });
      await expect(missing).rejects.toBeInstanceOf(StepNotFoundError);
      await expect(missing).rejects.toMatchObject({ name: 'StepNotFoundError', runId: ref.runId, stepName: 'nope' });
      await expect(h.durable.runs.fork('no-such-run', { fromStep: 'first' })).rejects.toMatchObject({ name: 'RunNotFoundError' });
      await expect(h.durable.runs.fork(ref.runId, {} as { fromStep: string })).rejects.toBeInstanceOf(DurableError);
      await expect(h.durable.runs.fork(ref.runId, { fromStep: '' })).rejects.toThrow(/fromStep/);
      expect(await h.durable.runs.list({ name: 'waits' })).toHaveLength(1);

      // A DAG workflow run (and its task runs) cannot be forked.
      const wf = h.durable.workflow({ name: 'dag' });
      wf.task({ name: 'only', fn: async () => ({ ok: true }) });
      const out = await wf.run({});
      expect(out).toEqual({ only: { ok: true } });
      const [wfRun] = await h.durable.runs.list({ name: 'dag' });
      await expect(h.durable.runs.fork(wfRun!.runId, { fromStep: 'only' })).rejects.toBeInstanceOf(RunNotForkableError);
      const [taskRun] = (await h.durable.runs.list({})).filter((r) => r.name === 'dag/only');
      await expect(h.durable.runs.fork(taskRun!.runId, { fromStep: 'only' })).rejects.toBeInstanceOf(RunNotForkableError);
    });

    test('a client that does not define the task (the CLI with --aws) forks; a worker with the current code runs the fork', async () => {
      h = await make();
      let effects = 0;
      const task = h.durable.durableTask({
        name: 'remote',
        fn: async (_: {}, ctx) => {
          await ctx.step('one', () => ++effects);
          return ctx.step('two', () => ++effects);
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      expect(await ref.result()).toBe(2);
      const bare = new Durable({ backend: h.backend, embeddedWorker: 'none', log: () => undefined });
      const fork = await bare.runs.fork(ref.runId, { fromStep: 'two' });
      await h.settle();
      expect(await h.durable.runs.get(fork.runId)).toMatchObject({ status: 'SUCCEEDED', output: 3, metadata: { forkedFrom: ref.runId } });
      expect(effects).toBe(3);
    });

    test('a run that used its task-level retries forks from its latest attempt; the fork starts at attempt 0 with its own retries', async () => {
      h = await make();
      const ran: string[] = [];
      let fixed = false;
      const task = h.durable.durableTask({
        name: 'retried',
        retries: 1,
        fn: async (_: {}, ctx) => {
          const a = await ctx.step('a', () => (ran.push(`a${ctx.attempt}`), ctx.attempt));
          return ctx.step('b', () => {
            ran.push(`b${ctx.attempt}`);
            if (!fixed) throw new Error('still broken');
            return { a, attempt: ctx.attempt };
          });
        },
      });
      const ref = await task.runNoWait({});
      for (let i = 0; i < 5; i++) {
        await h.settle();
        await h.advance(60_000);
      }
      await expect(ref.result()).rejects.toThrow('still broken');
      expect(ran).toEqual(['a0', 'b0', 'a1', 'b1']);
      fixed = true;
      const fork = await h.durable.runs.fork(ref.runId, { fromStep: 'b' });
      await h.settle();
      // The kept 'a' is attempt 1's (its recorded result is 1); the fork itself runs at attempt 0.
      expect(await fork.result()).toEqual({ a: 1, attempt: 0 });
      expect(ran).toEqual(['a0', 'b0', 'a1', 'b1', 'b0']);
      expect((await h.durable.runs.get(fork.runId)).attempt).toBe(0);
    });

    test('a fork costs one write per kept entry plus a constant: 300 steps forked from the last', { timeout: 120_000 }, async () => {
      h = await make();
      const task = h.durable.durableTask({
        name: 'long',
        fn: async (_: {}, ctx) => {
          for (let i = 0; i < 300; i++) await ctx.step(`s${i}`, () => i);
          return 'done';
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      expect(await ref.result()).toBe('done');
      // The requests of the fork call itself: the embedded worker's polling (SQS receives) runs beside it.
      const own = () => Object.entries(h!.durable.metrics().requests).filter(([k]) => !/ReceiveMessage|DeleteMessage|ChangeMessageVisibility/.test(k));
      const before = Object.fromEntries(own());
      const fork = await h.durable.runs.fork(ref.runId, { fromStep: 's299' });
      const delta: Record<string, number> = Object.fromEntries(own().map(([k, v]) => [k, v - (before[k] ?? 0)] as const).filter(([, v]) => v));
      const spent = Object.values(delta).reduce((a, b) => a + b, 0);
      process.stderr.write(`fork of 300 steps from the last (${h.name}): ${JSON.stringify(delta)}\n`);
      // 299 entries + the run item + the dispatch + the source's load (paged) and nothing per entry besides.
      expect(spent).toBeGreaterThanOrEqual(299 + 2);
      expect(spent).toBeLessThanOrEqual(299 + 8);
      await h.settle();
      expect(await fork.result()).toBe('done');
      expect((await h.durable.runs.get(fork.runId)).operations).toHaveLength(300);
    });

    test('a fork point inside ctx.map: each branch keeps what it did before its own step of that name', async () => {
      h = await make();
      const prepared: number[] = [];
      const charged: number[] = [];
      let broken = true;
      const task = h.durable.durableTask({
        name: 'charge-all',
        fn: async (items: number[], ctx) => {
          const total = await ctx.step('total', () => items.length);
          const out = await ctx.map('each', items, async (item, b) => {
            await b.step('prepare', () => (prepared.push(item), item));
            return b.step('charge', () => {
              charged.push(item);
              if (broken && item === 2) throw new Error('declined');
              return item * 10;
            });
          });
          return { total, out };
        },
      });
      const ref = await task.runNoWait([1, 2, 3]);
      await h.settle();
      await expect(ref.result()).rejects.toThrow('declined');
      expect(prepared.sort()).toEqual([1, 2, 3]);
      broken = false;
      const fork = await h.durable.runs.fork(ref.runId, { fromStep: 'charge' });
      await h.settle();
      expect(await fork.result()).toEqual({ total: 3, out: [10, 20, 30] });
      expect(prepared.sort()).toEqual([1, 2, 3]); // never again
      expect(charged.sort()).toEqual([1, 1, 2, 2, 3, 3]);
    });

    test('a crash mid-copy leaves no run to dispatch; forking again works and runs each earlier effect once', async () => {
      const fault = { budget: Infinity, spare: new Set<string>() };
      h = await make(crashingStore(fault));
      const { counts, state, ref } = await failedOrder(h, 'o2');
      state.fixed = true;
      fault.spare.add(ref.runId);
      fault.budget = 2; // the copy has 6 entries (now, patch, reserve, child, sleep, wait): the third write fails
      await expect(h.durable.runs.fork(ref.runId, { fromStep: 'charge' })).rejects.toThrow('injected crash mid-copy');
      await h.settle();
      await h.advance(3_600_000);
      await h.durable.engine.sweep();
      await h.settle();
      const orders = await h.durable.runs.list({ name: 'order' });
      expect(orders.map((r) => r.runId)).toEqual([ref.runId]);
      expect(counts).toEqual({ reserve: 1, child: 1, charge: 1, ship: 0 });
      fault.budget = Infinity;
      const fork = await h.durable.runs.fork(ref.runId, { fromStep: 'charge' });
      await h.settle();
      expect(await fork.result()).toMatchObject({ charged: 'charged', shipped: 'shipped' });
      expect(counts).toEqual({ reserve: 1, child: 1, charge: 2, ship: 1 });
      expect(await h.durable.runs.list({ name: 'order' })).toHaveLength(2);
    });

    test('a dispatch that fails after the run item exists: the fork call still returns the new run, the sweeper starts it (seed 95 / no-throw-after)', async () => {
      h = await make();
      const { counts, state, ref } = await failedOrder(h, 'o3');
      state.fixed = true;
      // The run item is the commit point: a caller told "failed" here would fork again and get two forks.
      const dispatcher = h.backend.dispatcher;
      const dispatch = dispatcher.dispatch;
      dispatcher.dispatch = async () => {
        dispatcher.dispatch = dispatch;
        throw new Error('queue throttled');
      };
      const fork = await h.durable.runs.fork(ref.runId, { fromStep: 'charge' });
      await h.settle();
      expect((await h.durable.runs.get(fork.runId)).status).toBe('QUEUED');
      for (let minute = 0; minute < 3; minute++) {
        await h.advance(60_000); // the sweeper's schedule
        await h.durable.engine.sweep();
        await h.settle();
      }
      expect(await fork.result()).toMatchObject({ charged: 'charged', shipped: 'shipped' });
      expect(counts).toEqual({ reserve: 1, child: 1, charge: 2, ship: 1 });
      expect(await h.durable.runs.list({ name: 'order' })).toHaveLength(2);
    });

    test('with an idempotencyKey, a fork call that failed after the commit point returns that fork when made again; concurrent calls make one', async () => {
      let resetAfterCommit = true;
      h = await make(
        (store) =>
          new Proxy(store, {
            get(target, prop, receiver) {
              if (prop === 'createRun') {
                return async (run: RunRecord) => {
                  const created = await target.createRun(run);
                  // The run item is written, and the caller hears an error (a connection reset, a crash).
                  if (run.metadata?.forkedFrom && resetAfterCommit) {
                    resetAfterCommit = false;
                    throw new Error('connection reset after the commit');
                  }
                  return created;
                };
              }
              const value = Reflect.get(target, prop, receiver);
              return typeof value === 'function' ? value.bind(target) : value;
            },
          }),
      );
      const { counts, state, ref } = await failedOrder(h, 'o5');
      state.fixed = true;
      await expect(h.durable.runs.fork(ref.runId, { fromStep: 'charge', idempotencyKey: 'fix-1' })).rejects.toThrow('connection reset');
      const before = total(h);
      const again = await h.durable.runs.fork(ref.runId, { fromStep: 'charge', idempotencyKey: 'fix-1' });
      expect(total(h) - before).toBe(1); // one read finds it: nothing copied, nothing dispatched
      const [one, two] = await Promise.all(['fix-2', 'fix-2'].map((idempotencyKey) => h!.durable.runs.fork(ref.runId, { fromStep: 'charge', idempotencyKey })));
      expect(one!.runId).toBe(two!.runId);
      expect(new Set([ref.runId, again.runId, one!.runId]).size).toBe(3);
      for (let minute = 0; minute < 3; minute++) {
        await h.advance(60_000); // the sweeper starts the fork whose call failed before its dispatch
        await h.durable.engine.sweep();
        await h.settle();
      }
      expect(await again.result()).toMatchObject({ charged: 'charged', shipped: 'shipped' });
      expect(await one!.result()).toMatchObject({ charged: 'charged', shipped: 'shipped' });
      expect(await h.durable.runs.list({ name: 'order' })).toHaveLength(3);
      expect((await h.durable.runs.get(again.runId)).idempotencyKey).toBe('fix-1');
      expect(counts).toEqual({ reserve: 1, child: 1, charge: 3, ship: 2 });
    });

    test('idempotencyKey errors: not a non-empty string of at most 512 characters; bulkFork takes none', async () => {
      h = await make();
      const { ref } = await failedOrder(h, 'o6');
      for (const idempotencyKey of ['', 7, 'k'.repeat(513)]) {
        await expect(h.durable.runs.fork(ref.runId, { fromStep: 'charge', idempotencyKey: idempotencyKey as string })).rejects.toThrow(/idempotencyKey must be a non-empty string/);
      }
      await expect(h.durable.runs.bulkFork({ name: 'order' }, { fromStep: 'charge', idempotencyKey: 'k' })).rejects.toThrow(/bulkFork takes no idempotencyKey/);
      expect(await h.durable.runs.list({ name: 'order' })).toHaveLength(1);
    });

    test('bulkFork and bulkCancel by name, status and time range return counts', async () => {
      h = await make();
      let ran = 0;
      let broken = true;
      const flaky = h.durable.durableTask({
        name: 'flaky',
        fn: async (i: number, ctx) => {
          await ctx.step('once', () => ran++);
          return ctx.step('maybe', () => {
            if (broken && i % 2 === 0) throw new Error(`bad ${i}`);
            return i;
          });
        },
      });
      const parked = h.durable.durableTask({ name: 'parked', fn: async (_: {}, ctx) => ctx.waitForEvent('never') });
      const early = [await flaky.runNoWait(0), await flaky.runNoWait(1)];
      await h.settle();
      await h.advance(60_000);
      const cut = new Date(h.clock.now());
      const late = [await flaky.runNoWait(2), await flaky.runNoWait(4)];
      const waiting = [await parked.runNoWait({}), await parked.runNoWait({})];
      await h.settle();
      expect(ran).toBe(4);
      broken = false;
      // Only the late failures: 2 and 4 (0 failed before the cut, 1 succeeded).
      const forked = await h.durable.runs.bulkFork({ name: 'flaky', status: 'FAILED', since: cut }, { fromStep: 'maybe' });
      expect(forked).toMatchObject({ count: 2, skipped: 0 });
      await h.settle();
      expect((await Promise.all(forked.runIds.map((id) => h!.durable.runs.get(id)))).map((r) => [r.status, r.output, r.metadata?.forkedFrom]).sort()).toEqual(
        [['SUCCEEDED', 2, late[0]!.runId], ['SUCCEEDED', 4, late[1]!.runId]].sort(),
      );
      expect(ran).toBe(4);
      // A filter whose runs are in flight or lack the step skips them.
      expect(await h.durable.runs.bulkFork({ name: 'parked' }, { fromStep: 'x' })).toEqual({ count: 0, runIds: [], skipped: 2 });
      expect(await h.durable.runs.bulkCancel({ name: 'flaky', until: cut })).toEqual({ count: 0 });
      expect(await h.durable.runs.bulkCancel({ status: 'WAITING' })).toEqual({ count: 2 });
      await h.settle();
      for (const r of waiting) expect((await h.durable.runs.get(r.runId)).status).toBe('CANCELLED');
      expect((await h.durable.runs.get(early[0]!.runId)).status).toBe('FAILED');
      await expect(h.durable.runs.bulkCancel({})).rejects.toThrow(/at least one of/);
      await expect(h.durable.runs.bulkFork({ status: 'DONE' as never }, { fromStep: 'maybe' })).rejects.toThrow(/status must be one of/);
      await expect(h.durable.runs.bulkCancel({ since: 'yesterday' })).rejects.toThrow(/since must be/);
    });
  });
}
