/**
 * The `DurableContext` a branch of `ctx.map` / `ctx.parallel` receives: every durable call goes to the run's
 * replay with the branch's journal scope (operations/fan-out.ts), so it is checkpointed under the branch.
 */
import type { Condition } from '../conditions.ts';
import type { DurableContext, FanOutOptions, Jsonified, Logger, StepOptions, WaitForEventOptions } from '../context-types.ts';
import type { RunRef, TaskDefinition, WorkflowDefinition } from '../definitions.ts';
import type { Duration } from '../duration.ts';
import type { JournalScope } from './fan-out.ts';

/** The replay's durable calls, each taking the scope it journals in (replay.ts's Replayer). */
export interface ScopedContext extends DurableContext {
  sleepFor(duration: Duration, scope?: JournalScope): Promise<{ durationMs: number }>;
  sleepUntil(date: Date | number, scope?: JournalScope): Promise<{ durationMs: number }>;
  waitForEvent<T = unknown>(key: string, expression?: string, options?: WaitForEventOptions, scope?: JournalScope): Promise<T>;
  waitFor(condition: Condition, scope?: JournalScope): Promise<Record<string, unknown>>;
  step<T>(name: string, fn: (attempt: number) => T | Promise<T>, options?: StepOptions, scope?: JournalScope): Promise<Jsonified<Awaited<T>>>;
  runChild<I, O>(task: TaskDefinition<I, O> | WorkflowDefinition<I>, input: I, scope?: JournalScope): Promise<O>;
  spawnChild<I, O>(task: TaskDefinition<I, O> | WorkflowDefinition<I>, input: I, scope?: JournalScope): Promise<RunRef<O>>;
  now(scope?: JournalScope): Date;
  patched(id: string, scope?: JournalScope): boolean;
  deprecatePatch(id: string, scope?: JournalScope): void;
  map(name: string, items: readonly unknown[], fn: (item: never, ctx: DurableContext, index: number) => unknown, options?: FanOutOptions, scope?: JournalScope): Promise<never>;
  parallel(name: string, branches: readonly ((ctx: DurableContext) => unknown)[], options?: FanOutOptions, scope?: JournalScope): Promise<never>;
}

export class BranchContext implements DurableContext {
  readonly runId: string;
  readonly attempt: number;
  readonly log: Logger;
  readonly signal: AbortSignal;

  constructor(
    private readonly run: ScopedContext,
    private readonly scope: JournalScope,
  ) {
    this.runId = run.runId;
    this.attempt = run.attempt;
    this.log = run.log;
    this.signal = run.signal;
  }

  parentOutput<O>(parent: TaskDefinition<unknown, O>): Promise<O | undefined> {
    return this.run.parentOutput(parent);
  }
  triggers(): Record<string, unknown> {
    return this.run.triggers();
  }
  workflowInput<I = unknown>(): I {
    return this.run.workflowInput<I>();
  }
  sleepFor(duration: Duration): Promise<{ durationMs: number }> {
    return this.run.sleepFor(duration, this.scope);
  }
  sleepUntil(date: Date | number): Promise<{ durationMs: number }> {
    return this.run.sleepUntil(date, this.scope);
  }
  waitForEvent<T = unknown>(key: string, expression?: string, options?: WaitForEventOptions): Promise<T> {
    return this.run.waitForEvent<T>(key, expression, options, this.scope);
  }
  waitFor(condition: Condition): Promise<Record<string, unknown>> {
    return this.run.waitFor(condition, this.scope);
  }
  step<T>(name: string, fn: (attempt: number) => T | Promise<T>, options?: StepOptions): Promise<Jsonified<Awaited<T>>> {
    return this.run.step(name, fn, options, this.scope);
  }
  runChild<I, O>(task: TaskDefinition<I, O> | WorkflowDefinition<I>, input: I): Promise<O> {
    return this.run.runChild(task, input, this.scope);
  }
  spawnChild<I, O>(task: TaskDefinition<I, O> | WorkflowDefinition<I>, input: I): Promise<RunRef<O>> {
    return this.run.spawnChild(task, input, this.scope);
  }
  now(): Date {
    return this.run.now(this.scope);
  }
  patched(id: string): boolean {
    return this.run.patched(id, this.scope);
  }
  deprecatePatch(id: string): void {
    this.run.deprecatePatch(id, this.scope);
  }
  map(name: string, items: readonly unknown[], fn: (item: never, ctx: DurableContext, index: number) => unknown, options?: FanOutOptions): Promise<never> {
    return this.run.map(name, items, fn, options, this.scope);
  }
  parallel(name: string, branches: readonly ((ctx: DurableContext) => unknown)[], options?: FanOutOptions): Promise<never> {
    return this.run.parallel(name, branches, options, this.scope);
  }
}
