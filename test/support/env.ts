import { Durable } from 'durable-tasks';
import { createTestEnvironment, type TestEnvironment } from 'durable-tasks/testing';
import { createMemoryBackend, VirtualClock, type MemoryBackend } from '../../sdk/adapters/memory/index.ts';
import type { RunRecord, RunStore } from '../../sdk/ports.ts';
import type { RunCondition, RunPatch } from '../../sdk/adapters/shared/run-patch.ts';
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
  // Every method along the prototype chain (the intent methods live on a base class, RunItemWrites).
  for (let proto = Object.getPrototypeOf(inner); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto) as (keyof RunStore)[]) {
      if ((key as string) === 'constructor' || key in out) continue;
      const fn = (inner as any)[key];
      if (typeof fn === 'function') (out as any)[key] = overrides[key] ?? fn.bind(inner);
    }
  }
  return out;
}

/**
 * Forges a state of the run item with the bundled stores' low-level write (`updateRun`, not on the port: the engine
 * only writes by intent): what another process, a crash or a lost lease would leave behind.
 */
export function forgeRun(store: RunStore, runId: string, patch: RunPatch, condition?: RunCondition): Promise<RunRecord | undefined> {
  const raw = store as unknown as { updateRun?: (runId: string, patch: RunPatch, condition?: RunCondition) => Promise<RunRecord | undefined> };
  if (typeof raw.updateRun !== 'function') throw new Error('forgeRun needs one of the bundled run stores (memory or DynamoDB)');
  return raw.updateRun(runId, patch, condition);
}
