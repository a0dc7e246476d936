/** Events: `events.push` (validate, take the key's order, publish) and the router (waiters, then `onEvents` starts). */
import { randomUUID } from 'node:crypto';
import type { DurableEvent } from '../../ports.ts';
import { assertEventKey } from '../conditions.ts';
import type { Engine } from '../engine.ts';
import { DurableError } from '../errors.ts';
import { encodePayload } from '../json.ts';
import { routeEvent, type RouteOptions, type RouteResult } from '../router.ts';
import { tracePush } from '../tracing.ts';

/** Validates and publishes an event on the bus. */
export async function pushEvent(
  engine: Engine,
  key: string,
  payload: unknown,
  options: { scope?: string; metadata?: Record<string, unknown> },
): Promise<{ eventId: string }> {
  assertEventKey(key);
  encodePayload(payload, `event '${key}' payload`);
  if (options.scope !== undefined && (typeof options.scope !== 'string' || options.scope === '')) {
    throw new DurableError(`event scope must be a non-empty string when given, got ${JSON.stringify(options.scope)}`);
  }
  const backend = await engine.backend();
  const event: DurableEvent = { eventId: randomUUID(), key, payload, time: backend.clock.now() };
  if (options.scope !== undefined) event.scope = options.scope;
  if (options.metadata !== undefined) event.metadata = options.metadata;
  // The event's place in its key's order, taken before publishing: a wait that begins once `push` has returned
  // reads this number or a greater one, so the event never counts for it (sdk/core/ARCHITECTURE.md, "Event order").
  event.seq = await backend.store.takeEventSequence(key);
  await tracePush(event, () => backend.bus.publish(event));
  return { eventId: event.eventId };
}

/** Routes one event: resolves waiting runs (router.ts), then starts runs of workflows whose `onEvents` name the key. */
export async function routeAndStart(engine: Engine, event: DurableEvent, options: RouteOptions): Promise<RouteResult & { started: string[] }> {
  const backend = await engine.backend();
  const result = await routeEvent(event, backend, options);
  const started: string[] = [];
  // A continuation (`from`) goes on with the waiters: its first invocation started the workflows already.
  if (options.from) return { ...result, started };
  for (const wf of engine.registry.workflows()) {
    if (!wf.onEvents.includes(event.key)) continue;
    // One run per (workflow, event): a redelivered event starts nothing new.
    const ref = await engine.start(wf.name, event.payload, { runId: `${wf.name}:${event.eventId}`, metadata: { eventId: event.eventId, eventKey: event.key } });
    started.push(ref.runId);
  }
  return { ...result, started };
}
