/**
 * Each concurrency strategy on each kind of target (plain task, durable task, whole workflow), on the memory
 * adapters and on the aws adapters over dynalite + fauxqs; a hot key does not hold up another key; idempotency
 * races on `run` and `schedule`. The runs block on in-process gates the test opens (a plain task cannot park).
 */
import { afterEach, describe, expect, test } from 'vitest';
import { ConcurrencyLimitStrategy, type Durable } from 'durable-tasks';
import type { Harness, HarnessFactory } from '../contract/harness.ts';

type Kind = 'task' | 'durableTask' | 'workflow';

/** Resolves when `check` holds (polled in real time: the runs below block in their fn, so nothing settles). */
async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Gates keyed by run input id: a run's fn waits until its gate opens (or its run is cancelled). */
class Gates {
  private readonly open = new Map<string, () => void>();
  private readonly opened = new Set<string>();
  readonly entered = new Set<string>();
  wait(id: string, signal: AbortSignal): Promise<string> {
    this.entered.add(id);
    if (this.opened.has(id)) return Promise.resolve(id);
    return new Promise((resolve, reject) => {
      this.open.set(id, () => resolve(id));
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }
  release(id: string): void {
    this.opened.add(id);
    this.open.get(id)?.();
  }
}

function define(durable: Durable, kind: Kind, strategy: ConcurrencyLimitStrategy, gates: Gates) {
  const name = `${kind}-${strategy}`;
  const concurrency = { expression: 'input.k', maxRuns: 1, limitStrategy: strategy };
  const fn = async (input: { k: string; id: string }, ctx: { signal: AbortSignal }) => gates.wait(input.id, ctx.signal);
  if (kind === 'task') return durable.task({ name, concurrency, fn });
  if (kind === 'durableTask') return durable.durableTask({ name, concurrency, fn });
  const wf = durable.workflow({ name, concurrency });
  wf.task({ name: 'only', fn: async (input: { k: string; id: string }, ctx) => gates.wait(input.id, ctx.signal) });
  return wf as unknown as { runNoWait(input: { k: string; id: string }): Promise<{ runId: string }> };
}

export function flowStrategiesContract(name: string, make: HarnessFactory) {
  describe(`flow control strategies on each kind of target: ${name}`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });
    const status = async (runId: string) => (await h!.durable.runs.get(runId)).status;
    const inFlight = (s: string) => s === 'RUNNING' || s === 'WAITING';

    for (const kind of ['task', 'durableTask', 'workflow'] as const) {
      test(`${kind}: GROUP_ROUND_ROBIN queues the second run and starts it when the first ends`, async () => {
        h = await make();
        const gates = new Gates();
        const target = define(h.durable, kind, ConcurrencyLimitStrategy.GROUP_ROUND_ROBIN, gates);
        const a = await target.runNoWait({ k: 'x', id: 'a' });
        await until('a runs', async () => gates.entered.has('a'));
        const b = await target.runNoWait({ k: 'x', id: 'b' });
        const other = await target.runNoWait({ k: 'y', id: 'other' });
        await until('the other key runs', async () => gates.entered.has('other'));
        await until('b is queued', async () => (await h!.durable.runs.get(b.runId)).waitingFor !== undefined);
        expect(await status(b.runId)).toBe('QUEUED');
        expect(gates.entered.has('b')).toBe(false);
        gates.release('a');
        await until('b runs', async () => gates.entered.has('b'));
        expect(await status(a.runId)).toBe('SUCCEEDED');
        gates.release('b');
        gates.release('other');
        await until('all succeed', async () => (await Promise.all([b, other].map((r) => status(r.runId)))).every((s) => s === 'SUCCEEDED'));
      }, 60_000);

      test(`${kind}: CANCEL_IN_PROGRESS cancels the run in flight and starts the new one`, async () => {
        h = await make();
        const gates = new Gates();
        const target = define(h.durable, kind, ConcurrencyLimitStrategy.CANCEL_IN_PROGRESS, gates);
        const a = await target.runNoWait({ k: 'x', id: 'a' });
        await until('a runs', async () => gates.entered.has('a'));
        const b = await target.runNoWait({ k: 'x', id: 'b' });
        await until('a is cancelled', async () => (await status(a.runId)) === 'CANCELLED');
        await until('b runs', async () => gates.entered.has('b'));
        expect(inFlight(await status(b.runId))).toBe(true);
        gates.release('b');
        await until('b succeeds', async () => (await status(b.runId)) === 'SUCCEEDED');
      }, 60_000);

      test(`${kind}: CANCEL_NEWEST cancels the new run and keeps the one in flight`, async () => {
        h = await make();
        const gates = new Gates();
        const target = define(h.durable, kind, ConcurrencyLimitStrategy.CANCEL_NEWEST, gates);
        const a = await target.runNoWait({ k: 'x', id: 'a' });
        await until('a runs', async () => gates.entered.has('a'));
        const b = await target.runNoWait({ k: 'x', id: 'b' });
        await until('b is cancelled', async () => (await status(b.runId)) === 'CANCELLED');
        expect(gates.entered.has('b')).toBe(false);
        expect(inFlight(await status(a.runId))).toBe(true);
        gates.release('a');
        await until('a succeeds', async () => (await status(a.runId)) === 'SUCCEEDED');
        // The key is free again.
        const c = await target.runNoWait({ k: 'x', id: 'c' });
        await until('c runs', async () => gates.entered.has('c'));
        gates.release('c');
        await until('c succeeds', async () => (await status(c.runId)) === 'SUCCEEDED');
      }, 60_000);
    }

    test('a hot key with a backlog does not hold up another key', async () => {
      h = await make();
      const gates = new Gates();
      const task = define(h.durable, 'task', ConcurrencyLimitStrategy.GROUP_ROUND_ROBIN, gates);
      const hot = await Promise.all(Array.from({ length: 30 }, (_, n) => task.runNoWait({ k: 'hot', id: `hot-${n}` })));
      await until('one hot run is in flight', async () => [...gates.entered].some((id) => id.startsWith('hot-')));
      await until('the hot backlog is queued', async () => {
        const s = await Promise.all(hot.map((r) => status(r.runId)));
        return s.filter((x) => x === 'QUEUED').length === 29;
      });
      const cold = await task.runNoWait({ k: 'cold', id: 'cold' });
      await until('the cold key runs while the hot one is full', async () => gates.entered.has('cold'));
      expect([...gates.entered].filter((id) => id.startsWith('hot-'))).toHaveLength(1);
      gates.release('cold');
      await until('cold succeeds', async () => (await status(cold.runId)) === 'SUCCEEDED');
      for (let n = 0; n < 30; n++) gates.release(`hot-${n}`);
      await until('the hot backlog drains', async () => (await Promise.all(hot.map((r) => status(r.runId)))).every((s) => s === 'SUCCEEDED'));
    }, 120_000);

    test('idempotency races on run and schedule: two concurrent starts with one key make one run', async () => {
      h = await make();
      let ran = 0;
      const task = h.durable.task({
        name: 'idem',
        fn: async (input: { n: number }) => {
          ran++;
          return input.n;
        },
      });
      const [x, y] = await Promise.all([task.run({ n: 1 }, { idempotencyKey: 'k-run' }), task.run({ n: 2 }, { idempotencyKey: 'k-run' })]);
      expect(x).toBe(y);
      const at = new Date(h.clock.now() + 60_000);
      const [s1, s2] = await Promise.all([task.schedule(at, { n: 3 }, { idempotencyKey: 'k-schedule' }), task.schedule(at, { n: 4 }, { idempotencyKey: 'k-schedule' })]);
      expect(s1.runId).toBe(s2.runId);
      await h.advance(61_000);
      expect([3, 4]).toContain(await s1.result());
      expect(ran).toBe(2);
      expect(await h.durable.runs.list({ name: 'idem' })).toHaveLength(2);
    }, 60_000);
  });
}
