/**
 * A task's gates: its `skipIf`, `cancelIf` and `waitFor` condition trees, raced once its parents are done.
 * Sleep and event leaves are registered as waiters on the workflow run, exactly like a durable wait (the
 * router resolves them first-wins and wakes the run); ParentCondition leaves are decided at once from the
 * parent's output. The first gate to be satisfied decides; ties go skip > cancel > run.
 */
import type { Backend, JournalEntry, StoredEvent, TaskState, Waiter } from '../../ports.ts';
import { compileExpression } from '../cel.ts';
import { evaluate, leaves, type ConditionNode, type LeafNode } from '../conditions.ts';
import type { TaskSpec } from '../definitions.ts';
import { decodePayload } from '../json.ts';
import { timerId } from '../replay.ts';
import { eventWaiter, eventsFor, stampEventOrder } from '../event-order.ts';
import { writeWaiters } from '../operations/wait.ts';
import { GATES, dagPosition, type Gate } from './positions.ts';

/** What the gates decided: run, skip or cancel the task (with the data of the conditions that did it), or wait. */
export type GateDecision =
  | { type: 'run' | 'skip' | 'cancel'; triggers: Record<string, unknown>; reason?: string }
  | { type: 'pending'; wakeAt: number | undefined };

/** Everything the gates of one task can read. */
export interface GateInputs {
  spec: TaskSpec;
  taskIndex: number;
  /** When the gates were registered (the task's parents were all done). */
  since: number;
  now: number;
  /** The parents' task states (terminal: SUCCEEDED or SKIPPED). */
  parents: ReadonlyMap<string, TaskState>;
  /** The workflow run's journal entries and waiters, by position. */
  entries: ReadonlyMap<number, JournalEntry>;
  waiters: ReadonlyMap<number, readonly Waiter[]>;
}

interface GateState {
  gate: Gate;
  satisfied?: { at: number; data: Record<string, unknown> };
  /** No pending leaf can make it true any more (its ParentConditions decided against it). */
  impossible: boolean;
  /** Earliest pending sleep leaf. */
  wakeAt: number | undefined;
}

function gateTree(spec: TaskSpec, gate: Gate): ConditionNode | undefined {
  return spec[gate];
}

/** True when a gate has leaves that must be registered as waiters (sleeps and events). */
export function needsWaiters(spec: TaskSpec): boolean {
  return GATES.some((gate) => {
    const tree = gateTree(spec, gate);
    return tree !== undefined && leaves(tree).some((leaf) => leaf.type === 'sleep' || leaf.type === 'event');
  });
}

/**
 * Decides a task from the state of its gates.
 *
 * @throws {InvalidExpressionError} a ParentCondition that fails to evaluate against the parent's output.
 */
export function decide(input: GateInputs): GateDecision {
  const states = GATES.filter((gate) => gateTree(input.spec, gate) !== undefined).map((gate) => gateState(input, gate));
  const candidates: { gate: Gate | 'run'; at: number; data: Record<string, unknown> }[] = [];
  for (const state of states) if (state.satisfied) candidates.push({ gate: state.gate, ...state.satisfied });
  // No waitFor: the task may run as soon as its parents are done.
  if (input.spec.waitFor === undefined) candidates.push({ gate: 'run', at: input.since, data: {} });
  let winner = candidates[0];
  for (const c of candidates) if (c.at < winner!.at) winner = c; // strict: ties keep the earlier, higher-priority gate
  if (winner) {
    const type = winner.gate === 'skipIf' ? 'skip' : winner.gate === 'cancelIf' ? 'cancel' : 'run';
    return { type, triggers: winner.data };
  }
  const waitFor = states.find((s) => s.gate === 'waitFor');
  if (waitFor?.impossible) return { type: 'skip', triggers: {}, reason: 'its waitFor can never be satisfied (a ParentCondition in it is false)' };
  const dues = states.map((s) => s.wakeAt).filter((t): t is number => t !== undefined);
  return { type: 'pending', wakeAt: dues.length ? Math.min(...dues) : undefined };
}

