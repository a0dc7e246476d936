/**
 * Without a registered OpenTelemetry tracer provider (the API alone, as when a dependency pulls it in), tracing
 * costs nothing visible: no trace context is stored on run items or events, and runs behave as without it.
 */
import { expect, test } from 'vitest';
import { trace } from '@opentelemetry/api';
import { clientWithStore } from '../support/env.ts';
import { currentTraceparent, traceOperation, NO_OPERATION_TRACE } from '../../sdk/core/tracing.ts';

test('no provider: runs carry no traceparent and durable calls open no span', async () => {
  trace.disable();
  const c = clientWithStore((store) => store);
  const task = c.durable.durableTask({ name: 'plain', fn: async (_: {}, ctx) => ctx.step('s', () => 1) });
  const ref = await task.runNoWait({});
  await c.settle();
  expect(await ref.result()).toBe(1);
  expect((await c.backend.store.getRun(ref.runId))!.traceparent).toBeUndefined();
  expect(currentTraceparent()).toBeUndefined();
  expect(traceOperation('r', 't', 0, 0, true)).toBe(NO_OPERATION_TRACE);
  await c.durable.close();
});
