/**
 * Which durable context the calling code runs in. `task.run` / `task.runNoWait` / `wf.run` consult it: called
 * from a durable task's fn (or a branch of its `ctx.map` / `ctx.parallel`), they record a checkpointed child
 * through that context, so a replay never starts them again. A step's body runs outside any durable context
 * (it is not replayed: what it starts is its own side effect), and so does a plain task's fn.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DurableContext } from './context-types.ts';

const current = new AsyncLocalStorage<DurableContext | undefined>();

/** The durable context the caller runs in, if any. */
export function currentDurableContext(): DurableContext | undefined {
  return current.getStore();
}

/** Runs `fn` with `ctx` as the current durable context (`undefined`: outside any). */
export function runInDurableContext<T>(ctx: DurableContext | undefined, fn: () => T): T {
  return current.run(ctx, fn);
}
