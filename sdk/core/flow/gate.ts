/**
 * The flow-control gate: between the lease and the replay, a run takes the units of its rate limits and a slot
 * of its concurrency key, or goes back to QUEUED saying what it waits for. When a run ends, its slot goes
 * straight to the first queued run of its key (release). See sdk/core/flow/README.md for the protocol.
 */
import type { FlowStore, RunFlowState, RunRecord, SlotQueueEntry } from '../../ports.ts';
import { DurableError, serializeError } from '../errors.ts';
import { finalizeCancelled, finish, isTerminal, wakeRun, type ExecutorDeps, type ProcessResult } from '../executor.ts';
import { Priority, type FlowSpec } from './options.ts';

export type GateResult = { type: 'go'; run: RunRecord } | { type: 'done'; result: ProcessResult };

export interface GateDeps {
  flow: FlowStore;
  /** Cancels a run (CANCEL_IN_PROGRESS cancels the oldest holder of a full key). */
  cancel(runId: string): Promise<void>;
  /** How often, at most, a full key's holders are checked for runs that ended without releasing. */
  recheckMs: number;
}

/** Queue position of a run: its priority (default LOW), then its age. */
export function queueEntry(run: RunRecord): SlotQueueEntry {
  return { runId: run.runId, priority: run.priority ?? Priority.LOW, createdAt: run.createdAt };
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

export async function admit(run: RunRecord, spec: FlowSpec, deps: ExecutorDeps, gate: GateDeps): Promise<GateResult> {
  for (let round = 0; round < 5; round++) {
    const step = await admitOnce(run, spec, deps, gate);
    if (step.type !== 'again') return step;
    run = step.run;
  }
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
    const consumed = await gate.flow.consumeUnits(key, limit.units, now, dynamic);
    if (consumed.type === 'taken') {
      state.taken = [...(state.taken ?? []), key];
      continue;
    }
    if (consumed.type === 'too-many') return fail(new DurableError(`rate limit '${key}': the run needs ${limit.units} units, above the limit of ${consumed.limit} per window`));
    if (consumed.type === 'missing') {
      return fail(new DurableError(`rate limit '${key}' was never set: call durable.rateLimits.upsert({ key: '${key}', limit, duration }) before starting runs that use it`));
    }
    // Woken at the refill (one timer per run and window; nothing runs or polls meanwhile).
    const wakeAt = consumed.refillAt;
    state.waitingFor = `rate limit '${key}' (${consumed.limit} units per window) until ${new Date(consumed.refillAt).toISOString()}`;
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
    let taken = await acquire(slot, run.runId, concurrency.maxRuns, deps, gate);
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
  const updated = await deps.backend.store.updateRun(run.runId, { set: { flow: state } }, { leaseOwner: deps.workerId, notCancelRequested: true });
  if (updated) return { type: 'go', run: updated };
  return settle(run.runId, state, deps, gate);
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
  return freed ? gate.flow.acquireSlot(slot, runId, maxRuns) : taken;
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
  const parked = await store.updateRun(
    run.runId,
    {
      set: { status: 'QUEUED', flow: state, updatedAt: clock.now(), ...(wakeAt !== undefined ? { wakeAt } : {}) },
      remove: wakeAt !== undefined ? ['leaseOwner', 'leaseUntil'] : ['leaseOwner', 'leaseUntil', 'wakeAt'],
    },
    { leaseOwner: deps.workerId, notCancelRequested: true, wake: run.wake },
  );
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
    await release({ ...current, flow: state }, deps, gate.flow);
    return { type: 'done', result };
  }
  const again = await store.updateRun(runId, { markSeen: true, set: { flow: state, leaseUntil: clock.now() + deps.leaseMs } }, { leaseOwner: deps.workerId });
  return again ? { type: 'again', run: again } : { type: 'done', result: 'lost-lease' };
}

/**
 * A run ended: its slot goes to the first queued run of its key (one conditional write, the count unchanged),
 * which is woken at once; with none queued the slot is freed. A queued run that ended leaves the queue.
 */
export async function release(run: RunRecord, deps: Pick<ExecutorDeps, 'backend'>, flow: FlowStore): Promise<void> {
  const slot = run.flow?.slot;
  if (!slot) return;
  if (run.flow?.queued) await flow.dequeue(slot, queueEntry(run));
  let holder = run.runId;
  for (let round = 0; round < 20; round++) {
    const next = (await flow.queueHead(slot, 2)).find((e) => e.runId !== holder);
    if (!next) {
      await flow.releaseSlot(slot, holder);
      return;
    }
    const moved = await flow.transferSlot(slot, holder, next.runId);
    if (moved === 'from-absent') return;
    await flow.dequeue(slot, next);
    if (moved === 'to-present') continue;
    // Woken, it finds its slot taken for it. A run that ended while queued passes the slot on in its turn.
    if (await wakeRun(next.runId, deps)) return;
    holder = next.runId;
  }
}
