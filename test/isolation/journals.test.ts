/**
 * Journal isolation through the public API: `runs.get` shows a run's own operations and nothing of another
 * run's, including its child runs (separate runs with their own journals) and runs whose ids are prefixes of
 * one another or contain the key separators of the store's layout.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { RunNotFoundError } from 'durable-tasks';
import { awsHarnessFactory, memoryHarness, type Harness, type HarnessFactory } from '../contract/harness.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

const backends: [string, HarnessFactory][] = [
  ['memory', memoryHarness],
  ['aws (dynalite + fauxqs)', (...args) => aws.factory(...args)],
];

describe.each(backends)('journal isolation on %s', (_name, factory) => {
  test('runs with look-alike ids (prefixes, separators, a child id) each see exactly their own journal', { timeout: 60_000 }, async () => {
    const h: Harness = await factory();
    try {
      const task = h.durable.durableTask({
        name: 'journal',
        fn: async (input: { tag: string; steps: number }, ctx) => {
          const out: string[] = [];
          for (let i = 0; i < input.steps; i++) out.push(await ctx.step(`s${i}`, () => `${input.tag}-${i}`));
          return out;
        },
      });
      const ids = ['r', 'r1', 'r1.0.0', 'r1.0', 'r1#OP#00000000', 'RUN#r1', 'r1 ', 'R1'];
      for (const [i, runId] of ids.entries()) await h.durable.engine.start('journal', { tag: `t${i}`, steps: i + 1 }, { runId });
      await h.settle();
      for (const [i, runId] of ids.entries()) {
        const run = await h.durable.runs.get(runId);
        expect(run.runId).toBe(runId);
        expect(run.status).toBe('SUCCEEDED');
        expect(run.operations.map((o) => [o.position, o.name, o.result])).toEqual(Array.from({ length: i + 1 }, (_, p) => [p, `s${p}`, `t${i}-${p}`]));
        expect(run.input).toEqual({ tag: `t${i}`, steps: i + 1 });
      }
      await expect(h.durable.runs.get('r1.0.0.0')).rejects.toBeInstanceOf(RunNotFoundError);
      await expect(h.durable.runs.get('r1#')).rejects.toBeInstanceOf(RunNotFoundError);
    } finally {
      await h.close();
    }
  });

  test('a parent and its child are separate runs: neither journal shows the other’s operations', { timeout: 60_000 }, async () => {
    const h: Harness = await factory();
    try {
      const child = h.durable.durableTask({
        name: 'child',
        fn: async (input: { secret: string }, ctx) => {
          const a = await ctx.step('child-secret', () => input.secret);
          await ctx.sleepFor('1m');
          return { a };
        },
      });
      const parent = h.durable.durableTask({
        name: 'parent',
        fn: async (_: {}, ctx) => {
          const mine = await ctx.step('parent-step', () => 'visible');
          const kid = await ctx.runChild(child, { secret: 'only-in-child' });
          return { mine, kid };
        },
      });
      const ref = await parent.runNoWait({});
      await h.settle();
      await h.advance(60_000);
      expect(await ref.result()).toEqual({ mine: 'visible', kid: { a: 'only-in-child' } });

      const parentRun = await h.durable.runs.get(ref.runId);
      expect(parentRun.operations.map((o) => [o.kind, o.name])).toEqual([
        ['step', 'parent-step'],
        ['child', 'child'],
      ]);
      // The parent's journal holds the child's output (what runChild returned), never the child's operations.
      expect(JSON.stringify(parentRun.operations)).not.toContain('child-secret');
      const childId = parentRun.operations[1]!.resolvedBy!;
      expect(childId).not.toBe(ref.runId);
      const childRun = await h.durable.runs.get(childId);
      expect(childRun.parentRunId).toBe(ref.runId);
      expect(childRun.operations.map((o) => [o.kind, o.name])).toEqual([
        ['step', 'child-secret'],
        ['sleep', ''],
      ]);
      expect(JSON.stringify(childRun.operations)).not.toContain('parent-step');
    } finally {
      await h.close();
    }
  });

  test('two runs waiting on the same key with the same step names keep separate journals and outcomes', { timeout: 60_000 }, async () => {
    const h: Harness = await factory();
    try {
      const task = h.durable.durableTask({
        name: 'twin',
        fn: async (input: { who: string }, ctx) => {
          const before = await ctx.step('same-name', () => `before-${input.who}`);
          const event = await ctx.waitForEvent<{ to: string }>('shared', `input.to == "${input.who}"`);
          return { before, event };
        },
      });
      const a = await task.runNoWait({ who: 'a' });
      const b = await task.runNoWait({ who: 'b' });
      await h.settle();
      await h.durable.events.push('shared', { to: 'b' });
      await h.settle();
      const runA = await h.durable.runs.get(a.runId);
      const runB = await h.durable.runs.get(b.runId);
      expect(runA.status).toBe('WAITING');
      expect(runA.operations.map((o) => [o.name, o.status, o.result ?? null])).toEqual([
        ['same-name', 'done', 'before-a'],
        ['shared', 'waiting', null],
      ]);
      expect(runB).toMatchObject({ status: 'SUCCEEDED', output: { before: 'before-b', event: { to: 'b' } } });
      expect(runB.operations.map((o) => o.result)).toEqual(['before-b', { shared: { to: 'b' } }]);
    } finally {
      await h.close();
    }
  });
});
