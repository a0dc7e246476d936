/**
 * The flow-control gate: between the lease and the replay, a run takes the units of its rate limits and a slot
 * of its concurrency key, or goes back to QUEUED saying what it waits for. When a run ends, its slot goes
 * straight to the first queued run of its key (release). The hand-over is in hand-over.ts.
 */
import type { FlowStore, RateQueueEntry, RunFlowState, RunRecord } from '../../ports.ts';
import { DurableError, serializeError } from '../errors.ts';
import { finalizeCancelled, finish, isTerminal, wakeRun, type ExecutorDeps, type ProcessResult } from '../executor.ts';
import type { FlowSpec } from './options.ts';
import { releaseLease } from '../lease.ts';
import { passOn, queueEntry, release } from './hand-over.ts';

export { queueEntry, release } from './hand-over.ts';

export type GateResult = { type: 'go'; run: RunRecord } | { type: 'done'; result: ProcessResult };

export interface GateDeps {
  flow: FlowStore;
  /** Cancels a run (CANCEL_IN_PROGRESS cancels the oldest holder of a full key). */
  cancel(runId: string): Promise<void>;
  /** How often, at most, a full key's holders are checked for runs that ended without releasing. */
  recheckMs: number;
  /** The run's `concurrency.maxRuns` (1 without concurrency). */
  maxRuns: number;
}

/** A key computed by a CEL expression for one run: a non-empty string, or a DurableError naming what it got. */
function keyOf(expression: { source: string; evaluate(input: unknown): unknown }, run: RunRecord, field: string): string {
  let value: unknown;
  try {
    value = expression.evaluate(JSON.parse(run.input) as unknown);
  } catch (error) {
    throw new DurableError(`${field} '${expression.source}' failed for this run: ${(error as Error).message}`);
  }
  if (typeof value !== 'string' || value === '') {
    throw new DurableError(`${field} '${expression.source}' must yield a non-empty string, got ${JSON.stringify(value) ?? String(value)} (${typeof value}) for this run`);
  }
  return value;
}

/** Runs queued ahead read per rate-limit take (beyond it, the run waits: order is kept, a window may go under-used). */
const MAX_AHEAD = 1_000;
/** Sorts after every queued run (priority 0, the latest time). */
const QUEUE_END = { runId: '', priority: 0, createdAt: 999_999_999_999_999 };
/** Queued runs ahead checked for having ended, once per window of a key. */
const MAX_CHECKED = 25;

export async function admit(run: RunRecord, spec: FlowSpec, deps: ExecutorDeps, gate: GateDeps): Promise<GateResult> {
  for (let round = 0; round < 5; round++) {
    const step = await admitOnce(run, spec, deps, gate);
    if (step.type !== 'again') return step;
    run = step.run;
  }
  // Woken again and again while it gated (a busy key): give the run back, to be gated afresh, rather than leave it
  // RUNNING under a lease nobody renews until the lease runs out.
  await releaseLease(run.runId, deps.workerId, deps.backend);
  await deps.backend.dispatcher.dispatch({ runId: run.runId });
  return { type: 'done', result: 'lost-lease' };
}

