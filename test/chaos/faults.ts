/**
 * Fault injection at every I/O boundary of the engine: a wrapper for each port (RunStore, Dispatcher,
 * Timers, EventBus) that, per call and with seeded probabilities, throws before the call, performs it and
 * then throws (the caller never learns it succeeded), delays it, or stalls it past the lease (a paused
 * worker whose lease is taken over). A queue that duplicates, holds back (reorders) and drops dispatches.
 * And crashes: the worker processing a run dies at its Nth adapter call, before or after that call; a dead
 * worker makes no further call and runs no further side effect.
 *
 * Every call runs inside the driver operation that caused it (AsyncLocalStorage), so faults are attributed
 * to an operation and a run, and the driver can tell when every operation is done or stalled.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Clock, DispatchMessage, Dispatcher, EventBus, FlowStore, ReceivedMessage, RunStore, Timers } from '../../sdk/ports.ts';
import type { Random } from './random.ts';

/** What can go wrong, as recorded in the fault log. */
export type FaultKind =
  | 'throw-before'
  | 'throw-after'
  | 'delay'
  | 'stall'
  | 'crash-before'
  | 'crash-after'
  | 'duplicate'
  | 'hold'
  | 'drop';

export const FAULT_KINDS: readonly FaultKind[] = ['throw-before', 'throw-after', 'delay', 'stall', 'crash-before', 'crash-after', 'duplicate', 'hold', 'drop'];

/** Faults that can make a side effect run again (the write of its outcome may not have happened, or a concurrent replay ran). */
export const TAINTING: ReadonlySet<FaultKind> = new Set(['throw-before', 'throw-after', 'stall', 'crash-before', 'crash-after']);

/** A fault injected by the wrapper: the backing service failed (from the engine's point of view). */
export class InjectedFault extends Error {
  override name = 'InjectedFault';
  constructor(
    readonly kind: FaultKind,
    readonly call: string,
  ) {
    super(`chaos: injected ${kind} at ${call}`);
  }
}

/** The worker executing this operation died: it makes no further call. */
export class CrashError extends Error {
  override name = 'CrashError';
  constructor(readonly call: string) {
    super(`chaos: worker crashed at ${call}`);
  }
}

/** An operation that makes this many adapter calls is looping: the engine never settles. */
const RUNAWAY_CALLS = 5_000;

/** An operation looped without end (a bug the chaos suite reports). */
export class RunawayError extends Error {
  override name = 'RunawayError';
}

function safe(args: unknown[]): string {
  try {
    return JSON.stringify(args).slice(0, 400);
  } catch {
    return '(unprintable)';
  }
}

/** Per-call probabilities by port, plus the per-operation crash rate. All zero: a clean schedule. */
export interface FaultProfile {
  name: string;
  storeRead: { throwBefore: number; delay: number };
  storeWrite: { throwBefore: number; throwAfter: number; delay: number; stall: number };
  dispatch: { throwBefore: number; throwAfter: number; delay: number; duplicate: number; hold: number; drop: number };
  timers: { throwBefore: number; throwAfter: number; delay: number };
  bus: { throwBefore: number; throwAfter: number; delay: number };
  /** Probability that a process or routing operation crashes at one of its first `crashWithin` calls. */
  crash: number;
  crashWithin: number;
  /** Real milliseconds for a delay (AWS mode); 0: a few event-loop turns (deterministic, memory mode). */
  realDelayMs: number;
}

const none = { throwBefore: 0, throwAfter: 0, delay: 0 };
export const CLEAN: FaultProfile = {
  name: 'clean',
  storeRead: { throwBefore: 0, delay: 0 },
  storeWrite: { ...none, stall: 0 },
  dispatch: { ...none, duplicate: 0, hold: 0, drop: 0 },
  timers: { ...none },
  bus: { ...none },
  crash: 0,
  crashWithin: 1,
  realDelayMs: 0,
};

/** Races only: duplicates, reordering, delays and two workers, but nothing fails. */
export const RACES: FaultProfile = {
  ...CLEAN,
  name: 'races',
  storeRead: { throwBefore: 0, delay: 0.15 },
  storeWrite: { ...none, delay: 0.15, stall: 0 },
  dispatch: { ...none, delay: 0.1, duplicate: 0.2, hold: 0.15, drop: 0 },
  timers: { ...none, delay: 0.1 },
  bus: { ...none, delay: 0.1 },
};

