/**
 * durable.runs.export → JSON → replayHistory on the test environment: a history replays without the store and
 * without running a step body, a changed step name is caught at its position, bad files are typed errors.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { InvalidHistoryError, NonDeterminismError, type RunHistory } from 'durable-tasks';
import { createTestEnvironment, replayHistory, type TestEnvironment } from 'durable-tasks/testing';
import { CHECKOUT_OUTPUT, defineCheckout, type CheckoutKnobs } from './checkout-scenario.ts';

const roundTrip = (history: RunHistory): RunHistory => JSON.parse(JSON.stringify(history)) as RunHistory;

let env: TestEnvironment | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

async function recordCheckout(finish: boolean) {
  env = await createTestEnvironment();
  const knobs: CheckoutKnobs = { effects: 0 };
  const { checkout } = defineCheckout(env.durable, knobs);
  const ref = await checkout.runNoWait({ id: 'c1' });
  await env.settle();
  await env.advanceTime('1s');
  if (finish) {
    await env.durable.events.push('paid', { id: 'c1', amount: 30 });
    expect(await ref.result()).toEqual(CHECKOUT_OUTPUT);
  }
  return { knobs, checkout, history: roundTrip(await env.durable.runs.export(ref.runId)), runId: ref.runId };
}

describe('runs.export', () => {
  test('a parked run: name, input, attempt, every entry with its result or error, and the wait it is parked on as pending', async () => {
    const { history, runId } = await recordCheckout(false);
    expect(history).toMatchObject({ format: 1, runId, name: 'checkout', status: 'WAITING', attempt: 0, input: { id: 'c1' } });
    expect(history.entries.map((e) => [e.position, e.kind, e.name, e.status])).toEqual([
      [0, 'now', '', 'done'],
      [1, 'step', 'price', 'done'],
      [2, 'patch', 'express', 'done'],
      [3, 'sleep', '', 'done'],
      [4, 'event', 'paid', 'pending'],
    ]);
    expect(history.entries[1]!.result).toBe(20);
    expect(typeof history.entries[0]!.time).toBe('string');
    expect(history.entries[3]!.dueAt).toBe(new Date(Date.parse(history.entries[3]!.time) + 1000).toISOString());
  });

  test('a finished run, with a failed step\'s error', async () => {
    const { history } = await recordCheckout(true);
    expect(history.status).toBe('SUCCEEDED');
    expect(history.output).toEqual(CHECKOUT_OUTPUT);
    expect(history.entries.map((e) => `${e.kind}:${e.name}:${e.status}`).slice(4)).toEqual(['event:paid:done', 'step:charge-backup:failed', 'child:receipt:done']);
    expect(history.entries[5]!.error).toEqual({ name: 'NonRetryableError', message: 'card declined' });
  });
});

describe('replayHistory', () => {
  test('replays a parked run and a finished run from their exported JSON alone: no step body runs', async () => {
    for (const finish of [false, true]) {
      const { knobs, checkout, history } = await recordCheckout(finish);
      const effects = knobs.effects;
      await expect(replayHistory(checkout, history)).resolves.toBeUndefined();
      await expect(replayHistory(checkout, JSON.stringify(history))).resolves.toBeUndefined();
      expect(knobs.effects).toBe(effects);
      await env!.close();
      env = undefined;
    }
  });

  test('a renamed step fails the replay with NonDeterminismError naming the position, the recorded and the called operation', async () => {
    const { knobs, checkout, history } = await recordCheckout(true);
    knobs.renameStep = true;
    const error = await replayHistory(checkout, history).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonDeterminismError);
    expect(error).toMatchObject({ position: 1, expected: "step('price')", actual: "step('price-v2')" });
    expect((error as Error).message).toContain("position 1: the journal recorded step('price') but the code called step('price-v2')");
  });

  test('a history edited so its recorded step is renamed fails the same way (the negative test of a fixture)', async () => {
    const { checkout, history } = await recordCheckout(false);
    history.entries[1]!.name = 'old-price';
    await expect(replayHistory(checkout, history)).rejects.toMatchObject({ name: 'NonDeterminismError', position: 1, expected: "step('old-price')" });
  });

  test('code that goes past the history is new ground: the replay stops there and resolves', async () => {
    env = await createTestEnvironment();
    let more = false;
    let effects = 0;
    const task = env.durable.durableTask({
      name: 'grow',
      fn: async (_: {}, ctx) => {
        await ctx.step('a', () => effects++);
        if (more) await ctx.step('b', () => effects++);
        return 'ok';
      },
    });
    const ref = await task.runNoWait({});
    await ref.result();
    const history = roundTrip(await env.durable.runs.export(ref.runId));
    more = true;
    await expect(replayHistory(task, history)).resolves.toBeUndefined();
    expect(effects).toBe(1);
  });

  test('code that returns before reaching every recorded operation fails naming the first one it missed', async () => {
    env = await createTestEnvironment();
    let short = false;
    const task = env.durable.durableTask({
      name: 'shrink',
      fn: async (_: {}, ctx) => {
        await ctx.step('a', () => 1);
        if (!short) await ctx.step('b', () => 2);
        return 'ok';
      },
    });
    const history = roundTrip(await env.durable.runs.export((await task.runNoWait({})).runId));
    await env.settle();
    const full = roundTrip(await env.durable.runs.export(history.runId));
    short = true;
    await expect(replayHistory(task, full)).rejects.toMatchObject({ name: 'NonDeterminismError', position: 1, expected: "step('b')", actual: 'nothing (the task returned)' });
  });

  test('patches: an old history replays against patched code (old branch), a marker against deprecatePatch; dropping the patch call fails', async () => {
    env = await createTestEnvironment();
    let version = 1;
    const task = env.durable.durableTask({
      name: 'ship',
      fn: async (_: {}, ctx) => {
        if (version === 1) await ctx.step('ship', () => 'v1');
        else if (version === 2) {
          if (ctx.patched('ship-v2')) await ctx.step('ship-v2', () => 'v2');
          else await ctx.step('ship', () => 'v1');
        } else if (version === 3) {
          ctx.deprecatePatch('ship-v2');
          await ctx.step('ship-v2', () => 'v2');
        } else await ctx.step('ship-v2', () => 'v2');
        await ctx.step('after', () => 'done');
      },
    });
    const old = roundTrip(await env.durable.runs.export((await task.runNoWait({})).runId));
    await env.settle();
    const oldDone = roundTrip(await env.durable.runs.export(old.runId));
    version = 2;
    const ref = await task.runNoWait({});
    await ref.result();
    const patched = roundTrip(await env.durable.runs.export(ref.runId));
    expect(patched.entries.map((e) => e.kind)).toEqual(['patch', 'step', 'step']);
    await expect(replayHistory(task, oldDone)).resolves.toBeUndefined();
    await expect(replayHistory(task, patched)).resolves.toBeUndefined();
    version = 3;
    await expect(replayHistory(task, patched)).resolves.toBeUndefined();
    await expect(replayHistory(task, oldDone)).rejects.toMatchObject({ name: 'NonDeterminismError', position: 0, expected: "step('ship')", actual: "step('ship-v2')" });
    version = 4;
    await expect(replayHistory(task, patched)).rejects.toMatchObject({ name: 'NonDeterminismError', position: 0, expected: "patched('ship-v2')", actual: "step('ship-v2')" });
  });

  test('a DAG durable task replays with its parent outputs and workflow input from the history', async () => {
    env = await createTestEnvironment();
    const wf = env.durable.workflow({ name: 'order-flow' });
    const first = wf.task({ name: 'first', fn: async (input: { n: number }) => input.n * 2 });
    let seen: unknown[] = [];
    const second = wf.durableTask({
      name: 'second',
      parents: [first],
      fn: async (_: {}, ctx) => {
        const parent = (await ctx.parentOutput(first))!;
        const n = ctx.workflowInput<{ n: number }>().n;
        seen = [parent, n];
        return ctx.step('sum', () => parent + n);
      },
    });
    const ref = await wf.runNoWait({ n: 5 });
    expect(await ref.result()).toEqual({ first: 10, second: 15 });
    const taskRunId = (await env.durable.runs.get(ref.runId)).tasks!.find((t) => t.name === 'second')!.runId!;
    const history = roundTrip(await env.durable.runs.export(taskRunId));
    expect(history.name).toBe('order-flow/second');
    seen = [];
    await expect(replayHistory(second, history)).resolves.toBeUndefined();
    expect(seen).toEqual([10, 5]);
  });

  test('a hand-written history needs only format, name, input and the entries\' position, kind, name and result or error', async () => {
    env = await createTestEnvironment();
    const task = env.durable.durableTask({
      name: 'minimal',
      fn: async (input: { n: number }, ctx) => {
        const doubled = await ctx.step('double', () => input.n * 2);
        await ctx.sleepFor('1h');
        try {
          await ctx.step('charge', () => 0);
        } catch (error) {
          return `${doubled} ${(error as Error).message}`;
        }
        return 'charged';
      },
    });
    const history = {
      format: 1,
      name: 'minimal',
      input: { n: 2 },
      entries: [
        { position: 0, kind: 'step', name: 'double', result: 4 },
        { position: 1, kind: 'sleep', name: '', result: { durationMs: 3_600_000 } },
        { position: 2, kind: 'step', name: 'charge', error: { name: 'Error', message: 'declined' } },
      ],
    };
    await expect(replayHistory(task, history as unknown as RunHistory)).resolves.toBeUndefined();
    history.entries[1]!.kind = 'step';
    await expect(replayHistory(task, history as unknown as RunHistory)).rejects.toMatchObject({ name: 'NonDeterminismError', position: 1, expected: "step('')", actual: 'sleep' });
  });

  test('a history of another task, an unknown format or a malformed file is an InvalidHistoryError naming the problem', async () => {
    const { checkout, history } = await recordCheckout(false);
    const other = { ...history, name: 'refund' };
    await expect(replayHistory(checkout, other)).rejects.toThrow(InvalidHistoryError);
    await expect(replayHistory(checkout, other)).rejects.toThrow("the history is of task 'refund'");
    await expect(replayHistory(checkout, { ...history, format: 2 } as unknown as RunHistory)).rejects.toThrow(/format 2, which this version cannot read \(it reads format 1\)/);
    await expect(replayHistory(checkout, { name: 'checkout' } as unknown as RunHistory)).rejects.toThrow(/no "format" field/);
    await expect(replayHistory(checkout, '{ not json')).rejects.toThrow(/is not JSON/);
    const badKind = roundTrip(history);
    (badKind.entries[2] as { kind: string }).kind = 'teleport';
    await expect(replayHistory(checkout, badKind)).rejects.toThrow(/entries\[2\]\.kind must be one of .*got "teleport"/);
    await expect(replayHistory(checkout, { ...history, entries: 'x' } as unknown as RunHistory)).rejects.toThrow(/"entries" must be an array/);
  });
});
