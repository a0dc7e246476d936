/**
 * The three Lambda functions of a deployment, over a worker: the SQS handler (dispatch messages, routing
 * continuations, cron ticks, the sweeper's reconcile request), the event router (EventBridge rule target) and the
 * sweeper (one-minute schedule). `LambdaWorker` (worker.ts) exposes them as `lambdaHandler()`,
 * `eventRouterHandler()` and `sweeperHandler()`; functions/*.ts are their entry points.
 */
import type { DurableEvent } from '../../../ports.ts';
import type { Engine } from '../../../core/engine.ts';
import type { RouteOptions } from '../../../core/router.ts';
import type { Worker } from '../../../core/worker.ts';
import { classifyQueueMessage } from '../../../core/queue-message.ts';
import { fireCronTick } from '../../../core/cron/service.ts';
import { RECONCILE_CRONS_RUN_ID } from '../../../core/cron/tick-message.ts';
import { processBatch, type SqsBatchResponse, type SqsEvent, type SqsRecord } from './batch.ts';
import { lambdaDeadline, routerBudget } from './deadline.ts';

/** What the router handler returns: waiters resolved, workflow runs started, woken runs resumed in the invocation. */
export interface RouterResult {
  resolved: number;
  started: string[];
  resumed: string[];
}

/**
 * The SQS handler: a batch (processBatch) whose records are dispatch messages and the other messages of the
 * dispatch queue. Given the Lambda context, it keeps `marginMs` before the deadline (deadline.ts).
 */
export function sqsHandler(worker: Worker, marginMs: number | undefined): (event: SqsEvent, context?: unknown) => Promise<SqsBatchResponse> {
  return async (event, context) => {
    const deadline = lambdaDeadline(context, marginMs);
    try {
      return await processBatch(event, worker.slots, deadline.signal, (record) => handleRecord(worker, record, context, deadline.signal, marginMs));
    } finally {
      deadline.dispose();
    }
  };
}

/** One record of the dispatch queue; rejects (after logging why) when SQS is to redeliver it. */
async function handleRecord(worker: Worker, record: SqsRecord, context: unknown, signal: AbortSignal, marginMs: number | undefined): Promise<void> {
  const message = classifyQueueMessage(record?.body);
  switch (message.type) {
    case 'run':
      return logged('dispatch failed; SQS will retry it', { runId: message.runId }, () => worker.process(message.runId, signal));
    case 'reconcile-crons':
      // The sweeper asks (after a deploy): reconcile with this worker's declarations; a failure (logged there) is retried by SQS.
      return worker.reconcileNow();
    case 'continuation': {
      // The rest of an event's routing, handed on by a router near its deadline: go on within this one's.
      const { continuation } = message;
      return logged('routing continuation failed; SQS will retry it', { eventId: continuation.event.eventId }, async () =>
        worker.continueRoute(continuation, await handOff(worker.engine, context, marginMs)),
      );
    }
    case 'cron-tick':
      // A cron schedule's message: start the tick's one run (a failure is retried by SQS like any other).
      return logged('cron tick failed; SQS will retry it', { cron: message.tick.cron }, () => fireCronTick(worker.engine, message.tick));
    case 'malformed': {
      const body = String(record?.body).slice(0, 500);
      console.error(JSON.stringify({ level: 'error', message: 'malformed dispatch message; sending to the DLQ', messageId: record?.messageId, body }));
      throw new Error('malformed dispatch message');
    }
  }
}

/** Runs `work`; when it throws, logs `message` with `fields` and the error, and rethrows. */
async function logged(message: string, fields: Record<string, unknown>, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    console.error(JSON.stringify({ level: 'error', message, ...fields, error: String((error as Error)?.message ?? error) }));
    throw error;
  }
}

/**
 * The event router: routes one pushed event. The first `resumes` runs it wakes (and that the worker has the
 * definitions of) are resumed right here instead of through the queue; if resuming one fails it is dispatched
 * after all; if the invocation dies first, the sweeper finds the woken run.
 */
export function eventRouterHandler(worker: Worker, resumes: number, marginMs: number | undefined): (event: unknown, context?: unknown) => Promise<RouterResult> {
  return async (raw, context) => {
    const deadline = lambdaDeadline(context, marginMs);
    const event = await parseEvent(raw);
    const resumed: string[] = [];
    const claim = (woken: { runId: string; name: string }) =>
      resumed.length < resumes && worker.engine.registry.handles(woken.name, worker.allowed) && resumed.push(woken.runId) > 0;
    try {
      const result = await worker.engine.route(event, { claim, ...(await handOff(worker.engine, context, marginMs)) });
      for (const e of result.errors) console.error(JSON.stringify({ level: 'error', message: 'event filter failed', runId: e.runId, error: e.message }));
      return { resolved: result.resolved, started: result.started, resumed };
    } finally {
      // Claimed runs are woken but not dispatched: resume them even if routing failed later on. Near the deadline
      // a resume is abandoned (its lease released) and the run dispatched instead.
      await Promise.all(resumed.map((runId) => resumeOrDispatch(worker, runId, deadline.signal)));
      deadline.dispose();
    }
  };
}

/** The EventBridge event's DurableEvent, by the AWS adapter loaded on first use (the test environment never loads the AWS SDK). */
async function parseEvent(event: unknown): Promise<DurableEvent> {
  const { parseEventBridgeEvent } = await import('../eventbridge-bus.ts');
  return parseEventBridgeEvent(event);
}

/** The router's time budget from the Lambda context, and where it hands the rest on (the dispatch queue). */
async function handOff(engine: Engine, context: unknown, marginMs: number | undefined): Promise<Pick<RouteOptions, 'outOfTime' | 'handOff'>> {
  const outOfTime = routerBudget(context, marginMs);
  const dispatcher = (await engine.backend()).dispatcher;
  if (!outOfTime || !dispatcher.continueRoute) return {};
  return { outOfTime, handOff: (c) => dispatcher.continueRoute!(c) };
}

async function resumeOrDispatch(worker: Worker, runId: string, signal: AbortSignal): Promise<void> {
  try {
    await worker.process(runId, signal);
  } catch (error) {
    console.error(JSON.stringify({ level: 'error', message: 'resuming a woken run in the router failed; dispatching it', runId, error: String((error as Error)?.message ?? error) }));
    const backend = await worker.engine.backend();
    await backend.dispatcher.dispatch({ runId });
  }
}

/** The sweeper: re-dispatches stranded runs, after `requestReconcile` (cronReconcileRequest). */
export function sweeperHandler(engine: Engine, requestReconcile: () => Promise<void>): () => Promise<{ redispatched: number }> {
  return async () => {
    await requestReconcile();
    return { redispatched: await engine.sweep() };
  };
}

/**
 * The sweeper's part of the declared crons (it may not write the table or schedules): once per container, so within a
 * minute of a deploy, it sends the worker a reconcile request. Retried on the next sweep until sent.
 */
export function cronReconcileRequest(engine: Engine): () => Promise<void> {
  let requested: Promise<unknown> | undefined;
  return async () => {
    requested ??= (async () => {
      const backend = await engine.backend();
      if (backend.cronSchedules) await backend.dispatcher.dispatch({ runId: RECONCILE_CRONS_RUN_ID });
    })().catch((error) => {
      requested = undefined;
      console.error(JSON.stringify({ level: 'error', message: 'requesting the cron reconcile failed; retried next sweep', error: String((error as Error)?.message ?? error) }));
    });
    await requested;
  };
}
