/**
 * `ctx.waitFor(condition)` and `ctx.waitForEvent(key, expression, options)`: a position decided by a condition tree
 * (sleeps, events, children), whose pending state is its waiters (one per leaf) and whose outcome is an entry.
 *
 * - Recorded: the entry answers (leftover waiters are removed).
 * - Waiters but no entry: evaluate the tree (sleeps by the clock, events by the router's marks); satisfied, record
 *   the entry first-wins (journal-writer.ts); otherwise park.
 * - New ground: register the waiters (the event order: ARCHITECTURE.md, "Event order"), schedule the sleeps'
 *   timers, look for events pushed since, and decide as above.
 *
 * Every waiter write is here (`writeWaiters`: the replay's, the router's leaf marks, a DAG gate's; child.ts uses
 * `registerChildWaiter` / `dropWaiters`).
 * The router's resolution of a wait outside the replay is journal-writer.ts's `recordWaitResolution`.
 */
import type { OperationKind, RunStore, Waiter } from '../../ports.ts';
import { compileExpression } from '../cel.ts';
import { assertEventKey, evaluate, leaves, toConditionNode, type Condition, type ConditionNode, type LeafNode } from '../conditions.ts';
import type { WaitForEventOptions } from '../context-types.ts';
import { parseDuration } from '../duration.ts';
import { InvalidDefinitionError, WaitTimeoutError } from '../errors.ts';
import { eventWaiter, eventsFor, stampEventOrder } from '../event-order.ts';
import { decodePayload } from '../json.ts';
import type { JournalScope } from './fan-out.ts';
import { answer, expect, newEntry, timerId, type OperationHost } from './host.ts';

/** Reserved readableDataKey of the timeout leaf of `waitForEvent`. */
const TIMEOUT_KEY = '__timeout';

/**
 * `ctx.waitFor`'s condition as a tree, and the wait's journal name (its leaves' keys). The replay and the history
 * replay (history/replay-history.ts) both take them from here, so both check a recorded wait alike.
 * @throws {InvalidDefinitionError} a ParentCondition
 */
export function waitForCondition(condition: Condition): { node: ConditionNode; name: string } {
  const node = toConditionNode(condition);
  if (leaves(node).some((leaf) => leaf.type === 'parent')) {
    throw new InvalidDefinitionError('ParentCondition is only valid in a workflow task\'s waitFor/skipIf/cancelIf, not in ctx.waitFor');
  }
  const name = leaves(node)
    .map((leaf) => leaf.key)
    .join('|');
  return { node, name };
}

/** `ctx.waitForEvent`'s arguments checked (key, CEL, durations), with its lookback and timeout. @throws on a bad one */
export function checkWaitForEvent(key: string, expression: string, options: WaitForEventOptions): { lookbackMs?: number; timeoutMs?: number } {
  assertEventKey(key);
  compileExpression(expression ?? '', 'input');
  return {
    ...(options.lookback !== undefined ? { lookbackMs: parseDuration(options.lookback) } : {}),
    ...(options.timeout !== undefined ? { timeoutMs: parseDuration(options.timeout) } : {}),
  };
}

/** What a `waitForEvent` answers from its resolved data: the event's payload. @throws {WaitTimeoutError} the timeout decided it */
export function eventWaitAnswer<T>(key: string, data: Record<string, unknown>, timeoutMs: number | undefined): T {
  if (TIMEOUT_KEY in data) throw new WaitTimeoutError(key, timeoutMs ?? 0);
  return data[key] as T;
}

/** `ctx.waitFor(condition)`: resolves with the deciding leaves' data by key. @throws {InvalidDefinitionError} a ParentCondition */
export function waitFor(host: OperationHost, condition: Condition, scope: JournalScope): Promise<Record<string, unknown>> {
  const { node, name } = waitForCondition(condition);
  return wait(host, 'wait', name, node, scope).then((result) => result.data);
}

/** `ctx.waitForEvent(key, expression, options)`: the matching event's payload. @throws {WaitTimeoutError} when `timeout` passes first */
export function waitForEvent<T = unknown>(host: OperationHost, key: string, expression = '', options: WaitForEventOptions = {}, scope: JournalScope): Promise<T> {
  const { lookbackMs, timeoutMs } = checkWaitForEvent(key, expression, options);
  const eventLeaf: ConditionNode = {
    type: 'event',
    eventKey: key,
    expression: expression ?? '',
    key,
    ...(options.scope !== undefined ? { scope: options.scope } : {}),
    ...(lookbackMs ? { lookbackMs } : {}),
  };
  const node: ConditionNode =
    timeoutMs === undefined ? eventLeaf : { type: 'or', children: [eventLeaf, { type: 'sleep', durationMs: timeoutMs, key: TIMEOUT_KEY }] };
  return wait(host, 'event', key, node, scope).then(({ data }) => eventWaitAnswer<T>(key, data, timeoutMs));
}