/** Everything, no throw-after: a side effect must then run exactly once per successful attempt unless a crash or stall hit it. */
export const NO_THROW_AFTER: FaultProfile = {
  name: 'no-throw-after',
  storeRead: { throwBefore: 0.02, delay: 0.1 },
  storeWrite: { throwBefore: 0.02, throwAfter: 0, delay: 0.1, stall: 0.004 },
  dispatch: { throwBefore: 0.03, throwAfter: 0, delay: 0.1, duplicate: 0.1, hold: 0.1, drop: 0.03 },
  timers: { throwBefore: 0.03, throwAfter: 0, delay: 0.1 },
  bus: { throwBefore: 0.05, throwAfter: 0, delay: 0.1 },
  crash: 0.08,
  crashWithin: 25,
  realDelayMs: 0,
};

/** Everything at once. */
export const ALL: FaultProfile = {
  name: 'all',
  storeRead: { throwBefore: 0.02, delay: 0.1 },
  storeWrite: { throwBefore: 0.02, throwAfter: 0.02, delay: 0.1, stall: 0.004 },
  dispatch: { throwBefore: 0.03, throwAfter: 0.03, delay: 0.1, duplicate: 0.1, hold: 0.1, drop: 0.03 },
  timers: { throwBefore: 0.03, throwAfter: 0.03, delay: 0.1 },
  bus: { throwBefore: 0.04, throwAfter: 0.04, delay: 0.1 },
  crash: 0.08,
  crashWithin: 25,
  realDelayMs: 0,
};

export const PROFILES: readonly FaultProfile[] = [CLEAN, RACES, NO_THROW_AFTER, ALL];

/** One driver operation (a dispatch being processed, a push being routed, a sweep...). */
export interface Op {
  id: number;
  kind: 'process' | 'push' | 'cancel' | 'sweep' | 'start' | 'fork';
  worker: string;
  runId?: string;
  calls: number;
  /** Calls currently inside the wrapper, and how many of those are stalled. */
  pending: number;
  stalled: number;
  crashAt?: { call: number; phase: 'before' | 'after' };
  crashed: boolean;
  /** Faults this operation suffered (they may make its side effects run again). */
  faults: Set<FaultKind>;
  done: boolean;
  /** Per run: the call sequence number of this operation's latest loadRun of it. */
  loads: Map<string, number>;
  /** Settles (never rejects) when the operation is over. */
  over: Promise<void>;
}

export interface FaultRecord {
  seq: number;
  at: number;
  kind: FaultKind;
  call: string;
  runId?: string;
  op?: number;
}

/** Told about every call that reaches the real port: invoked (sequence at the start) and completed. */
export interface CallObserver {
  completed(port: string, method: string, args: unknown[], result: unknown, seq: number, op: Op | undefined): void;
}

type Port = 'store' | 'dispatcher' | 'timers' | 'bus' | 'flow';

/** The run store's writes of the run item, one per intent (sdk/ports/run-intents.ts). */
export const RUN_INTENTS = ['lease', 'heartbeat', 'releaseLease', 'expireLease', 'replayAgain', 'suspend', 'retry', 'finish', 'finishCancelled', 'wake', 'requestCancel', 'setFlow', 'queue'];
const STORE_WRITES = new Set(['createRun', ...RUN_INTENTS, 'putEntry', 'updateRetryingEntry', 'putWaiters', 'deleteWaiters', 'takeEventSequence', 'recordEvent', 'putTaskState']);
/** Flow-control counters (sdk/ports.ts FlowStore): every method but `queueHead` writes. */
const FLOW_METHODS = [
  'acquireSlot',
  'readSlot',
  'releaseSlot',
  'transferSlot',
  'markSlotChecked',
  'enqueue',
  'dequeue',
  'queueHead',
  'consumeUnits',
  'upsertRateLimit',
  'enqueueRateWaiter',
  'dequeueRateWaiter',
  'rateWaitersAhead',
  'markRateChecked',
];
/** The flow store's reads (faulted as reads: they can fail or lag, never half-apply). */
const FLOW_READS = new Set(['readSlot', 'queueHead', 'rateWaitersAhead']);

/** One storage for every schedule: each AsyncLocalStorage instance costs every async operation of the process. */
const OPS = new AsyncLocalStorage<Op>();

/**
 * The chaos controller: decides faults from its own PRNG stream, logs them, tracks operations, and holds
 * stalled calls until virtual time has moved past them.
 */