function gateState(input: GateInputs, gate: Gate): GateState {
  const tree = gateTree(input.spec, gate)!;
  const position = dagPosition(input.taskIndex, gate);
  const all = leaves(tree);
  // The router resolved this gate first-wins: that entry is the answer.
  const entry = input.entries.get(position);
  if (entry && entry.status === 'done') {
    return { gate, satisfied: { at: entry.createdAt, data: decodePayload<Record<string, unknown>>(entry.result) ?? {} }, impossible: false, wakeAt: undefined };
  }
  const waiters = new Map((input.waiters.get(position) ?? []).map((w) => [w.index, w]));
  const satisfied = new Map<number, { at: number; data: unknown }>();
  const decidedFalse = new Set<number>();
  let wakeAt: number | undefined;
  all.forEach((leaf, index) => {
    if (leaf.type === 'parent') {
      const parent = input.parents.get(leaf.parent);
      const output = parent?.status === 'SUCCEEDED' ? decodePayload(parent.output) : undefined;
      // A skipped parent has no output: its ParentConditions are false.
      if (parent?.status === 'SUCCEEDED' && compileExpression(leaf.expression, 'output').matches(output)) satisfied.set(index, { at: input.since, data: output ?? null });
      else decidedFalse.add(index);
      return;
    }
    const waiter = waiters.get(index);
    if (!waiter) return;
    if (waiter.satisfiedAt !== undefined) {
      satisfied.set(index, { at: waiter.satisfiedAt, data: decodePayload(waiter.data) });
    } else if (leaf.type === 'sleep' && waiter.dueAt !== undefined) {
      if (waiter.dueAt <= input.now) satisfied.set(index, { at: waiter.dueAt, data: { durationMs: waiter.dueAt - waiter.since } });
      else wakeAt = wakeAt === undefined ? waiter.dueAt : Math.min(wakeAt, waiter.dueAt);
    }
  });
  const deciding = evaluate(tree, new Map([...satisfied].map(([i, s]) => [i, s.at])));
  if (deciding) {
    const data: Record<string, unknown> = {};
    for (const i of deciding) data[all[i]!.key] = satisfied.get(i)!.data;
    return { gate, satisfied: { at: Math.max(...deciding.map((i) => satisfied.get(i)!.at)), data }, impossible: false, wakeAt: undefined };
  }
  // Could it still become true if every leaf not yet decided false were satisfied?
  const optimistic = new Map<number, number>();
  all.forEach((_, i) => {
    if (!decidedFalse.has(i)) optimistic.set(i, 0);
  });
  return { gate, impossible: evaluate(tree, optimistic) === undefined, wakeAt };
}

/** The waiters of a task's gates, as they would be registered at `since` (sleep and event leaves only). */
export function gateWaiters(spec: TaskSpec, taskIndex: number, workflowRunId: string, attempt: number, since: number): Waiter[] {
  const out: Waiter[] = [];
  for (const gate of GATES) {
    const tree = gateTree(spec, gate);
    if (!tree) continue;
    const conditions = JSON.stringify(tree);
    const position = dagPosition(taskIndex, gate);
    leaves(tree).forEach((leaf: LeafNode, index) => {
      if (leaf.type !== 'sleep' && leaf.type !== 'event') return;
      const base: Waiter = {
        runId: workflowRunId,
        attempt,
        position,
        index,
        opKind: 'wait',
        opName: `${spec.name}.${gate}`,
        conditions,
        type: leaf.type,
        readableDataKey: leaf.key,
        since,
        createdAt: since,
      };
      if (leaf.type === 'sleep') out.push({ ...base, dueAt: since + leaf.durationMs });
      else out.push(eventWaiter(base, leaf));
    });
  }
  return out;
}

/**
 * Registers waiters like a durable wait: the key's event sequence read first, then waiters, then timers, then a
 * look for events pushed after the gate began (or within its lookback) that the router may have routed first. The router records before it looks for waiters, so one of
 * the two always sees the other. An event found here marks its leaf satisfied on the stored waiter.
 */
export async function registerWaiters(backend: Backend, waiters: Waiter[]): Promise<Waiter[]> {
  if (waiters.length === 0) return waiters;
  await stampEventOrder(backend, waiters);
  await writeWaiters(backend.store, waiters);
  for (const w of waiters) {
    if (w.type === 'sleep' && w.dueAt! > w.since) await backend.timers.schedule(timerId(w.runId, w.attempt, w.position, w.index, w.dueAt!), w.dueAt!, { runId: w.runId });
  }
  const marked: Waiter[] = [];
  const out = [];
  for (const w of waiters) {
    if (w.type === 'event') {
      const filter = compileExpression(w.expression ?? '', 'input');
      let hit: StoredEvent | undefined;
      for await (const e of eventsFor(backend, w)) {
        if ((w.scope === undefined || e.scope === w.scope) && matchesSafely(filter, e.payload)) {
          hit = e;
          break;
        }
      }
      if (hit) {
        const satisfiedWaiter = { ...w, satisfiedAt: hit.time, data: hit.payload };
        marked.push(satisfiedWaiter);
        out.push(satisfiedWaiter);
        continue;
      }
    }
    out.push(w);
  }
  if (marked.length) await writeWaiters(backend.store, marked);
  return out;
}

/**
 * A payload the filter cannot evaluate (a missing key, a wrong type) does not match, as in the router: someone
 * else's event must not make every pass of this workflow run throw.
 */
function matchesSafely(filter: ReturnType<typeof compileExpression>, payload: string): boolean {
  try {
    return filter.matches(decodePayload(payload));
  } catch {
    return false;
  }
}

/** Removes a decided task's waiters and cancels its pending timers. */
export async function removeGateWaiters(backend: Backend, waiters: readonly Waiter[]): Promise<void> {
  if (waiters.length === 0) return;
  const now = backend.clock.now();
  for (const w of waiters) {
    // Best effort (Timers contract): a timer that fires anyway finds nothing to do; the waiters must still go.
    if (w.type === 'sleep' && w.dueAt! > now) await backend.timers.cancel(timerId(w.runId, w.attempt, w.position, w.index, w.dueAt!)).catch(() => undefined);
  }
  await backend.store.deleteWaiters(waiters);
}