function wait(host: OperationHost, kind: OperationKind, name: string, node: ConditionNode, scope: JournalScope): Promise<{ data: Record<string, any> }> {
  return host.durable(async (position) => {
    const recorded = host.entries.get(position);
    if (recorded) {
      expect(host, position, recorded, kind, name);
      const data = await answer<Record<string, unknown>>(host, recorded);
      const leftovers = host.waiters.get(position);
      if (leftovers) await cleanupWaiters(host, leftovers);
      return { data };
    }
    let waiters = host.waiters.get(position);
    const satisfied = new Map<number, { at: number; data: unknown; eventId?: string }>();
    const registered = !waiters;
    if (waiters) {
      expect(host, position, { kind: waiters[0]!.opKind, name: waiters[0]!.opName }, kind, name);
      node = JSON.parse(waiters[0]!.conditions) as ConditionNode;
    } else {
      waiters = await register(host, position, kind, name, node, satisfied);
    }
    const now = host.backend.clock.now();
    for (const w of waiters) {
      if (w.type === 'sleep' && w.dueAt! <= now) satisfied.set(w.index, { at: w.dueAt!, data: { durationMs: w.dueAt! - w.since } });
      if (w.satisfiedAt !== undefined && !satisfied.has(w.index)) {
        satisfied.set(w.index, { at: w.satisfiedAt, data: decodePayload(w.data), ...(w.eventId !== undefined ? { eventId: w.eventId } : {}) });
      }
    }
    const order = new Map([...satisfied].map(([i, s]) => [i, s.at]));
    const deciding = evaluate(node, order);
    if (!deciding) {
      if (registered) {
        const marked = waiters.filter((w) => w.type === 'event' && w.satisfiedAt !== undefined);
        if (marked.length) await writeWaiters(host.backend.store, marked);
      }
      const dues = waiters.filter((w) => w.type === 'sleep' && !satisfied.has(w.index)).map((w) => w.dueAt!);
      return host.park(position, dues.length ? Math.min(...dues) : undefined);
    }
    const all = leaves(node);
    const data: Record<string, unknown> = {};
    for (const i of deciding) data[all[i]!.key] = satisfied.get(i)!.data;
    const eventIds = deciding.map((i) => satisfied.get(i)!.eventId).filter((id): id is string => id !== undefined);
    const entry = newEntry(host, position, kind, name, {
      result: JSON.stringify(data),
      resolvedBy: deciding.map((i) => all[i]!.key).join(','),
      ...(eventIds.length ? { eventIds } : {}),
    });
    const winner = await host.journal.record(entry);
    // Resolved by an event found while registering: the router will not wake the run for it (it may already have
    // routed that event, or will find the waiters gone). If this replay is stale, the run's current owner may be
    // parked on this very wait: wake the run, as the router would, before removing the waiters.
    if (registered && waiters.some((w) => w.type === 'event' && w.satisfiedAt !== undefined)) await wakeRun(host);
    await cleanupWaiters(host, waiters);
    return { data: await answer<Record<string, unknown>>(host, winner) };
  }, scope);
}

/**
 * Registers the waiters of a new wait, then catches events pushed after it began (or within its lookback) that
 * the router may have routed before the waiters were there. See ARCHITECTURE.md, "Event order".
 */