export class Chaos {
  readonly log: FaultRecord[] = [];
  readonly counts = new Map<FaultKind, number>();
  readonly ops = new Set<Op>();
  /** Faults are injected only while enabled (the driver turns them off for the quiet period). */
  enabled = true;
  seq = 0;
  private nextOpId = 1;
  private readonly als = OPS;
  private stalls: { until: number; release: () => void }[] = [];
  observer: CallObserver | undefined;

  constructor(
    readonly profile: FaultProfile,
    private readonly random: Random,
    private readonly clock: Clock,
    /** How long a stall lasts in virtual time (past the lease, so another worker takes over). */
    private readonly stallMs: number,
  ) {}

  /** Virtual time now. */
  now(): number {
    return this.clock.now();
  }

  /** Runs `fn` as a driver operation: its calls are attributed to it and it may be chosen to crash. */
  run<T>(kind: Op['kind'], worker: string, runId: string | undefined, fn: () => Promise<T>): { op: Op; promise: Promise<T> } {
    const op: Op = {
      id: this.nextOpId++,
      kind,
      worker,
      calls: 0,
      pending: 0,
      stalled: 0,
      crashed: false,
      faults: new Set(),
      done: false,
      loads: new Map(),
      over: Promise.resolve(),
    };
    if (runId !== undefined) op.runId = runId;
    if ((kind === 'process' || kind === 'push' || kind === 'fork') && this.enabled && this.random.chance(this.profile.crash)) {
      op.crashAt = { call: this.random.int(1, this.profile.crashWithin), phase: this.random.chance(0.5) ? 'before' : 'after' };
    }
    this.ops.add(op);
    const promise = this.als.run(op, fn).finally(() => {
      op.done = true;
      this.ops.delete(op);
    });
    op.over = promise.then(
      () => undefined,
      () => undefined,
    );
    return { op, promise };
  }

  /** The operation the caller runs in, if any. */
  current(): Op | undefined {
    return this.als.getStore();
  }

  /** True when the caller's worker has crashed: it must not run side effects. */
  isDead(): boolean {
    return this.als.getStore()?.crashed === true;
  }

  record(kind: FaultKind, call: string, runId: string | undefined, op: Op | undefined) {
    const entry: FaultRecord = { seq: this.seq, at: this.clock.now(), kind, call };
    if (runId !== undefined) entry.runId = runId;
    if (op) {
      entry.op = op.id;
      op.faults.add(kind);
    }
    this.log.push(entry);
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  /** Calls the real port method through the fault plan of `port`. */
  async call(port: Port, method: string, args: unknown[], invoke: () => Promise<unknown>): Promise<unknown> {
    const op = this.als.getStore();
    const name = `${port}.${method}`;
    const runId = runIdOf(port, method, args) ?? op?.runId;
    if (op?.crashed) throw new CrashError(name);
    // The in-process bus calls the router, whose own calls are counted: count only those (a stalled router
    // write must leave the publish around it looking blocked, not busy).
    const counted = port !== 'bus';
    if (op) {
      op.calls++;
      if (counted) op.pending++;
      if (op.calls > RUNAWAY_CALLS) {
        if (counted) op.pending--;
        throw new RunawayError(`operation ${op.id} (${op.kind} ${op.runId ?? ''} on ${op.worker}) made over ${RUNAWAY_CALLS} calls; the latest: ${name} ${safe(args)}`);
      }
    }
    try {
      if (op?.crashAt && op.calls === op.crashAt.call) {
        op.crashed = true;
        if (op.crashAt.phase === 'before') {
          this.record('crash-before', name, runId, op);
          throw new CrashError(name);
        }
        await this.invoke(port, method, args, invoke, op);
        this.record('crash-after', name, runId, op);
        throw new CrashError(name);
      }
      const fault = this.enabled ? this.decide(port, method) : undefined;
      switch (fault) {
        case 'throw-before':
          this.record(fault, name, runId, op);
          throw new InjectedFault(fault, name);
        case 'throw-after': {
          await this.invoke(port, method, args, invoke, op);
          this.record(fault, name, runId, op);
          throw new InjectedFault(fault, name);
        }
        case 'delay':
          this.record(fault, name, runId, op);
          await this.delay();
          break;
        case 'stall':
          this.record(fault, name, runId, op);
          await this.stall(op);
          if (op?.crashed) throw new CrashError(name);
          break;
        default:
          break;
      }
      return await this.invoke(port, method, args, invoke, op);
    } finally {
      if (op && counted) op.pending--;
    }
  }

