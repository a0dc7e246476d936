/**
 * OpenTelemetry spans (sdk/core/tracing.ts) on every backend: the trace context is stored on the run item, so a
 * resumed replay, a child run and a run an event starts stay in the trace of the call that started them.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Harness, HarnessFactory } from './harness.ts';

export function tracingContract(name: string, make: HarnessFactory) {
  describe(`tracing: ${name}`, () => {
    const exporter = new InMemorySpanExporter();
    let h: Harness | undefined;
    beforeAll(() => {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    });
    afterAll(() => {
      trace.disable();
      context.disable();
    });
    afterEach(async () => {
      await h?.close();
      h = undefined;
      exporter.reset();
    });

    const spans = () => exporter.getFinishedSpans();
    const named = (n: string, runId?: string) => spans().filter((s) => s.name === n && (runId === undefined || s.attributes['durable.run_id'] === runId));
    const one = (n: string, runId?: string) => {
      const found = named(n, runId);
      expect(found, `${n} spans of ${runId}: ${spans().map((s) => `${s.name}:${String(s.attributes['durable.run_id'])}`).join(', ')}`).toHaveLength(1);
      return found[0]!;
    };
    const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
    const id = (s: ReadableSpan) => s.spanContext().spanId;

    test('start, replays, operations and a timer resume form one trace under the caller, with run id, task, position and attempt', async () => {
      h = await make();
      const child = h.durable.task({ name: 'traced-child', fn: async (input: { n: number }) => input.n * 2 });
      const task = h.durable.durableTask({
        name: 'traced',
        fn: async (input: { n: number }, ctx) => {
          const a = await ctx.step('charge', () => input.n + 1);
          await ctx.sleepFor('10m');
          const b = await ctx.runChild(child, { n: a });
          ctx.now();
          ctx.patched('traced-v2');
          return { a, b };
        },
      });
      const tracer = trace.getTracer('test');
      const runId = await tracer.startActiveSpan('caller', async (caller) => {
        const ref = await task.runNoWait({ n: 1 });
        caller.end();
        return ref.runId;
      });
      await h.settle();
      await h.advance(600_000);
      await h.settle();
      expect(await h.durable.engine.result(runId)).toEqual({ a: 2, b: 4 });

      const caller = one('caller');
      const traceId = caller.spanContext().traceId;
      const start = one('durable.start', runId);
      expect(start.attributes).toMatchObject({ 'durable.run_id': runId, 'durable.task': 'traced' });
      expect(parentOf(start)).toBe(id(caller));

      const replays = named('durable.replay', runId);
      expect(replays.length).toBeGreaterThanOrEqual(2);
      for (const r of replays) expect(r.spanContext().traceId).toBe(traceId);
      const first = replays[0]!;
      expect(parentOf(first)).toBe(id(start));
      expect(first.attributes).toMatchObject({ 'durable.task': 'traced', 'durable.attempt': 0, 'durable.outcome': 'suspended' });

      const step = one('durable.step', runId);
      expect(step.attributes).toMatchObject({ 'durable.run_id': runId, 'durable.task': 'traced', 'durable.position': 0, 'durable.attempt': 0, 'durable.operation.name': 'charge' });
      expect(parentOf(step)).toBe(id(first));
      const sleep = one('durable.sleep', runId);
      expect(sleep.attributes).toMatchObject({ 'durable.position': 1, 'durable.operation.outcome': 'parked' });

      // The timer's resume is a child of the start (across the park), and the replay it causes is its child.
      const timer = named('durable.resume', runId).find((s) => s.attributes['durable.resume.cause'] === 'timer')!;
      expect(timer).toBeDefined();
      expect(parentOf(timer)).toBe(id(start));
      const resumed = replays.find((r) => parentOf(r) === id(timer))!;
      expect(resumed).toBeDefined();

      // The child run: started by the `durable.child` operation, its replay in the same trace, under that operation.
      const childOp = one('durable.child', runId);
      expect(childOp.attributes).toMatchObject({ 'durable.position': 2 });
      const childRunId = `${runId}.0.2`;
      const childReplay = named('durable.replay', childRunId)[0]!;
      expect(childReplay.spanContext().traceId).toBe(traceId);
      expect(parentOf(childReplay)).toBe(id(childOp));
      expect(one('durable.now', runId).attributes).toMatchObject({ 'durable.position': 3, 'durable.attempt': 0 });
      expect(one('durable.patch', runId).attributes).toMatchObject({ 'durable.position': 4, 'durable.operation.name': 'traced-v2' });
      // The child's completion resumes the parent.
      expect(named('durable.resume', runId).some((s) => s.attributes['durable.resume.cause'] === 'child')).toBe(true);
    });

    test('push: the runs an event starts are children of the push; a run it wakes resumes by event', async () => {
      h = await make();
      const wf = h.durable.workflow({ name: 'traced-wf', onEvents: ['traced:go'] });
      wf.task({ name: 'only', fn: async () => 'ok' });
      const waiter = h.durable.durableTask({ name: 'traced-waiter', fn: async (_: {}, ctx) => ctx.waitForEvent('traced:go') });
      const ref = await waiter.runNoWait({});
      await h.settle();
      const { eventId } = await h.durable.events.push('traced:go', { n: 1 });
      await h.settle();
      await ref.result();

      const push = one('durable.push');
      expect(push.attributes).toMatchObject({ 'durable.event_key': 'traced:go', 'durable.event_id': eventId });
      const started = one('durable.start', `traced-wf:${eventId}`);
      expect(parentOf(started)).toBe(id(push));
      expect(started.spanContext().traceId).toBe(push.spanContext().traceId);
      const wfReplayTraces = spans().filter((s) => s.name === 'durable.replay' && s.attributes['durable.task'] === 'traced-wf/only');
      expect(wfReplayTraces.length).toBeGreaterThan(0);
      for (const s of wfReplayTraces) expect(s.spanContext().traceId).toBe(push.spanContext().traceId);
      const resume = one('durable.resume', ref.runId);
      expect(resume.attributes['durable.resume.cause']).toBe('event');
    });
  });
}
