import { Durable } from 'durable-tasks';
import { createTestEnvironment, type TestEnvironment } from 'durable-tasks/testing';
import { createMemoryBackend, VirtualClock, type MemoryBackend } from '../../sdk/adapters/memory/index.ts';
import type { RunStore } from '../../sdk/ports.ts';
import { advanceVirtualTime } from '../../sdk/adapters/memory/virtual-clock.ts';

export { createTestEnvironment, type TestEnvironment };

/** A deferred promise, to hold user code at a point of the test's choosing. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A test client whose store is wrapped by `wrap` (fault injection, hooks), on a virtual clock, with an
 * embedded worker, like createTestEnvironment.
 */
export function clientWithStore(wrap: (store: RunStore, backend: MemoryBackend) => RunStore) {
  const clock = new VirtualClock();
  const backend = createMemoryBackend(clock);
  const store = wrap(backend.store, backend);
  const durable = new Durable({ backend: { ...backend, store }, embeddedWorker: 'listen', cancelPollMs: 0, log: () => undefined });
  return {
    durable,
    backend,
    clock,
    settle: () => durable.idle(),
    advance: (ms: number) => advanceVirtualTime(clock, ms, () => durable.idle()),
  };
}

/** Delegates every RunStore method to `inner`, letting a test override some. */
export function delegatingStore(inner: RunStore, overrides: Partial<RunStore>): RunStore {
  const out = {} as RunStore;
  for (const key of Object.getOwnPropertyNames(Object.getPrototypeOf(inner)) as (keyof RunStore)[]) {
    if ((key as string) === 'constructor') continue;
    const fn = (inner as any)[key];
    if (typeof fn === 'function') (out as any)[key] = overrides[key] ?? fn.bind(inner);
  }
  return out;
}