  private async invoke(port: Port, method: string, args: unknown[], invoke: () => Promise<unknown>, op: Op | undefined) {
    const startSeq = ++this.seq;
    if (op && port === 'store' && method === 'loadRun') op.loads.set(args[0] as string, startSeq);
    const result = await invoke();
    const endSeq = ++this.seq;
    this.observer?.completed(port, method, args, result, endSeq, op);
    return result;
  }

  private decide(port: Port, method: string): FaultKind | undefined {
    const p = this.profile;
    const r = this.random;
    const table: Partial<Record<FaultKind, number>> =
      port === 'store' || port === 'flow'
        ? STORE_WRITES.has(method) || (port === 'flow' && !FLOW_READS.has(method))
          ? { 'throw-before': p.storeWrite.throwBefore, 'throw-after': p.storeWrite.throwAfter, delay: p.storeWrite.delay, stall: p.storeWrite.stall }
          : { 'throw-before': p.storeRead.throwBefore, delay: p.storeRead.delay }
        : port === 'dispatcher'
          ? method === 'dispatch'
            ? { 'throw-before': p.dispatch.throwBefore, 'throw-after': p.dispatch.throwAfter, delay: p.dispatch.delay }
            : {}
          : port === 'timers'
            ? { 'throw-before': p.timers.throwBefore, 'throw-after': p.timers.throwAfter, delay: p.timers.delay }
            : { 'throw-before': p.bus.throwBefore, 'throw-after': p.bus.throwAfter, delay: p.bus.delay };
    const roll = r.float();
    let acc = 0;
    for (const [kind, probability] of Object.entries(table) as [FaultKind, number][]) {
      acc += probability;
      if (roll < acc) return kind;
    }
    return undefined;
  }

  private async delay() {
    if (this.profile.realDelayMs > 0) {
      await new Promise((r) => setTimeout(r, 1 + Math.floor(this.random.float() * this.profile.realDelayMs)));
      return;
    }
    const turns = this.random.int(1, 4);
    for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
  }

  /** Holds the call until virtual time passes the lease: the worker is paused (GC, network partition) and another takes over. */
  private stall(op: Op | undefined): Promise<void> {
    const until = this.clock.now() + this.stallMs + this.random.int(0, 30_000);
    if (op) op.stalled++;
    return new Promise<void>((resolve) => {
      this.stalls.push({
        until,
        release: () => {
          if (op) op.stalled--;
          resolve();
        },
      });
    });
  }

  /** When the next stalled call is released, if any. */
  nextStallRelease(): number | undefined {
    return this.stalls.length ? Math.min(...this.stalls.map((s) => s.until)) : undefined;
  }

  /** Releases every stalled call due at `now` (all of them when `now` is Infinity). */
  releaseStalls(now: number): number {
    const due = this.stalls.filter((s) => s.until <= now);
    this.stalls = this.stalls.filter((s) => s.until > now);
    for (const s of due) s.release();
    return due.length;
  }

  /** True when every live operation is blocked on a stall only. */
  onlyStalledLeft(): boolean {
    for (const op of this.ops) if (!op.done && (op.stalled === 0 || op.pending !== op.stalled)) return false;
    return true;
  }

  /** Decides the queue-level fault for one message being sent. */
  queueFault(): 'duplicate' | 'hold' | 'drop' | undefined {
    if (!this.enabled) return undefined;
    const d = this.profile.dispatch;
    const roll = this.random.float();
    if (roll < d.duplicate) return 'duplicate';
    if (roll < d.duplicate + d.hold) return 'hold';
    if (roll < d.duplicate + d.hold + d.drop) return 'drop';
    return undefined;
  }

  holdMs(): number {
    return this.random.int(0, 20_000);
  }

