/**
 * Which durable context the calling code runs in. `task.run` / `task.runNoWait` / `wf.run` consult it: called
 * from a durable task's fn (or a branch of its `ctx.map` / `ctx.parallel`), they record a checkpointed child
 * through that context, so a replay never starts them again. A step's body runs outside any durable context
 * (it is not replayed: what it starts is its own side effect), and so does a plain task's fn.
 *
 * The store holds the context through a `WeakRef`: every async resource created inside the fn (a timer the
 * embedded default arms for a sleep, a socket) keeps the store it was created in for as long as it lives, and a
 * strong reference there would keep a parked replay (its journal, input, the user's locals) alive with it (see
 * ARCHITECTURE.md, "Parking"). While the fn's code runs, the context is reachable from its own frames anyway.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DurableContext } from './context-types.ts';

const current = new AsyncLocalStorage<WeakRef<DurableContext> | undefined>();

/** The durable context the caller runs in, if any. */
export function currentDurableContext(): DurableContext | undefined {
  return current.getStore()?.deref();
}

/** Runs `fn` with `ctx` as the current durable context (`undefined`: outside any). */
export function runInDurableContext<T>(ctx: DurableContext | undefined, fn: () => T): T {
  return current.run(ctx && new WeakRef(ctx), fn);
}