async function admitOnce(run: RunRecord, spec: FlowSpec, deps: ExecutorDeps, gate: GateDeps): Promise<GateResult | { type: 'again'; run: RunRecord }> {
  const { clock } = deps.backend;
  const state: RunFlowState = { ...run.flow };
  delete state.waitingFor;
  const fail = (error: Error) => finish(run, deps, { status: 'FAILED', error: serializeError(error) }).then((result) => ({ type: 'done' as const, result }));
  // 1. Rate limits: units are taken when the run starts; a spent limit parks it until its window refills.
  for (const [i, limit] of spec.rateLimits.entries()) {
    let key: string;
    try {
      key = limit.staticKey ?? keyOf(limit.dynamicKey!, run, `rateLimits[${i}].dynamicKey`);
    } catch (error) {
      return fail(error as Error);
    }
    if (state.taken?.includes(key)) continue;
    const now = clock.now();
    const dynamic = limit.dynamicKey ? { limit: limit.limit!, durationMs: limit.durationMs! } : undefined;
    const entry = { ...queueEntry(run), units: limit.units };
    const { consumed, ahead } = await takeUnits(key, entry, now, dynamic, deps, gate);
    if (consumed.type === 'taken') {
      state.taken = [...(state.taken ?? []), key];
      if (state.rateQueued === key) {
        await gate.flow.dequeueRateWaiter(key, entry);
        delete state.rateQueued;
        // Runs behind it may have counted its units as still reserved: the new head looks again now.
        const [head] = await gate.flow.rateWaitersAhead(key, QUEUE_END, 1);
        if (head) await wakeRun(head.runId, deps);
      }
      continue;
    }
    if (consumed.type === 'too-many') return fail(new DurableError(`rate limit '${key}': the run needs ${limit.units} units, above the limit of ${consumed.limit} per window`));
    if (consumed.type === 'missing') {
      return fail(new DurableError(`rate limit '${key}' was never set: call durable.rateLimits.upsert({ key: '${key}', limit, duration }) before starting runs that use it`));
    }
    if (state.rateQueued !== key) {
      await gate.flow.enqueueRateWaiter(key, entry);
      state.rateQueued = key;
    }
    // Woken at the refill (one timer per run and window; nothing runs or polls meanwhile).
    const wakeAt = consumed.refillAt;
    state.waitingFor = `rate limit '${key}' (${consumed.limit} units per window) until ${new Date(consumed.refillAt).toISOString()}${ahead.length ? `, after ${ahead.length}${ahead.length >= MAX_AHEAD ? '+' : ''} run(s) queued ahead` : ''}`;
    await deps.backend.timers.schedule(`${run.runId}-rate-${wakeAt}`, wakeAt, { runId: run.runId });
    return park(run, state, deps, gate, wakeAt);
  }
  // 2. Concurrency: a slot of the key, or the key's queue.
  const concurrency = spec.concurrency;
  if (concurrency && !state.admitted) {
    try {
      state.slot ??= `${run.name}#${keyOf(concurrency.expression, run, 'concurrency.expression')}`;
    } catch (error) {
      return fail(error as Error);
    }
    const slot = state.slot;
    // A queued run woken by a hand-over finds its slot taken for it: a read, not a write that fails.
    const handed = state.queued ? await gate.flow.readSlot(slot) : undefined;
    let taken = handed?.holders.includes(run.runId) ? { result: 'held' as const, state: handed } : await acquire(slot, run.runId, concurrency.maxRuns, deps, gate);
    if (taken.result === 'full') {
      if (concurrency.strategy === 'CANCEL_NEWEST') {
        return { type: 'done', result: await finalizeCancelled({ ...run, flow: state }, deps, `cancelled: concurrency key '${slot}' already has ${concurrency.maxRuns} run(s) in flight (CANCEL_NEWEST)`) };
      }
      // Queue first, then look again: a slot freed in between is either handed to this run or found free now.
      await gate.flow.enqueue(slot, queueEntry(run));
      state.queued = true;
      if (concurrency.strategy === 'CANCEL_IN_PROGRESS') await cancelOldest(taken.state.holders, concurrency.maxRuns, deps, gate);
      taken = await gate.flow.acquireSlot(slot, run.runId, concurrency.maxRuns);
    }
    if (taken.result === 'full') {
      state.waitingFor = `concurrency key '${slot}': ${concurrency.maxRuns} run(s) in flight (${concurrency.strategy})`;
      return park(run, state, deps, gate, undefined);
    }
    state.admitted = true;
    if (state.queued) {
      await gate.flow.dequeue(slot, queueEntry(run));
      delete state.queued;
    }
  }
  const unchanged = JSON.stringify(state) === JSON.stringify(run.flow ?? {});
  if (unchanged) return { type: 'go', run };
  const updated = await deps.backend.store.setFlow(run.runId, { owner: deps.workerId, flow: state });
  if (updated) return { type: 'go', run: updated };
  return settle(run.runId, state, deps, gate);
}

/**
 * Takes a limit's units, leaving those of the runs queued ahead (priority among runs waiting for the limit). When
 * units are left but kept for them, once per window the queue items of runs that ended are dropped (a crash between
 * a run's end and its dequeue) and the take tried again, so a dead waiter holds no units back.
 */