  summary(): Record<string, number> {
    return Object.fromEntries(FAULT_KINDS.map((k) => [k, this.counts.get(k) ?? 0]));
  }
}

/** Store methods whose first argument is an event key, not a run id. */
const KEYED_BY_EVENT_KEY = new Set(['findWaiters', 'findEvents', 'findEventsPage', 'takeEventSequence', 'eventSequence']);

function runIdOf(port: Port, method: string, args: unknown[]): string | undefined {
  const [first] = args;
  if (typeof first === 'string' && port === 'store' && !KEYED_BY_EVENT_KEY.has(method)) return first;
  if (first && typeof first === 'object') {
    if (Array.isArray(first)) return (first[0] as { runId?: string } | undefined)?.runId;
    const o = first as { runId?: unknown; workflowRunId?: unknown };
    if (typeof o.runId === 'string') return o.runId;
    if (typeof o.workflowRunId === 'string') return o.workflowRunId;
  }
  if (port === 'timers' && method === 'schedule') return (args[2] as DispatchMessage | undefined)?.runId;
  return undefined;
}

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

const STORE_METHODS = [
  'createRun',
  'getRun',
  'listRuns',
  ...RUN_INTENTS,
  'loadRun',
  'putEntry',
  'putStreamChunk',
  'updateRetryingEntry',
  'putWaiters',
  'deleteWaiters',
  'findWaiters',
  'takeEventSequence',
  'eventSequence',
  'recordEvent',
  'findEvents',
  'findEventsPage',
  'putTaskState',
  'sweepCandidates',
];

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

/** A message on its way to a worker. */
export interface Delivery {
  runId: string;
  /** Virtual time before which it is not delivered (held back: reordering). */
  notBefore: number;
  source: string;
}

/**
 * The dispatch queue the driver delivers from. In memory mode it is the transport itself; in AWS mode
 * messages travel through SQS (fauxqs) first and `pump()` receives them. Either way the queue may
 * duplicate, hold back or drop a message as it arrives.
 */
export class ChaosQueue implements Dispatcher {
  private readonly pendingDeliveries: Delivery[] = [];
  sent = 0;

  constructor(
    private readonly chaos: Chaos,
    private readonly clock: Clock,
    private readonly transport?: Dispatcher,
  ) {}

  async dispatch(message: DispatchMessage): Promise<void> {
    this.sent++;
    if (this.transport) await this.transport.dispatch(message);
    else this.arrive(message.runId, 'dispatch');
  }

  /** The sink timers fire into: the timer service's own delivery never reports errors to anyone. */
  timerTarget(): Dispatcher {
    return {
      dispatch: (message) => this.dispatch(message).catch(() => this.chaos.record('drop', 'timer.fire', message.runId, undefined)),
      receive: async () => [],
    };
  }

  /** AWS mode: moves every message waiting in SQS into the delivery list (acknowledging it). */
  async pump(): Promise<number> {
    if (!this.transport) return 0;
    let moved = 0;
    for (;;) {
      const batch = await this.transport.receive(10, 0);
      if (batch.length === 0) return moved;
      for (const received of batch) {
        await received.ack();
        if (received.message) this.arrive(received.message.runId, 'sqs');
        moved++;
      }
    }
  }

  private arrive(runId: string, source: string) {
    const now = this.clock.now();
    switch (this.chaos.queueFault()) {
      case 'drop':
        this.chaos.record('drop', 'queue.deliver', runId, undefined);
        return;
      case 'duplicate':
        this.chaos.record('duplicate', 'queue.deliver', runId, undefined);
        this.pendingDeliveries.push({ runId, notBefore: now, source }, { runId, notBefore: now, source: `${source}+dup` });
        return;
      case 'hold':
        this.chaos.record('hold', 'queue.deliver', runId, undefined);
        this.pendingDeliveries.push({ runId, notBefore: now + this.chaos.holdMs(), source: `${source}+held` });
        return;
      default:
        this.pendingDeliveries.push({ runId, notBefore: now, source });
    }
  }

  /** Puts a message back (SQS redelivery after a failed processing). */
  redeliver(runId: string, at: number) {
    this.pendingDeliveries.push({ runId, notBefore: at, source: 'redelivery' });
  }

  /** Takes every message deliverable now. */
  takeReady(): Delivery[] {
    const now = this.clock.now();
    const ready = this.pendingDeliveries.filter((d) => d.notBefore <= now);
    const rest = this.pendingDeliveries.filter((d) => d.notBefore > now);
    this.pendingDeliveries.length = 0;
    this.pendingDeliveries.push(...rest);
    return ready;
  }

  /** Every message still on its way, deliverable or not (the aftershock delivers them all). */
  takeReadyAll(): Delivery[] {
    return this.pendingDeliveries.splice(0);
  }

  pendingRunIds(): string[] {
    return this.pendingDeliveries.map((d) => d.runId);
  }

  /** When the next held message becomes deliverable. */
  nextAt(): number | undefined {
    return this.pendingDeliveries.length ? Math.min(...this.pendingDeliveries.map((d) => d.notBefore)) : undefined;
  }

  get size(): number {
    return this.pendingDeliveries.length;
  }

  async receive(): Promise<ReceivedMessage[]> {
    return [];
  }
}
