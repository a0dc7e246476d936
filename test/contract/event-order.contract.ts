/**
 * Event order (issue 13, item 2): an event whose `push` returned before a wait (or a DAG gate) began never
 * satisfies it without lookback, even at the same virtual instant; one pushed after it began always can, however
 * the push races the wait's registration and whatever the pusher's clock says. Event conditions carry scope and
 * lookback. An Or whose sleep is already due when its event is routed resolves by the sleep (item 6).
 * Written once, run on the memory adapters and on the aws adapters over dynalite + fauxqs.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { Or, UserEventCondition, WaitTimeoutError } from 'durable-tasks';
import type { InProcessBus } from '../../sdk/adapters/memory/index.ts';
import type { DurableEvent, RunStore } from '../../sdk/ports.ts';
import { delegatingStore } from '../support/env.ts';
import type { Harness, HarnessFactory } from './harness.ts';

/** Holds published events instead of routing them (EventBridge delivers after `push` has returned). */
function holdBus(h: Harness) {
  const bus = h.backend.bus as InProcessBus;
  const route = bus.publish.bind(bus);
  const held: DurableEvent[] = [];
  bus.publish = async (event) => void held.push(event);
  return { held, route, restore: () => (bus.publish = route) };
}

/** The store, with a hook run once before the first call of `method` for `key` (then the call goes through). */
function hookBefore(method: 'eventSequence' | 'registerWaiters' | 'findEventsPage', key: string, hook: () => Promise<void>) {
  let armed = true;
  return (inner: RunStore) =>
    delegatingStore(inner, {
      [method]: async (...args: unknown[]) => {
        const k = method === 'registerWaiters' ? (args[0] as { eventKey?: string }[]).find((w) => w.eventKey)?.eventKey : args[0];
        if (armed && k === key) {
          armed = false;
          await hook();
        }
        return (inner[method] as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
      },
    });
}

export function eventOrderContract(name: string, make: HarnessFactory) {
  describe(`event order: ${name}`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    test('an approval pushed for run A never approves run B whose wait began at the same virtual instant, after the push returned', async () => {
      h = await make();
      const approve = h.durable.durableTask({ name: 'approve', fn: async (_: { who: string }, ctx) => ctx.waitForEvent('approval') });
      const a = await approve.runNoWait({ who: 'A' });
      await h.settle();
      await h.durable.events.push('approval', { for: 'A' });
      expect(await a.result()).toEqual({ for: 'A' });
      const b = await approve.runNoWait({ who: 'B' }); // same virtual instant
      await h.settle();
      expect((await h.durable.runs.get(b.runId)).status).toBe('WAITING');
      await h.durable.events.push('approval', { for: 'B' });
      expect(await b.result()).toEqual({ for: 'B' });
    });

    test('an event whose push returned before the wait began, but that is routed after (EventBridge delay), does not count', async () => {
      h = await make();
      const bus = holdBus(h);
      await h.durable.events.push('late-routed', { n: 1 });
      bus.restore();
      const task = h.durable.durableTask({ name: 'late-routed', fn: async (_: {}, ctx) => ctx.waitForEvent('late-routed') });
      const ref = await task.runNoWait({});
      await h.settle();
      for (const e of bus.held) await bus.route(e);
      await h.settle();
      expect((await h.durable.runs.get(ref.runId)).status).toBe('WAITING');
      await h.durable.events.push('late-routed', { n: 2 });
      expect(await ref.result()).toEqual({ n: 2 });
    });

    test('an event pushed after the wait began counts whatever the pusher\'s clock says (an hour behind)', async () => {
      h = await make();
      const task = h.durable.durableTask({ name: 'skewed', fn: async (_: {}, ctx) => ctx.waitForEvent('skewed') });
      const ref = await task.runNoWait({});
      await h.settle();
      const bus = holdBus(h);
      await h.durable.events.push('skewed', { n: 1 });
      bus.restore();
      await bus.route({ ...bus.held[0]!, time: h.clock.now() - 3_600_000 });
      expect(await ref.result()).toEqual({ n: 1 });
    });

    test('an event from another producer (no sequence number) counts for a wait that began before it was routed', async () => {
      h = await make();
      const task = h.durable.durableTask({ name: 'foreign', fn: async (_: {}, ctx) => ctx.waitForEvent('foreign') });
      const ref = await task.runNoWait({});
      await h.settle();
      await h.backend.bus.publish({ eventId: 'eb-1', key: 'foreign', payload: { n: 1 }, time: h.clock.now() - 60_000 });
      expect(await ref.result()).toEqual({ n: 1 });
    });

    for (const [method, when] of [
      ['eventSequence', 'before the wait reads the sequence (pushed before it began: never)'],
      ['registerWaiters', 'between the sequence read and the waiters (the router finds no waiter; the wait finds the event)'],
      // The wait looks for recorded events a page at a time (findEventsPage).
      ['findEventsPage', 'between the waiters and the wait\'s look for events (both find it: resolved once)'],
    ] as const) {
      test(`a push that completes ${when}`, async () => {
        let pushed: Promise<unknown> | undefined;
        let harness: Harness | undefined;
        h = harness = await make(hookBefore(method, 'racy', async () => void (await (pushed = harness!.durable.events.push('racy', { n: 1 })))));
        const task = h.durable.durableTask({ name: 'racy', fn: async (_: {}, ctx) => ctx.waitForEvent('racy') });
        const ref = await task.runNoWait({});
        await h.settle();
        expect(pushed).toBeDefined();
        const details = await h.durable.runs.get(ref.runId);
        if (method === 'eventSequence') {
          expect(details.status).toBe('WAITING');
          await h.durable.events.push('racy', { n: 2 });
          expect(await ref.result()).toEqual({ n: 2 });
        } else {
          expect(await ref.result()).toEqual({ n: 1 });
        }
        const after = await h.durable.runs.get(ref.runId);
        expect(after.operations.filter((o) => o.kind === 'event')).toHaveLength(1);
        expect(await h.backend.store.findWaiters('racy')).toEqual([]);
      });
    }

    test('event conditions carry scope and lookback: UserEventCondition options and the { eventKey } object form, in waitFor, Or and And', async () => {
      h = await make();
      await h.durable.events.push('earlier', { n: 0 });
      await h.advance(60_000);
      const task = h.durable.durableTask({
        name: 'conditions',
        fn: async (_: {}, ctx) => {
          const looked = await ctx.waitFor(Or({ eventKey: 'earlier', lookback: '5m', readableDataKey: 'e' }, { sleepFor: '1h', readableDataKey: 't' }));
          const noLookback = await ctx.waitFor(Or({ eventKey: 'earlier', readableDataKey: 'e' }, { sleepFor: '10m', readableDataKey: 't' }));
          const scoped = await ctx.waitFor(new UserEventCondition('scoped', '', 'paid', { scope: 'tenant-b' }));
          const both = await ctx.waitFor([{ eventKey: 'x', scope: 'tenant-a' }, new UserEventCondition('y', 'input.ok', 'y', { lookback: '1h', scope: 'tenant-a' })]);
          return { looked, noLookback, scoped, both };
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      await h.advance(10 * 60_000);
      await h.durable.events.push('scoped', 'for a', { scope: 'tenant-a' });
      await h.durable.events.push('scoped', 'unscoped');
      await h.settle();
      expect((await h.durable.runs.get(ref.runId)).status).toBe('WAITING');
      await h.durable.events.push('y', { ok: true }, { scope: 'tenant-a' }); // before the And began: lookback takes it
      await h.durable.events.push('scoped', 'for b', { scope: 'tenant-b' });
      await h.settle();
      await h.durable.events.push('x', 'wrong tenant', { scope: 'tenant-b' });
      await h.settle();
      expect((await h.durable.runs.get(ref.runId)).status).toBe('WAITING');
      await h.durable.events.push('x', 'right tenant', { scope: 'tenant-a' });
      expect(await ref.result()).toEqual({
        looked: { e: { n: 0 } },
        noLookback: { t: { durationMs: 600_000 } },
        scoped: { paid: 'for b' },
        both: { x: 'right tenant', y: { ok: true } },
      });
    });

    test('a bad scope or lookback on an event condition is a typed error at definition', async () => {
      h = await make();
      expect(() => new UserEventCondition('k', '', 'k', { lookback: '-5m' })).toThrow(/duration/i);
      expect(() => new UserEventCondition('k', '', 'k', { scope: '' })).toThrow(/scope/);
    });

    test('DAG gates: an event pushed before the gate began does not count; scope and lookback apply', async () => {
      h = await make();
      const wf = h.durable.workflow({ name: 'gated' });
      const first = wf.durableTask({ name: 'first', fn: async (_i, ctx) => ctx.waitForEvent('begin') });
      wf.task({ name: 'plain', parents: [first], waitFor: { eventKey: 'go' }, fn: async (_i, ctx) => ctx.triggers() });
      wf.task({ name: 'looking', parents: [first], waitFor: { eventKey: 'go', lookback: '5m', readableDataKey: 'back' }, fn: async (_i, ctx) => ctx.triggers() });
      wf.task({
        name: 'scoped',
        parents: [first],
        waitFor: { sleepFor: '1h' },
        skipIf: new UserEventCondition('skip', '', 'skip', { scope: 'tenant-a' }),
        fn: async () => 'ran',
      });
      const ref = await wf.runNoWait({});
      await h.settle();
      await h.durable.events.push('go', { n: 1 }); // before the gates began
      await h.durable.events.push('begin', {});
      await h.settle();
      await h.durable.events.push('skip', {}, { scope: 'tenant-b' });
      await h.settle();
      const tasks = Object.fromEntries((await h.durable.runs.get(ref.runId)).tasks!.map((t) => [t.name, t.status]));
      expect(tasks).toMatchObject({ first: 'SUCCEEDED', looking: 'SUCCEEDED', plain: 'WAITING', scoped: 'WAITING' });
      await h.durable.events.push('go', { n: 2 });
      await h.durable.events.push('skip', {}, { scope: 'tenant-a' });
      expect(await ref.result()).toEqual({ first: {}, looking: { back: { n: 1 } }, plain: { go: { n: 2 } } });
    });

    test('an Or whose timeout is already due when its event is routed times out (the timer message is late)', async () => {
      h = await make();
      const timers = h.backend.timers as { schedule: (...a: unknown[]) => Promise<void> };
      timers.schedule = async () => undefined; // timer messages that have not arrived yet
      const task = h.durable.durableTask({
        name: 'overdue',
        fn: async (_: {}, ctx) => {
          const first = await ctx.waitFor(Or({ eventKey: 'late', readableDataKey: 'event' }, { sleepFor: '10s', readableDataKey: 'timer' }));
          const second = await ctx.waitForEvent('late', '', { timeout: '10s' }).catch((e: unknown) => (e instanceof WaitTimeoutError ? 'timed out' : e));
          return { first, second };
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      await h.advance(20_000);
      await h.durable.events.push('late', 1);
      await h.settle();
      await h.advance(20_000);
      await h.durable.events.push('late', 2);
      expect(await ref.result()).toEqual({ first: { timer: { durationMs: 10_000 } }, second: 'timed out' });
    });

    test('a DAG gate whose Or sleep is already due when its event is routed is decided by the sleep', async () => {
      h = await make();
      const timers = h.backend.timers as { schedule: (...a: unknown[]) => Promise<void> };
      timers.schedule = async () => undefined;
      const wf = h.durable.workflow({ name: 'overdue-gate' });
      const first = wf.task({ name: 'first', fn: async () => 1 });
      wf.task({ name: 'second', parents: [first], waitFor: Or({ eventKey: 'late', readableDataKey: 'event' }, { sleepFor: '10s', readableDataKey: 'timer' }), fn: async (_i, ctx) => ctx.triggers() });
      const ref = await wf.runNoWait({});
      await h.settle();
      await h.advance(20_000);
      await h.durable.events.push('late', 1);
      expect(await ref.result()).toEqual({ first: 1, second: { timer: { durationMs: 10_000 } } });
    });
  });
}
