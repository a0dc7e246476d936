/**
 * The fault wrappers: each port object (RunStore, FlowStore, Timers, EventBus, Dispatcher) behind a proxy whose
 * intercepted methods go through the chaos plan (faults.ts); everything else passes through.
 */
import type { Dispatcher, EventBus, FlowStore, RunStore, Timers } from '../../sdk/ports.ts';
import type { Chaos, Port } from './faults.ts';
import { FLOW_METHODS, STORE_METHODS } from './port-methods.ts';

/** Wraps every method of a port object: calls go through the chaos plan; other properties pass through. */
function wrap<T extends object>(target: T, port: Port, chaos: Chaos, methods: readonly string[]): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      if (typeof prop !== 'string' || !methods.includes(prop)) return value.bind(obj);
      return (...args: unknown[]) => chaos.call(port, prop, args, () => value.apply(obj, args) as Promise<unknown>);
    },
  });
}

export function faultyStore(store: RunStore, chaos: Chaos): RunStore {
  return wrap(store, 'store', chaos, STORE_METHODS);
}
/** Faults on the flow-control counters, as on the store (slot takes, hand-overs and rate-limit units can fail or crash). */
export function faultyFlow(flow: FlowStore, chaos: Chaos): FlowStore {
  return wrap(flow, 'flow', chaos, FLOW_METHODS);
}
export function faultyTimers(timers: Timers, chaos: Chaos): Timers {
  return wrap(timers, 'timers', chaos, ['schedule', 'cancel']);
}
export function faultyBus<B extends EventBus>(bus: B, chaos: Chaos): B {
  return wrap(bus, 'bus', chaos, ['publish']);
}
export function faultyDispatcher(dispatcher: Dispatcher, chaos: Chaos): Dispatcher {
  return wrap(dispatcher, 'dispatcher', chaos, ['dispatch']);
}

