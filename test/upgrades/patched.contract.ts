/**
 * `ctx.patched` / `ctx.deprecatePatch`, written once and run on the memory adapters and on the aws adapters
 * over dynalite + fauxqs. A "deploy" is a variable the task's fn reads: runs started before it took the old
 * code path, replays after it run the new code.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { NonDeterminismError } from 'durable-tasks';
import type { Harness, HarnessFactory } from '../contract/harness.ts';

const ops = async (h: Harness, runId: string) => (await h.durable.runs.get(runId)).operations.map((o) => `${o.kind}:${o.name}:${o.status}`);

/** Requests a run made, without the queue's long polls (their number depends on timing, not on the run). */
function requests(h: Harness): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(h.durable.metrics().requests)) if (!/Receive|ChangeMessageVisibility/.test(k)) out[k] = v;
  return out;
}
function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

export function patchedContract(name: string, make: HarnessFactory) {
  describe(`ctx.patched: ${name}`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    test('an older run (recorded before the patch) gets false, runs the old branch and records no marker; a new run records a marker and gets true', async () => {
      h = await make();
      let deployed = 1;
      const ran: string[] = [];
      const task = h.durable.durableTask({
        name: 'charge',
        fn: async (_: {}, ctx) => {
          const charged =
            deployed >= 2 && ctx.patched('charge-v2') ? await ctx.step('charge-v2', () => (ran.push('v2'), 'v2')) : await ctx.step('charge', () => (ran.push('v1'), 'v1'));
          await ctx.sleepFor('1h');
          return charged;
        },
      });
      const old = await task.runNoWait({});
      await h.settle();
      deployed = 2;
      const fresh = await task.runNoWait({});
      await h.settle();
      await h.advance(3_600_000);
      expect(await old.result()).toBe('v1');
      expect(await fresh.result()).toBe('v2');
      expect(ran.sort()).toEqual(['v1', 'v2']);
      expect(await ops(h, old.runId)).toEqual(['step:charge:done', 'sleep::done']);
      expect(await ops(h, fresh.runId)).toEqual(['patch:charge-v2:done', 'step:charge-v2:done', 'sleep::done']);
    });

    test('an older run that reaches the patch only after the deploy is on new ground there: it records the marker and takes the new branch', async () => {
      h = await make();
      let deployed = 1;
      const task = h.durable.durableTask({
        name: 'later',
        fn: async (_: {}, ctx) => {
          await ctx.sleepFor('1h');
          if (deployed >= 2 && ctx.patched('later-v2')) return ctx.step('v2', () => 'v2');
          return ctx.step('v1', () => 'v1');
        },
      });
      const old = await task.runNoWait({});
      await h.settle();
      deployed = 2;
      await h.advance(3_600_000);
      expect(await old.result()).toBe('v2');
      expect(await ops(h, old.runId)).toEqual(['sleep::done', 'patch:later-v2:done', 'step:v2:done']);
    });

    test('a run parked on the old branch (a pending wait at the position) gets false', async () => {
      h = await make();
      let deployed = 1;
      const task = h.durable.durableTask({
        name: 'approve',
        fn: async (_: {}, ctx) => {
          if (deployed >= 2 && ctx.patched('no-approval')) return 'auto';
          return ctx.waitForEvent<{ ok: boolean }>('approved');
        },
      });
      const old = await task.runNoWait({});
      await h.settle();
      deployed = 2;
      await h.durable.events.push('approved', { ok: true });
      expect(await old.result()).toEqual({ ok: true });
      expect(await ops(h, old.runId)).toEqual(['event:approved:done']);
    });

    test('a marker found on replay gives true: a run that took the patched branch keeps it after parking', async () => {
      h = await make();
      const ran: string[] = [];
      const task = h.durable.durableTask({
        name: 'notify',
        fn: async (_: {}, ctx) => {
          const branch = ctx.patched('email-v2') ? 'v2' : 'v1';
          ran.push(branch);
          await ctx.sleepFor('10m');
          return ctx.step(`send-${branch}`, () => branch);
        },
      });
      const ref = await task.runNoWait({});
      await h.settle();
      // The marker rode on the park: no entry item of its own.
      // Still ahead: the sleep is pending (issue 20: runs.get no longer calls a future sleep done).
      expect(await ops(h, ref.runId)).toEqual(['patch:email-v2:done', 'sleep::sleeping']);
      await h.advance(600_000);
      expect(await ref.result()).toBe('v2');
      expect(ran).toEqual(['v2', 'v2']);
      expect(await ops(h, ref.runId)).toEqual(['patch:email-v2:done', 'sleep::done', 'step:send-v2:done']);
    });

    test('patched is decided once per run per id: a second call takes no position and records no second marker', async () => {
      h = await make();
      const task = h.durable.durableTask({
        name: 'loop',
        fn: async (_: {}, ctx) => {
          const answers: boolean[] = [];
          for (let i = 0; i < 3; i++) {
            answers.push(ctx.patched('fast-path'));
            await ctx.step(`item-${i}`, () => i);
          }
          return answers;
        },
      });
      expect(await task.run({})).toEqual([true, true, true]);
      const ref = await task.runNoWait({});
      expect(await ref.result()).toEqual([true, true, true]);
      expect(await ops(h, ref.runId)).toEqual(['patch:fast-path:done', 'step:item-0:done', 'step:item-1:done', 'step:item-2:done']);
    });

    test('a run that ends right after its marker keeps the marker (it rides on the finish)', async () => {
      h = await make();
      const task = h.durable.durableTask({ name: 'last', fn: async (_: {}, ctx) => (ctx.patched('tail') ? 'new' : 'old') });
      const ref = await task.runNoWait({});
      expect(await ref.result()).toBe('new');
      expect(await ops(h, ref.runId)).toEqual(['patch:tail:done']);
      expect((await h.durable.runs.export(ref.runId)).entries.map((e) => `${e.position}:${e.kind}:${e.name}`)).toEqual(['0:patch:tail']);
    });

    test('deprecatePatch accepts the marker of a run that took the patched branch, once the old branch is deleted; without it the replay fails naming the marker', async () => {
      h = await make();
      let deployed = 2;
      const task = h.durable.durableTask({
        name: 'ship',
        fn: async (_: {}, ctx) => {
          if (deployed === 2) {
            if (ctx.patched('ship-v2')) await ctx.step('ship-v2', () => 'v2');
            else await ctx.step('ship', () => 'v1');
          } else if (deployed === 3) {
            ctx.deprecatePatch('ship-v2');
            await ctx.step('ship-v2', () => 'v2');
          } else {
            await ctx.step('ship-v2', () => 'v2');
          }
          await ctx.sleepFor('1h');
          return 'shipped';
        },
      });
      const a = await task.runNoWait({});
      await h.settle();
      expect(await ops(h, a.runId)).toEqual(['patch:ship-v2:done', 'step:ship-v2:done', 'sleep::sleeping']);
      deployed = 3;
      const c = await task.runNoWait({}); // a new run under the deprecated patch records no marker
      await h.settle();
      expect(await ops(h, c.runId)).toEqual(['step:ship-v2:done', 'sleep::sleeping']);
      await h.advance(3_600_000);
      expect(await a.result()).toBe('shipped');
      expect(await c.result()).toBe('shipped');
      // The patch call deleted outright (no deprecatePatch): the recorded marker no longer matches.
      deployed = 2;
      const d = await task.runNoWait({});
      await h.settle();
      deployed = 4;
      await h.advance(3_600_000);
      const error = await d.result().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NonDeterminismError);
      expect((error as NonDeterminismError).position).toBe(0);
      expect((error as Error).message).toContain("recorded patched('ship-v2') but the code called step('ship-v2')");
    });

    test('a patch costs no request: a run with a patch makes the same requests as the same run without one', async () => {
      h = await make();
      const plain = h.durable.durableTask({
        name: 'plain',
        fn: async (_: {}, ctx) => {
          await ctx.step('a', () => 1);
          await ctx.sleepFor('1m');
          return ctx.step('b', () => 2);
        },
      });
      const patched = h.durable.durableTask({
        name: 'patched',
        fn: async (_: {}, ctx) => {
          ctx.patched('before-a');
          await ctx.step('a', () => 1);
          ctx.patched('before-sleep');
          await ctx.sleepFor('1m');
          ctx.patched('before-b');
          await ctx.step('b', () => 2);
          return ctx.patched('at-the-end') ? 2 : 0;
        },
      });
      const cost = async (task: typeof plain) => {
        await h!.settle();
        const before = requests(h!);
        const ref = await task.runNoWait({});
        await h!.settle();
        await h!.advance(60_000);
        await ref.result();
        await h!.settle();
        return { cost: diff(requests(h!), before), runId: ref.runId };
      };
      const withoutPatch = await cost(plain);
      const withPatches = await cost(patched);
      expect(withPatches.cost).toEqual(withoutPatch.cost);
      expect(await ops(h, withPatches.runId)).toEqual([
        'patch:before-a:done',
        'step:a:done',
        'patch:before-sleep:done',
        'sleep::done',
        'patch:before-b:done',
        'step:b:done',
        'patch:at-the-end:done',
      ]);
    });

    test('patched works in a DAG durable task', async () => {
      h = await make();
      let deployed = 1;
      const wf = h.durable.workflow({ name: 'orders' });
      const first = wf.task({ name: 'first', fn: async () => 1 });
      wf.durableTask({
        name: 'second',
        parents: [first],
        fn: async (_: {}, ctx) => {
          const v = deployed >= 2 && ctx.patched('second-v2') ? await ctx.step('v2', () => 2) : await ctx.step('v1', () => 1);
          await ctx.sleepFor('5m');
          return v === 2 ? { v, parent: await ctx.parentOutput(first) } : { v };
        },
      });
      const old = await wf.runNoWait({});
      await h.settle();
      deployed = 2;
      const fresh = await wf.runNoWait({});
      await h.settle();
      await h.advance(300_000);
      expect(await old.result()).toEqual({ first: 1, second: { v: 1 } });
      expect(await fresh.result()).toEqual({ first: 1, second: { v: 2, parent: 1 } });
      const taskRun = (await h.durable.runs.get(fresh.runId)).tasks!.find((t) => t.name === 'second')!.runId!;
      expect(await ops(h, taskRun)).toEqual(['patch:second-v2:done', 'step:v2:done', 'sleep::done']);
    });

    test('an empty patch id is a definition error', async () => {
      h = await make();
      const task = h.durable.durableTask({ name: 'bad', fn: async (_: {}, ctx) => ctx.patched('') });
      await expect(task.run({})).rejects.toThrow(/ctx.patched needs a patch id/);
    });
  });
}
