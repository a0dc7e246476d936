import type { Condition } from './conditions.ts';
import type { RunRef, TaskDefinition, WorkflowDefinition } from './definitions.ts';
import type { Duration } from './duration.ts';
import type { Backoff } from './definitions.ts';
import type { BranchSettled, FanOutOptions } from './operations/fan-out.ts';

export type { BranchSettled, FanOutOptions };

/** The outputs of `ctx.parallel`'s branches, in order. */
export type ParallelResults<B extends readonly unknown[]> = { -readonly [K in keyof B]: B[K] extends (...args: never[]) => infer R ? Jsonified<Awaited<R>> : never };

/** Structured logger: one JSON line per call, tagged with the run. Silent while replaying recorded ground. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The context every task receives. */
export interface Context {
  /** This run's id. */
  readonly runId: string;
  /** Retry count of this attempt: 0 for the first. */
  readonly attempt: number;
  readonly log: Logger;
  /** Aborted when the run is cancelled (for cooperative cancellation of long side effects). */
  readonly signal: AbortSignal;
  /** A parent task's output (DAG tasks); `undefined` when the parent was skipped. */
  parentOutput<O>(parent: TaskDefinition<unknown, O>): Promise<O | undefined>;
  /** Which conditions let this DAG task run: `{ [readableDataKey]: data }` (empty when it had no waitFor). */
  triggers(): Record<string, unknown>;
  /** The workflow run's input (DAG tasks) or this run's input. */
  workflowInput<I = unknown>(): I;
}

/**
 * What a value becomes after a JSON round trip (`JSON.parse(JSON.stringify(value))`): a `Date` (anything with
 * `toJSON`) becomes what `toJSON` returns, functions and symbols leave objects, arrays keep their shape.
 */
export type Jsonified<T> = T extends { toJSON(...args: never[]): infer J }
  ? J extends T ? J : Jsonified<J>
  : T extends string | number | boolean | null | undefined | void
    ? T
    : T extends bigint | symbol | ((...args: never[]) => unknown)
      ? never
      : T extends readonly unknown[]
        ? { -readonly [K in keyof T]: Jsonified<T[K]> }
        : T extends object
          ? { [K in keyof T as T[K] extends symbol | ((...args: never[]) => unknown) ? never : K]: Jsonified<T[K]> }
          : T;

/** Options of `ctx.step`. */
export interface StepOptions {
  /** Retries of this step alone, each after its backoff (no compute is held while backing off). @default 0 */
  retries?: number;
  /** @default retry at once */
  backoff?: Backoff;
}

/** Options of `ctx.waitForEvent`. */
export interface WaitForEventOptions {
  /** Rejects with `WaitTimeoutError` if no matching event arrives within this time. */
  timeout?: Duration;
  /** Only events pushed with this scope match. */
  scope?: string;
  /**
   * Also match events pushed up to this long before the wait began. Without it, an event whose `push` returned
   * before the wait began never matches (decided by order, not clocks); one pushed after always can.
   */
  lookback?: Duration;
}

/** The context of a durable task: every method is a checkpoint in the run's journal. */
export interface DurableContext extends Context {
  /** Parks the run for `duration`; no compute is held. */
  sleepFor(duration: Duration): Promise<{ durationMs: number }>;
  /** Parks the run until `date`. */
  sleepUntil(date: Date | number): Promise<{ durationMs: number }>;
  /** Waits for an event pushed with `key` whose payload satisfies the CEL `expression` (`input` = payload). */
  waitForEvent<T = unknown>(key: string, expression?: string, options?: WaitForEventOptions): Promise<T>;
  /** Waits for a condition (or `Or(...)` / `And(...)`); resolves with `{ [readableDataKey]: data }` of what fired. */
  waitFor(condition: Condition): Promise<Record<string, unknown>>;
  /**
   * Runs a side effect once; its result is checkpointed and every call (the first and each replay) returns the
   * checkpoint, so its type is the result's JSON form (a `Date` comes back as a string, see {@link Jsonified}).
   */
  step<T>(name: string, fn: (attempt: number) => T | Promise<T>, options?: StepOptions): Promise<Jsonified<Awaited<T>>>;
  /** Starts a child run and waits for its output (checkpointed: no duplicate child on replay). */
  runChild<I, O>(task: TaskDefinition<I, O> | WorkflowDefinition<I>, input: I): Promise<O>;
  /** Starts a child run without waiting (checkpointed). */
  spawnChild<I, O>(task: TaskDefinition<I, O> | WorkflowDefinition<I>, input: I): Promise<RunRef<O>>;
  /** A checkpointed clock: the same value on every replay (synchronous; its checkpoint is written in the background). */
  now(): Date;
  /**
   * Branches code for runs already in flight when it changes: `true` when the run reaches this call on new
   * ground (a marker is recorded, at no extra request) or finds its marker on replay; `false` when the run was
   * recorded before the patch existed (another operation holds this position), so the old branch runs.
   * Decided once per run per `id`: later calls with the same id return the same answer and take no position.
   * @throws {InvalidDefinitionError} an empty id, or a task that is not durable
   * @example if (ctx.patched('charge-v2')) await ctx.step('charge-v2', chargeV2); else await ctx.step('charge', chargeV1);
   */
  patched(id: string): boolean;
  /**
   * Marks a patch whose old branch was deleted: records nothing, and skips the marker a run recorded for `id`
   * at this position, so runs that took the patched branch replay unchanged.
   * @example ctx.deprecatePatch('charge-v2'); await ctx.step('charge-v2', chargeV2);
   */
  deprecatePatch(id: string): void;
  /**
   * Runs `fn` once per item, each in a branch with a child `DurableContext` of its own (its steps, sleeps, waits
   * and children are checkpointed under the branch, so a branch parks and resumes on its own). At most
   * `maxConcurrency` branches run at once; outputs come back in input order. A failed branch fails the call once
   * the running branches settle (no new branch starts). With `toleratedFailures`, resolves with one
   * `{ status: 'fulfilled', value } | { status: 'rejected', error }` per item and fails only past that many failures.
   * @throws {InvalidDefinitionError} a bad name or option, or a fan-out inside a branch
   * @example const out = await ctx.map('charge-all', items, (item, ctx) => ctx.step('charge', () => charge(item)), { maxConcurrency: 5 });
   */
  map<T, R>(name: string, items: readonly T[], fn: (item: T, ctx: DurableContext, index: number) => R | Promise<R>, options?: FanOutOptions & { toleratedFailures?: undefined }): Promise<Jsonified<Awaited<R>>[]>;
  map<T, R>(name: string, items: readonly T[], fn: (item: T, ctx: DurableContext, index: number) => R | Promise<R>, options: FanOutOptions & { toleratedFailures: number }): Promise<BranchSettled<Jsonified<Awaited<R>>>[]>;
  /**
   * Runs each function in a branch of its own, as `ctx.map` does for items; outputs in order.
   * @example const [a, b] = await ctx.parallel('both', [(ctx) => ctx.step('a', fa), (ctx) => ctx.step('b', fb)], { maxConcurrency: 2 });
   */
  parallel<const B extends readonly ((ctx: DurableContext) => unknown)[]>(name: string, branches: B, options?: FanOutOptions & { toleratedFailures?: undefined }): Promise<ParallelResults<B>>;
  parallel<const B extends readonly ((ctx: DurableContext) => unknown)[]>(name: string, branches: B, options: FanOutOptions & { toleratedFailures: number }): Promise<BranchSettled<unknown>[]>;
}