async function register(
  host: OperationHost,
  position: number,
  kind: OperationKind,
  name: string,
  node: ConditionNode,
  satisfied: Map<number, { at: number; data: unknown; eventId?: string }>,
): Promise<Waiter[]> {
  const since = host.backend.clock.now();
  const conditions = JSON.stringify(node);
  const waiters: Waiter[] = leaves(node).map((leaf, index) => waiterFor(host, leaf, index, position, kind, name, conditions, since));
  for (const w of waiters) if (w.type === 'event') compileExpression(w.expression ?? '', 'input');
  await stampEventOrder(host.backend, waiters);
  await writeWaiters(host.backend.store, waiters);
  for (const w of waiters) {
    if (w.type === 'sleep' && w.dueAt! > since) {
      await host.backend.timers.schedule(timerId(host.runId, host.attempt, position, w.index, w.dueAt!), w.dueAt!, { runId: host.runId });
    }
  }
  const consumed = consumedEvents(host);
  for (const w of waiters) {
    if (w.type !== 'event') continue;
    const filter = compileExpression(w.expression ?? '', 'input');
    for await (const event of eventsFor(host.backend, w)) {
      if (w.scope !== undefined && event.scope !== w.scope) continue;
      if (consumed.has(event.eventId)) continue; // an earlier wait of this run already took it
      const payload = decodePayload(event.payload);
      let matched = false;
      try {
        matched = filter.matches(payload);
      } catch {
        // A payload the filter cannot evaluate (a missing key, a wrong type) does not match, as in the router:
        // someone else's event must not fail this run.
      }
      if (matched) {
        satisfied.set(w.index, { at: event.time, data: payload, eventId: event.eventId });
        w.eventId = event.eventId;
        // Kept on the waiter too, so an And that stays pending remembers it on the next replay.
        w.satisfiedAt = event.time;
        w.data = event.payload;
        break;
      }
    }
  }
  host.waiters.set(position, waiters);
  return waiters;
}

/** Events earlier waits of this attempt were resolved by (or are marked with). */
function consumedEvents(host: OperationHost): Set<string> {
  const ids = new Set<string>();
  for (const entry of host.entries.values()) for (const id of entry.eventIds ?? []) ids.add(id);
  for (const list of host.waiters.values()) for (const w of list) if (w.eventId !== undefined) ids.add(w.eventId);
  return ids;
}

export function waiterFor(host: OperationHost, leaf: LeafNode, index: number, position: number, kind: OperationKind, name: string, conditions: string, since: number): Waiter {
  host.describeOperation(position, kind, name);
  const base: Waiter = {
    runId: host.runId,
    attempt: host.attempt,
    position,
    index,
    opKind: kind,
    opName: name,
    conditions,
    type: leaf.type,
    readableDataKey: leaf.key,
    since,
    createdAt: since,
  };
  switch (leaf.type) {
    case 'sleep':
      return { ...base, dueAt: since + leaf.durationMs };
    case 'event':
      return eventWaiter(base, leaf);
    case 'child':
      return { ...base, childRunId: leaf.childRunId };
    case 'parent':
      return { ...base };
  }
}

/** Bumps the run's wake counter (a parked owner replays; a replaying one replays again), dispatching a parked run. */
async function wakeRun(host: OperationHost) {
  const woken = await host.backend.store.wake(host.runId);
  if (woken && woken.status !== 'RUNNING') await host.backend.dispatcher.dispatch({ runId: host.runId });
}

async function cleanupWaiters(host: OperationHost, waiters: readonly Waiter[]) {
  const now = host.backend.clock.now();
  for (const w of waiters) {
    if (w.type === 'sleep' && w.dueAt! > now) await host.backend.timers.cancel(timerId(host.runId, host.attempt, w.position, w.index, w.dueAt!));
  }
  await host.backend.store.deleteWaiters(waiters);
  host.waiters.delete(waiters[0]!.position);
}

/**
 * Stores waiters (new ones, or leaves marked satisfied): every waiter write of the core goes through here
 * (a durable wait's registration and marks, a child's waiter, the router's leaf marks, a DAG gate's waiters).
 */
export function writeWaiters(store: Pick<RunStore, 'registerWaiters'>, waiters: Waiter[]): Promise<void> {
  return store.registerWaiters(waiters);
}

/** An attempt's waiters by position (a pending wait is its waiters). */
export function waitersByPosition(waiters: readonly Waiter[], attempt: number): Map<number, Waiter[]> {
  const byPosition = new Map<number, Waiter[]>();
  for (const waiter of waiters) {
    if (waiter.attempt !== attempt) continue;
    let list = byPosition.get(waiter.position);
    if (!list) byPosition.set(waiter.position, (list = []));
    list.push(waiter);
  }
  return byPosition;
}

/** Registers a child's wait (child.ts): one `child` waiter, which the child's outcome (executor.ts) resolves. */
export async function registerChildWaiter(host: OperationHost, position: number, name: string, childRunId: string): Promise<void> {
  const node: ConditionNode = { type: 'child', childRunId, key: name };
  const waiter = waiterFor(host, node, 0, position, 'child', name, JSON.stringify(node), host.backend.clock.now());
  await writeWaiters(host.backend.store, [waiter]);
  host.waiters.set(position, [waiter]);
}

/** Removes a resolved child wait's leftover waiters (child.ts). */
export async function dropWaiters(host: OperationHost, waiters: readonly Waiter[]): Promise<void> {
  await host.backend.store.deleteWaiters(waiters);
}
