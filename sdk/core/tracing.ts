/**
 * OpenTelemetry spans, when `@opentelemetry/api` is installed (an optional peer dependency). This module is the
 * only one that knows OpenTelemetry: it loads the API lazily (`loadTracing`, awaited once when a client's backend
 * is ready) and every hook is a cheap no-op when the API is absent or no tracer provider is registered.
 *
 * Spans: `durable.start` (runNoWait / run / schedule / a child or DAG task run), `durable.push`, `durable.resume`
 * (a replay of a run that had parked or failed: timer, event, child or retry), `durable.replay` (one replay), and
 * one span per durable call made on new ground (`durable.step`, `durable.sleep`, `durable.event`, `durable.child`,
 * ...). Context crosses processes as a W3C `traceparent` stored on the run item (and on the event), so the replays
 * of a run, wherever they run, are children of the span that started it.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { DurableEvent, LoadedRun } from '../ports.ts';

/** The few parts of `@opentelemetry/api` used here (typed locally: the package is optional). */
interface SpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
}
interface Span {
  spanContext(): SpanContext;
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  recordException(exception: unknown): unknown;
  updateName(name: string): unknown;
  isRecording(): boolean;
  end(): void;
}
type Context = unknown;
type Attributes = Record<string, string | number | boolean>;
interface Tracer {
  startSpan(name: string, options?: { kind?: number; attributes?: Attributes }, context?: Context): Span;
}
interface OtelApi {
  trace: {
    getTracer(name: string, version?: string): Tracer;
    getSpan(context: Context): Span | undefined;
    setSpan(context: Context, span: Span): Context;
    setSpanContext(context: Context, spanContext: SpanContext): Context;
  };
  context: { active(): Context; with<R>(context: Context, fn: () => R): R };
  ROOT_CONTEXT: Context;
}

const STATUS_ERROR = 2;
const KIND_INTERNAL = 0;
const KIND_PRODUCER = 3;
const KIND_CONSUMER = 4;

let api: OtelApi | undefined;
let loading: Promise<void> | undefined;

/** Loads `@opentelemetry/api` if it is installed (once per process). Never throws. */
export function loadTracing(): Promise<void> {
  loading ??= (async () => {
    // A name in a variable: bundlers leave it alone, so the package stays optional.
    const name: string = '@opentelemetry/api';
    let mod: (OtelApi & { default?: OtelApi }) | undefined;
    try {
      mod = await import(name);
    } catch {
      try {
        // A Lambda layer (ADOT) puts it on NODE_PATH, which only `require` searches.
        mod = createRequire(join(process.cwd(), 'index.js'))(name);
      } catch {
        mod = undefined;
      }
    }
    api = mod?.trace ? mod : mod?.default;
  })();
  return loading;
}

/** Uses this API object instead of loading the package (for bundles that include their own copy). */
export function useTracingApi(otel: unknown): void {
  api = otel as OtelApi;
  loading = Promise.resolve();
}

function tracer(): Tracer | undefined {
  return api?.trace.getTracer('durable-tasks');
}

/** The W3C traceparent of the active span, if a recording one exists. */
export function currentTraceparent(): string | undefined {
  if (!api) return undefined;
  const span = api.trace.getSpan(api.context.active());
  return span ? traceparentOf(span) : undefined;
}

function traceparentOf(span: Span): string | undefined {
  const { traceId, spanId, traceFlags } = span.spanContext();
  if (!/^[0-9a-f]{32}$/.test(traceId) || /^0+$/.test(traceId) || !/^[0-9a-f]{16}$/.test(spanId)) return undefined;
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The context whose parent is the span a `traceparent` names (or the active context without one). */
function contextOf(traceparent: string | undefined): Context {
  const otel = api!;
  const m = traceparent ? /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(traceparent) : null;
  if (!m) return otel.context.active();
  return otel.trace.setSpanContext(otel.ROOT_CONTEXT, { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16), isRemote: true });
}

/** Runs `fn` in a span `name` (child of `traceparent`, else of the active span); the span ends when `fn` settles. */
function inSpan<T>(name: string, kind: number, attributes: Attributes, traceparent: string | undefined, fn: (span: Span | undefined) => Promise<T>): Promise<T> {
  const t = tracer();
  if (!t) return fn(undefined);
  const otel = api!;
  const parent = contextOf(traceparent);
  const span = t.startSpan(name, { kind, attributes }, parent);
  // No provider registered (a no-op tracer): run as without tracing (same promise, no extra turn of the event loop).
  if (!span.isRecording()) return traceparent ? otel.context.with(parent, () => fn(undefined)) : fn(undefined);
  return recorded(otel, span, parent, fn);
}

