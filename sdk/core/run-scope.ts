/**
 * The items a run writes under its key (journal entries, stream chunks, waiters and their index copies, DAG task states)
 * carry its incarnation (`RunRecord.generation`) and a TTL. A run-scoped store stamps both on every write for
 * that run, so the replay, the DAG orchestrator and the operations they call need not know about either.
 *
 * Why the TTL is set when an item is written, and far out: the run's own retention clock starts when it
 * finishes, which nobody knows while it runs; setting the TTL of every item at the finish would cost one
 * write per item (as many writes again as the run made). Instead each item gets `written + retention +
 * IN_FLIGHT_SECONDS` for free (an attribute of a write the run makes anyway): the run item expires first
 * (`finished + retention`), after which the generation hides whatever is left, and TTL removes it at most
 * IN_FLIGHT_SECONDS later. The price: a run still in flight IN_FLIGHT_SECONDS after it wrote an item may
 * lose that item (as AWS Lambda durable functions, runs are meant to finish within a year).
 */
import { randomUUID } from 'node:crypto';
import type { ItemScope, JournalEntry, RunRecord, RunStore, TaskState, Waiter, WaiterRef } from '../ports.ts';

/** How long a run may stay in flight after writing an item, on top of the retention (366 days). */
export const IN_FLIGHT_SECONDS = 366 * 86_400;

/** A fresh run incarnation (see RunRecord.generation): 12 hex characters. */
export function newGeneration(): string {
  return randomUUID().replace(/-/g, '').slice(0, 12);
}

/** The TTL (epoch seconds) of an item written at `now`, or undefined when runs are kept forever. */
export function itemTtl(retentionSeconds: number | undefined, now: number): number | undefined {
  return retentionSeconds === undefined ? undefined : Math.floor(now / 1000) + retentionSeconds + IN_FLIGHT_SECONDS;
}

/** The scope of an item written for `run` at `now`. */
export function scopeOf(generation: string | undefined, retentionSeconds: number | undefined, now: number): ItemScope {
  const scope: ItemScope = {};
  if (generation !== undefined) scope.generation = generation;
  const ttl = itemTtl(retentionSeconds, now);
  if (ttl !== undefined) scope.ttl = ttl;
  return scope;
}

/**
 * `store`, with every item written for `run` (its journal, waiters, task states) stamped with the run's
 * generation and an item TTL. Other runs' items pass through as given. Methods not listed pass through too.
 */
export function runScopedStore(store: RunStore, run: Pick<RunRecord, 'runId' | 'generation'>, retentionSeconds: number | undefined, now: () => number): RunStore {
  const scope = () => scopeOf(run.generation, retentionSeconds, now());
  const own = (runId: string) => runId === run.runId;
  const stampEntry = (entry: JournalEntry): JournalEntry => (entry.generation !== undefined ? entry : { ...entry, ...scope() });
  const stampRef = (ref: WaiterRef): WaiterRef => {
    const { generation } = scope();
    return own(ref.runId) && ref.generation === undefined && generation !== undefined ? { ...ref, generation } : ref;
  };
  const stampWaiter = (w: Waiter): Waiter => {
    if (!own(w.runId) || w.generation !== undefined) return w;
    const { generation, ttl } = scope();
    return { ...w, ...(generation !== undefined ? { generation } : {}), ...(ttl !== undefined && w.ttl === undefined ? { ttl } : {}) };
  };
  const overrides: Partial<RunStore> = {
    recordEntry: (runId, entry, carried) => store.recordEntry(runId, own(runId) ? stampEntry(entry) : entry, carried),
    putStreamChunk: (runId, entry) => store.putStreamChunk(runId, own(runId) ? stampEntry(entry) : entry),
    updateRetryingEntry: (runId, entry, expected) => store.updateRetryingEntry(runId, own(runId) ? stampEntry(entry) : entry, expected),
    registerWaiters: (waiters) => store.registerWaiters(waiters.map(stampWaiter)),
    deleteWaiters: (refs) => store.deleteWaiters(refs.map(stampRef)),
    putTaskState: (state, expected) => {
      if (!own(state.workflowRunId) || state.generation !== undefined) return store.putTaskState(state, expected);
      const { generation, ttl } = scope();
      const stamped: TaskState = { ...state, ...(generation !== undefined ? { generation } : {}), ...(ttl !== undefined ? { ttl } : {}) };
      return store.putTaskState(stamped, expected);
    },
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      const override = overrides[prop as keyof RunStore];
      if (override) return override;
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
