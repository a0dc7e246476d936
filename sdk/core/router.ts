/**
 * The event router: records a pushed event (for lookback and for waits registering concurrently), finds
 * the waiters registered for its key, and resolves each matching wait with a first-wins write before
 * waking its run. Order matters: record first, then look for waiters; a wait registers its waiters
 * first, then looks for recorded events. Whichever happens second sees the other, so no event is missed.
 */
import type { Backend, DurableEvent, RouteContinuation, RunRecord, Waiter } from '../ports.ts';
import { compileExpression } from './cel.ts';
import { evaluate, leaves, type ConditionNode } from './conditions.ts';
import { wakeRun } from './executor.ts';
import { decodePayload, encodePayload } from './json.ts';
import { recordWaitResolution } from './operations/journal-writer.ts';
import { writeWaiters } from './operations/wait.ts';

/** Runs whose waits one event resolves at the same time. */
export const ROUTER_CONCURRENCY = 16;

/** Waiters the router reads (and holds) at once: its memory is bounded by this, whatever the fan-out. */
export const ROUTER_PAGE_SIZE = 200;

/** How long pushed events are kept for lookback. */
export const EVENT_RETENTION_SECONDS = 7 * 24 * 3600;

export interface RouteResult {
  /** Waits this event resolved (or satisfied one leaf of, for And). */
  resolved: number;
  /** Waiters whose filter did not match, or whose scope differs. */
  skipped: number;
  /** Waiters whose filter failed to evaluate (logged, never fatal for the other waiters). */
  errors: { runId: string; message: string }[];
  /** Set when the router ran out of time and handed the rest on (`RouteOptions.handOff`). */
  handedOff?: RouteContinuation;
}

/** Options of {@link routeEvent}. */
export interface RouteOptions {
  /** Offered each run the event wakes; true: the caller resumes it itself (no dispatch). See `wakeRun`. */
  claim?: (woken: RunRecord) => boolean;
  /** Asked before each page after the first: true when this invocation must stop and hand the rest on. */
  outOfTime?: () => boolean;
  /** Takes the rest of the routing (an SQS continuation message on AWS). Without it the router never stops early. */
  handOff?: (continuation: RouteContinuation) => Promise<void>;
  /** Continue a handed-off routing from this page (the event is recorded already); `only`: this shard alone. */
  from?: { shard: number; cursor?: string; only?: true };
  /** @default ROUTER_PAGE_SIZE */
  pageSize?: number;
}

export async function routeEvent(event: DurableEvent, backend: Backend, options: RouteOptions = {}): Promise<RouteResult> {
  const { store } = backend;
  const payload = encodePayload(event.payload, `event '${event.key}' payload`) ?? 'null';
  // `events.push` took the event's place in its key's order before publishing; an event another producer put on
  // the bus gets its place now, when it is first recorded (a continuation carries it).
  const seq = event.seq ?? (await store.takeEventSequence(event.key));
  if (!options.from) {
    await store.recordEvent({
      eventId: event.eventId,
      key: event.key,
      payload,
      time: event.time,
      seq,
      ttl: Math.floor(event.time / 1000) + EVENT_RETENTION_SECONDS,
      ...(event.scope !== undefined ? { scope: event.scope } : {}),
      ...(event.metadata !== undefined ? { metadata: event.metadata } : {}),
    });
  }
  const result: RouteResult = { resolved: 0, skipped: 0, errors: [] };
  const parsed = decodePayload(payload);
  const limit = Math.max(1, options.pageSize ?? ROUTER_PAGE_SIZE);
  // Page by page, shard by shard: memory stays bounded by a page. At least one page per invocation, so a
  // hand-off chain always moves forward.
  let shard = options.from?.shard ?? 0;
  let cursor = options.from?.cursor;
  let shards = shard + 1;
  for (let pages = 0; ; pages++) {
    if (pages > 0 && options.handOff && options.outOfTime?.()) {
      // One continuation per shard left, so they go on in parallel (a shard's pages stay in order).
      const continuation: RouteContinuation = { event: { ...event, seq }, shard, only: true, ...(cursor !== undefined ? { cursor } : {}) };
      await options.handOff(continuation);
      if (!options.from?.only) for (let next = shard + 1; next < shards; next++) await options.handOff({ event: { ...event, seq }, shard: next, only: true });
      result.handedOff = continuation;
      return result;
    }
    const page = await store.findWaitersPage(event.key, { shard, limit, ...(cursor !== undefined ? { cursor } : {}) });
    shards = page.shards;
    await resolvePage(page.waiters, { event, seq, payload, parsed, backend, result, claim: options.claim });
    if (page.cursor !== undefined) cursor = page.cursor;
    else if (!options.from?.only && ++shard < page.shards) cursor = undefined;
    else return result;
  }
}

