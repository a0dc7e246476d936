/**
 * A Lambda invocation's deadline, as a signal: it aborts a safety margin before `getRemainingTimeInMillis()` runs
 * out, so a handler can stop taking work and give its leases back while it still can (a run whose lease outlives
 * the invocation would wait for the lease to run out, minutes on AWS, before any other worker could take it).
 */
import { DurableError } from '../../../core/errors.ts';

/** The part of the Lambda context the handlers use (aws-lambda's `Context`). */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

/** @default margin: 5 s, but never more than a quarter of the time the invocation has when it starts. */
export const DEFAULT_DEADLINE_MARGIN_MS = 5_000;

export interface Deadline {
  /** Aborts `marginMs` before the invocation's end (never, without a Lambda context). */
  readonly signal: AbortSignal;
  dispose(): void;
}

export function lambdaDeadline(context: unknown, marginMs?: number): Deadline {
  const controller = new AbortController();
  const read = (context as Partial<LambdaContext> | undefined)?.getRemainingTimeInMillis;
  const remaining = typeof read === 'function' ? Number(read.call(context)) : NaN;
  if (!Number.isFinite(remaining)) return { signal: controller.signal, dispose: () => undefined };
  const margin = marginMs ?? Math.min(DEFAULT_DEADLINE_MARGIN_MS, Math.floor(remaining / 4));
  const reason = new DurableError(`the Lambda invocation is within ${margin} ms of its deadline (deadlineMarginMs)`);
  const budget = remaining - margin;
  if (budget <= 0) {
    controller.abort(reason);
    return { signal: controller.signal, dispose: () => undefined };
  }
  const timer = setTimeout(() => controller.abort(reason), budget);
  timer.unref?.();
  return { signal: controller.signal, dispose: () => clearTimeout(timer) };
}

/**
 * The router's budget: a function telling when fewer than the margin (`marginMs`, default as `lambdaDeadline`'s,
 * plus the same again for handing on and resuming) remains of the invocation; `undefined` without a Lambda context.
 */
export function routerBudget(context: unknown, marginMs?: number): (() => boolean) | undefined {
  const read = (context as Partial<LambdaContext> | undefined)?.getRemainingTimeInMillis;
  if (typeof read !== 'function') return undefined;
  const remaining = Number(read.call(context));
  if (!Number.isFinite(remaining)) return undefined;
  const margin = 2 * (marginMs ?? Math.min(DEFAULT_DEADLINE_MARGIN_MS, Math.floor(remaining / 4)));
  return () => Number(read.call(context)) < margin;
}