async function recorded<T>(otel: OtelApi, span: Span, parent: Context, fn: (span: Span | undefined) => Promise<T>): Promise<T> {
  try {
    return await otel.context.with(otel.trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    failed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

function failed(span: Span, error: unknown) {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: STATUS_ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** `durable.start`: `fn` creates the run (its run item takes the span as its `traceparent`). */
export function traceStart<T>(task: string, runId: string, fn: () => Promise<T>): Promise<T> {
  if (!api) return fn();
  return inSpan('durable.start', KIND_PRODUCER, { 'durable.run_id': runId, 'durable.task': task }, undefined, () => fn());
}

/** `durable.push`: `publish` sends the event, which carries the span as its `traceparent`. */
export function tracePush(event: DurableEvent, publish: () => Promise<void>): Promise<void> {
  if (!api) return publish();
  return inSpan('durable.push', KIND_PRODUCER, { 'durable.event_key': event.key, 'durable.event_id': event.eventId }, undefined, () => {
    const traceparent = currentTraceparent();
    if (traceparent) event.traceparent = traceparent;
    return publish();
  });
}

/** Runs `fn` in the context a stored `traceparent` names (routing an event, orchestrating a workflow run). */
export function withTraceparent<T>(traceparent: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (!api || !traceparent) return fn();
  const otel = api;
  return otel.context.with(contextOf(traceparent), fn);
}

/** Why a replay runs again, read from what it loaded; undefined for a run's first replay. */
export function resumeCause(loaded: LoadedRun, now: number): string | undefined {
  const { run } = loaded;
  const entries = loaded.entries.filter((e) => e.attempt === run.attempt);
  const waiters = loaded.waiters.filter((w) => w.attempt === run.attempt);
  if (!entries.length && !waiters.length) return run.attempt > 0 ? 'retry' : undefined;
  // A wait resolved since the park (its entry is written, its waiters not yet removed): by what.
  for (const w of waiters) {
    const entry = entries.find((e) => e.position === w.position);
    if (!entry) continue;
    if (entry.kind === 'child') return 'child';
    const by = waiters.find((x) => x.position === w.position && x.readableDataKey === entry.resolvedBy) ?? w;
    return by.type === 'sleep' ? 'timer' : by.type;
  }
  if (waiters.some((w) => w.type === 'sleep' && w.dueAt! <= now)) return 'timer';
  let last: (typeof entries)[number] | undefined;
  for (const e of entries) if (!last || e.position > last.position) last = e;
  if (last && last.dueAt !== undefined && last.dueAt <= now) return last.kind === 'sleep' ? 'timer' : 'retry';
  return 'replay';
}

/** `durable.resume` (when the run had parked) around `durable.replay`, children of the run's `traceparent`. */
export function traceReplay<T extends { type: string }>(loaded: LoadedRun, now: number, fn: () => Promise<T>): Promise<T> {
  if (!api) return fn();
  const { run } = loaded;
  const attrs: Attributes = { 'durable.run_id': run.runId, 'durable.task': run.name, 'durable.attempt': run.attempt };
  const replaySpan = () =>
    inSpan('durable.replay', KIND_CONSUMER, attrs, undefined, async (span) => {
      const outcome = await fn();
      span?.setAttribute('durable.outcome', outcome.type);
      if (span && outcome.type === 'failed') span.setStatus({ code: STATUS_ERROR, message: 'the run failed' });
      return outcome;
    });
  const cause = resumeCause(loaded, now);
  if (!cause) return withTraceparent(run.traceparent, replaySpan);
  return inSpan('durable.resume', KIND_INTERNAL, { ...attrs, 'durable.resume.cause': cause }, run.traceparent, replaySpan);
}

/** The span of one durable call; a no-op object when tracing is off. */
export interface OperationTrace {
  /** Names the span once the call knows its kind (`durable.step`, ...). */
  describe(kind: string, name: string): void;
  /** Runs the call's body in the span's context (children it starts carry the span). */
  within<T>(fn: () => Promise<T>): Promise<T>;
  end(outcome: 'done' | 'parked' | 'failed', error?: unknown): void;
}

export const NO_OPERATION_TRACE: OperationTrace = { describe: () => undefined, within: (fn) => fn(), end: () => undefined };

/** Opens the span of the durable call at `position` of a run (only for calls on new ground: `recorded` false). */
export function traceOperation(runId: string, task: string, attempt: number, position: number, recorded: boolean): OperationTrace {
  const t = recorded ? undefined : tracer();
  if (!t) return NO_OPERATION_TRACE;
  const otel = api!;
  const attrs: Attributes = { 'durable.run_id': runId, 'durable.task': task, 'durable.attempt': attempt, 'durable.position': position };
  const span = t.startSpan('durable.operation', { kind: KIND_INTERNAL, attributes: attrs }, otel.context.active());
  if (!span.isRecording()) return NO_OPERATION_TRACE;
  const ctx = otel.trace.setSpan(otel.context.active(), span);
  let ended = false;
  return {
    describe(kind, name) {
      span.updateName(`durable.${kind}`);
      span.setAttribute('durable.operation.kind', kind);
      if (name) span.setAttribute('durable.operation.name', name);
    },
    within: (fn) => otel.context.with(ctx, fn),
    end(outcome, error) {
      if (ended) return;
      ended = true;
      span.setAttribute('durable.operation.outcome', outcome);
      if (outcome === 'failed') failed(span, error);
      span.end();
    },
  };
}

/** The spans of one replay's durable calls by position (replay.ts). */
export class OperationTraces {
  private readonly spans = new Map<number, OperationTrace>();

  constructor(
    private readonly runId: string,
    private readonly task: string,
    private readonly attempt: number,
    private readonly recorded: (position: number) => boolean,
  ) {}

  /** The call's span: calls on new ground only; a no-op without OpenTelemetry. */
  start(position: number): OperationTrace {
    const trace = traceOperation(this.runId, this.task, this.attempt, position, this.recorded(position));
    if (trace !== NO_OPERATION_TRACE) this.spans.set(position, trace);
    return trace;
  }

  /** Names a call's span; `now` and `patch` (no `durable()` of their own) get one that ends at once. */
  describe(position: number, kind: string, name: string): void {
    const trace = this.spans.get(position);
    if (trace) return trace.describe(kind, name);
    if (kind !== 'now' && kind !== 'patch') return;
    const instant = this.start(position);
    instant.describe(kind, name);
    instant.end('done');
  }
}
