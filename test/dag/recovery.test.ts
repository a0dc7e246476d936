/**
 * The orchestrator under faults: a crash between any two of its writes loses nothing (the sweeper
 * re-dispatches the workflow run once its lease expires), and a resolution that lands while it holds the
 * lease makes it go again instead of parking on stale state (the wake counter).
 */
import { describe, expect, test, vi } from 'vitest';
import { UserEventCondition } from 'durable-tasks';
import type { RunRecord, TaskState } from '../../sdk/ports.ts';
import { clientWithStore, delegatingStore } from '../support/env.ts';
import { taskOf } from './fixture.ts';

const LEASE_MS = 30_000;

function quietly() {
  return vi.spyOn(console, 'error').mockImplementation(() => undefined);
}

/** The crashed pass's lease runs out and the sweeper re-dispatches the workflow run. */
async function sweepAfterLease(env: ReturnType<typeof clientWithStore>) {
  await env.advance(LEASE_MS + 1);
  await env.durable.engine.sweep();
  await env.settle();
}

describe('crash recovery', () => {
  test('a crash between deciding a task (QUEUED) and creating its task run: the next pass creates it, once', async () => {
    const errors = quietly();
    let crashed = false;
    const env = clientWithStore((store) =>
      delegatingStore(store, {
        createRun: async (run: RunRecord) => {
          if (run.workflowRunId && !crashed) {
            crashed = true;
            throw new Error('crash before the task run was written');
          }
          return store.createRun(run);
        },
      }),
    );
    let executions = 0;
    const wf = env.durable.workflow({ name: 'crash-create' });
    wf.task({ name: 'only', fn: async () => ++executions });
    const ref = await wf.runNoWait({});
    await env.settle();
    expect(crashed).toBe(true);
    expect((await env.durable.runs.get(ref.runId)).status).toBe('RUNNING'); // leased by the crashed pass
    await sweepAfterLease(env);
    expect(await ref.result()).toEqual({ only: 1 });
    expect(executions).toBe(1);
    errors.mockRestore();
  });

  test('a crash between registering the gate waiters and recording WAITING: the next pass keeps the original timer', async () => {
    const errors = quietly();
    let crashed = false;
    const env = clientWithStore((store) =>
      delegatingStore(store, {
        putTaskState: async (state: TaskState, expected) => {
          if (state.status === 'WAITING' && !crashed) {
            crashed = true;
            throw new Error('crash after the waiters were written');
          }
          return store.putTaskState(state, expected);
        },
      }),
    );
    const wf = env.durable.workflow({ name: 'crash-register' });
    const first = wf.task({ name: 'first', fn: async () => 1 });
    wf.task({ name: 'later', parents: [first], waitFor: { sleepFor: '5m' }, fn: async (_i, ctx) => ctx.triggers() });
    const ref = await wf.runNoWait({});
    await env.settle();
    expect(crashed).toBe(true);
    await sweepAfterLease(env);
    expect((await taskOf(ref.runId, 'later', env.durable)).status).toBe('WAITING');
    await env.advance(5 * 60_000 - LEASE_MS - 1); // exactly 5 minutes after the first registration
    expect(await ref.result()).toEqual({ first: 1, later: { 'sleep-5m': { durationMs: 300_000 } } });
    errors.mockRestore();
  });

  test('a crash of the orchestrator after a task run reported: the outcome is recorded by the next pass', async () => {
    const errors = quietly();
    let crashes = 0;
    const env = clientWithStore((store) =>
      delegatingStore(store, {
        putTaskState: async (state: TaskState, expected) => {
          if (state.status === 'SUCCEEDED' && state.task === 'a' && crashes === 0) {
            crashes++;
            throw new Error('crash while recording the outcome');
          }
          return store.putTaskState(state, expected);
        },
      }),
    );
    const counts = { a: 0, b: 0 };
    const wf = env.durable.workflow({ name: 'crash-outcome' });
    const a = wf.task({ name: 'a', fn: async () => ++counts.a });
    wf.task({ name: 'b', parents: [a], fn: async () => ++counts.b });
    const ref = await wf.runNoWait({});
    await env.settle();
    expect(crashes).toBe(1);
    await sweepAfterLease(env);
    expect(await ref.result()).toEqual({ a: 1, b: 1 });
    expect(counts).toEqual({ a: 1, b: 1 });
    errors.mockRestore();
  });
});

describe('no lost wake-up', () => {
  test('a gate resolved while the orchestrator holds the lease makes it go again rather than park', async () => {
    let pushed = false;
    let push: () => Promise<unknown> = async () => undefined;
    const env = clientWithStore((store) =>
      delegatingStore(store, {
        putTaskState: async (state: TaskState, expected) => {
          const written = await store.putTaskState(state, expected);
          // The event lands after the waiters exist, between this pass's read and its suspend.
          if (state.status === 'WAITING' && !pushed) {
            pushed = true;
            await push();
          }
          return written;
        },
      }),
    );
    const wf = env.durable.workflow({ name: 'race' });
    const first = wf.task({ name: 'first', fn: async () => 1 });
    wf.task({ name: 'gated', parents: [first], waitFor: new UserEventCondition('go', '', 'go'), fn: async (_i, ctx) => ctx.triggers() });
    push = () => env.durable.events.push('go', { now: true });
    const ref = await wf.runNoWait({});
    await env.settle();
    expect(pushed).toBe(true);
    expect((await env.durable.runs.get(ref.runId)).status).toBe('SUCCEEDED'); // parked on stale state, it would be WAITING
    expect(await ref.result()).toEqual({ first: 1, gated: { go: { now: true } } });
  });
});
