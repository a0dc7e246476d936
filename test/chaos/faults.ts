/**
 * Fault injection at every I/O boundary of the engine: every intercepted call of a port (RunStore, FlowStore,
 * Dispatcher, Timers, EventBus; fault-wrappers.ts routes them here) may, with the seeded probabilities of the
 * profile (profiles.ts), throw before the call, perform it and then throw (the caller never learns it succeeded),
 * be delayed, or stall past the lease (a paused worker whose lease is taken over). The queue (chaos-queue.ts)
 * duplicates, holds back (reorders) and drops dispatches. And crashes: the worker processing a run dies at its
 * Nth adapter call, before or after that call; a dead worker makes no further call and runs no further side effect.
 *
 * Every call runs inside the driver operation that caused it (AsyncLocalStorage), so faults are attributed
 * to an operation and a run, and the driver can tell when every operation is done or stalled.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Clock, DispatchMessage } from '../../sdk/ports.ts';
import { FLOW_READS, KEYED_BY_EVENT_KEY, LOAD_RUN, STORE_WRITES } from './port-methods.ts';
import type { FaultProfile } from './profiles.ts';
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

export type Port = 'store' | 'dispatcher' | 'timers' | 'bus' | 'flow';

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
    if (op && port === 'store' && method === LOAD_RUN) op.loads.set(args[0] as string, startSeq);
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

export function runIdOf(port: Port, method: string, args: unknown[]): string | undefined {
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