async function takeUnits(key: string, entry: RateQueueEntry, now: number, dynamic: { limit: number; durationMs: number } | undefined, deps: ExecutorDeps, gate: GateDeps) {
  for (let attempt = 0; ; attempt++) {
    const ahead = await gate.flow.rateWaitersAhead(key, entry, MAX_AHEAD);
    const reserve = ahead.length >= MAX_AHEAD ? Number.MAX_SAFE_INTEGER / 2 : ahead.reduce((sum, e) => sum + e.units, 0);
    const consumed = await gate.flow.consumeUnits(key, entry.units, now, dynamic, reserve);
    if (attempt > 0 || consumed.type !== 'spent' || !consumed.reserved || ahead.length === 0) return { consumed, ahead };
    if (!(await gate.flow.markRateChecked(key, consumed.refillAt))) return { consumed, ahead };
    let dropped = false;
    for (const waiter of ahead.slice(0, MAX_CHECKED)) {
      const waiting = await deps.backend.store.getRun(waiter.runId);
      if (waiting && !isTerminal(waiting)) continue;
      await gate.flow.dequeueRateWaiter(key, waiter);
      dropped = true;
    }
    if (!dropped) return { consumed, ahead };
  }
}

/** Takes a slot; on a full key whose holders were not checked lately, frees the slots of runs that have ended. */
async function acquire(slot: string, runId: string, maxRuns: number, deps: ExecutorDeps, gate: GateDeps) {
  const taken = await gate.flow.acquireSlot(slot, runId, maxRuns);
  if (taken.result !== 'full') return taken;
  const now = deps.backend.clock.now();
  const { checkedAt } = taken.state;
  if (checkedAt !== undefined && now - checkedAt < gate.recheckMs) return taken;
  if (!(await gate.flow.markSlotChecked(slot, now, checkedAt))) return taken;
  let freed = false;
  for (const holder of taken.state.holders) {
    const held = await deps.backend.store.getRun(holder);
    if (!held || isTerminal(held)) freed = (await gate.flow.releaseSlot(slot, holder)) || freed;
  }
  if (!freed) return taken;
  const again = await gate.flow.acquireSlot(slot, runId, maxRuns);
  // More than one freed: the others go to queued runs (hand-over.ts), as a release would have given them.
  await passOn(slot, undefined, maxRuns, deps, gate.flow);
  return again;
}

/** CANCEL_IN_PROGRESS: cancels the oldest in-flight runs of a full key, enough to free one slot. */
async function cancelOldest(holders: readonly string[], maxRuns: number, deps: ExecutorDeps, gate: GateDeps): Promise<void> {
  const runs = (await Promise.all(holders.map((id) => deps.backend.store.getRun(id)))).filter((r): r is RunRecord => !!r && !isTerminal(r));
  const live = runs.filter((r) => !r.cancelRequested).sort((a, b) => a.createdAt - b.createdAt);
  const excess = runs.length - maxRuns + 1 - (runs.length - live.length);
  for (const victim of live.slice(0, Math.max(0, excess))) await gate.cancel(victim.runId).catch(() => undefined);
}

/**
 * Back to QUEUED (conditional on this lease and on no wake since it: a slot handed over meanwhile wakes the
 * run, and then the gate goes again instead of parking).
 */
async function park(run: RunRecord, state: RunFlowState, deps: ExecutorDeps, gate: GateDeps, wakeAt: number | undefined): Promise<GateResult | { type: 'again'; run: RunRecord }> {
  const { store, clock } = deps.backend;
  const parked = await store.queue(run.runId, { owner: deps.workerId, wake: run.wake, flow: state, now: clock.now(), ...(wakeAt !== undefined ? { wakeAt } : {}) });
  if (parked) return { type: 'done', result: 'queued' };
  return settle(run.runId, state, deps, gate);
}

/** A gate write failed: a cancel (finish it), a wake (go again, keeping what was taken), or a lost lease. */
async function settle(runId: string, state: RunFlowState, deps: ExecutorDeps, gate: GateDeps): Promise<GateResult | { type: 'again'; run: RunRecord }> {
  const { store, clock } = deps.backend;
  const current = await store.getRun(runId);
  if (!current || current.leaseOwner !== deps.workerId || current.status !== 'RUNNING') return { type: 'done', result: 'lost-lease' };
  if (current.cancelRequested) {
    const result = await finalizeCancelled({ ...current, flow: state }, deps);
    // What this lease took but could not record: the finisher saw the stored state only (a second release is a no-op).
    await release({ ...current, flow: state }, deps, gate.flow, gate.maxRuns);
    return { type: 'done', result };
  }
  const again = await store.replayAgain(runId, { owner: deps.workerId, until: clock.now() + deps.leaseMs, flow: state });
  return again ? { type: 'again', run: again } : { type: 'done', result: 'lost-lease' };
}