/** Resolves the matching waiters of one page: one run's in index order (a DAG task's gates rely on it), runs concurrently. */
async function resolvePage(
  waiters: Waiter[],
  c: { event: DurableEvent; seq: number; payload: string; parsed: unknown; backend: Backend; result: RouteResult; claim: RouteOptions['claim'] },
): Promise<void> {
  const { event, seq, result } = c;
  const byRun = new Map<string, Waiter[]>();
  for (const waiter of waiters) {
    if (!pushedInTime(waiter, seq, event.time) || (waiter.scope !== undefined && waiter.scope !== event.scope)) {
      result.skipped++;
      continue;
    }
    try {
      if (!compileExpression(waiter.expression ?? '', 'input').matches(c.parsed)) {
        result.skipped++;
        continue;
      }
    } catch (error) {
      result.errors.push({ runId: waiter.runId, message: (error as Error).message });
      continue;
    }
    const group = byRun.get(waiter.runId);
    if (group) group.push(waiter);
    else byRun.set(waiter.runId, [waiter]);
  }
  const groups = [...byRun.values()];
  const next = { index: 0 };
  const lane = async () => {
    for (let i = next.index++; i < groups.length; i = next.index++) {
      for (const waiter of groups[i]!) if (await resolveWaiter(waiter, c.payload, event.time, c.backend, event.eventId, c.claim)) result.resolved++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(ROUTER_CONCURRENCY, groups.length) }, lane));
}

/**
 * Whether an event counts for a waiter: pushed after the wait began (a greater sequence number than the waiter
 * read as it registered), or within its lookback. Order, never clocks, decides "after"; only lookback is by time.
 * A waiter stored before sequences existed has no `seq`: its `since` is compared with the event's time.
 */
export function pushedInTime(waiter: Pick<Waiter, 'seq' | 'since' | 'lookbackFrom'>, seq: number, time: number): boolean {
  if (waiter.lookbackFrom !== undefined && time >= waiter.lookbackFrom) return true;
  return waiter.seq === undefined ? time >= waiter.since : seq > waiter.seq;
}

/**
 * Resolves the wait a waiter belongs to, if this leaf alone satisfies it (first wins); otherwise marks the
 * leaf satisfied and lets the replay decide (And). Either way the run is woken.
 */
export async function resolveWaiter(
  waiter: Waiter,
  payload: string,
  at: number,
  backend: Backend,
  eventId?: string,
  claim?: RouteOptions['claim'],
): Promise<boolean> {
  const node = JSON.parse(waiter.conditions) as ConditionNode;
  // A sleep or timeout of the same wait already due by the engine's clock was due before this event is processed:
  // if the due sleeps alone decide the wait, they win. The replay (or the DAG pass) records that; wake it to.
  const due = dueSleeps(node, waiter.since, backend.clock.now());
  if (due.size > 0 && evaluate(node, due)) {
    await wake(waiter, backend, claim);
    return false;
  }
  const alone = evaluate(node, new Map([[waiter.index, at]]));
  if (alone) {
    const { won, entry: held } = await recordWaitResolution(backend.store, waiter, payload, backend.clock.now(), eventId);
    if (!won) {
      // Already resolved: by a delivery of this event (a retried event, a duplicated continuation) or by another
      // leaf. A redelivery wakes the run only if no wake is pending: its first router may have died between the
      // resolution and the wake (then the sweeper cannot see it); otherwise the run was woken already.
      if (eventId !== undefined && held.eventIds?.includes(eventId) && !(await needsWake(waiter.runId, backend))) return false;
      await wake(waiter, backend, claim);
      return false;
    }
  } else {
    if (waiter.satisfiedAt !== undefined) {
      await wake(waiter, backend, claim);
      return false;
    }
    await writeWaiters(backend.store, [{ ...waiter, satisfiedAt: at, data: payload, ...(eventId !== undefined ? { eventId } : {}) }]);
  }
  return wake(waiter, backend, claim);
}

/** The sleep leaves of a wait due at `now` (every leaf of a wait counts from the same `since`), by due time. */
function dueSleeps(node: ConditionNode, since: number, now: number): Map<number, number> {
  const due = new Map<number, number>();
  leaves(node).forEach((leaf, index) => {
    if (leaf.type === 'sleep' && since + leaf.durationMs <= now) due.set(index, since + leaf.durationMs);
  });
  return due;
}

/**
 * Whether a run whose wait this event resolved before still needs waking: a WAITING or RUNNING run with no
 * resolution pending (`wake == seen`: the first router may have died before its wake, and a replay that began
 * before the resolution would park again without it). A pending wake is dispatched or swept already; a QUEUED
 * run replays from the start and reads the resolution; a finished one is done.
 */
async function needsWake(runId: string, backend: Backend): Promise<boolean> {
  const run = await backend.store.getRun(runId);
  return run !== undefined && (run.status === 'WAITING' || run.status === 'RUNNING') && run.wake === run.seen;
}

/** Wakes the waiter's run; a waiter of a finished run was left behind (a worker died mid-cleanup): remove it. */
async function wake(waiter: Waiter, backend: Backend, claim?: RouteOptions['claim']): Promise<boolean> {
  if (await wakeRun(waiter.runId, { backend }, claim)) return true;
  await backend.store.deleteWaiters([waiter]);
  return false;
}
