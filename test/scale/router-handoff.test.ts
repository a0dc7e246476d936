/**
 * The event router at any fan-out: it reads waiters a page at a time, and when its Lambda context says time is
 * short it hands the rest on (a continuation message on the dispatch queue, which the worker's Lambda handler gives
 * back to the router). Every waiter is woken exactly once across the hand-offs; a duplicated continuation and a
 * retried event wake nothing again. On memory and on the aws adapters over dynalite + fauxqs (real SQS messages).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { Durable } from 'durable-tasks';
import { createMemoryBackend, VirtualClock, InMemoryRequestCounter, ClockTimers, InProcessBus } from '../../sdk/adapters/memory/index.ts';
import { DynamoRunStore } from '../../sdk/adapters/aws/dynamo-store.ts';
import { SqsDispatcher } from '../../sdk/adapters/aws/sqs-dispatcher.ts';
import { ensureTable } from '../../sdk/adapters/aws/table-setup.ts';
import { continuationBody, parseContinuationBody, parseDispatchBody } from '../../sdk/core/dispatch-message.ts';
import type { Backend, DispatchMessage, Dispatcher, RouteContinuation, RunRecord, Waiter } from '../../sdk/ports.ts';
import { eventBridgeEvent, sqsRecord } from '../support/aws-events.ts';
import { createQueue, dynamoClient, sqsClient, startDynalite, startFauxqs, type LocalServer } from '../support/servers.ts';

const KEY = 'fanout:go';

/** A Lambda context whose remaining time drops 4.5 s at each look: the router hands on after each page. */
function shrinkingContext() {
  let looks = 0;
  return { getRemainingTimeInMillis: () => 10_000 - 4_500 * looks++ };
}

interface Setup {
  backend: Backend;
  /** Continuation message bodies sent so far and not yet taken. */
  takeContinuations(): Promise<string[]>;
  dispatched: Map<string, number>;
  close(): Promise<void>;
}

/** Counts dispatches per run; continuations go to `sendContinuation`. */
function countingDispatcher(inner: Dispatcher, dispatched: Map<string, number>, sendContinuation: (c: RouteContinuation) => Promise<void>): Dispatcher {
  return {
    dispatch: async (message: DispatchMessage, options?: { delayMs?: number }) => {
      dispatched.set(message.runId, (dispatched.get(message.runId) ?? 0) + 1);
      await inner.dispatch(message, options);
    },
    receive: (max, waitMs, signal) => inner.receive(max, waitMs, signal),
    continueRoute: sendContinuation,
  };
}

async function memorySetup(): Promise<Setup> {
  const base = createMemoryBackend(new VirtualClock(Date.now()));
  const dispatched = new Map<string, number>();
  const sent: string[] = [];
  const backend: Backend = { ...base, dispatcher: countingDispatcher(base.dispatcher, dispatched, async (c) => void sent.push(continuationBody(c))) };
  return { backend, dispatched, takeContinuations: async () => sent.splice(0), close: () => base.close() };
}

let servers: Promise<[LocalServer, LocalServer]> | undefined;
afterAll(async () => {
  if (servers) for (const s of await servers) await s.stop();
});

async function awsSetup(): Promise<Setup> {
  const [ddb, sqs] = await (servers ??= Promise.all([startDynalite(), startFauxqs()]));
  const clock = new VirtualClock(Date.now());
  const counter = new InMemoryRequestCounter();
  const dynamodb = dynamoClient(ddb.endpoint);
  const sqsc = sqsClient(sqs.endpoint);
  const tableName = `t-${randomUUID().slice(0, 8)}`;
  await ensureTable(dynamodb, tableName);
  const queueUrl = await createQueue(sqsc, `q-${randomUUID().slice(0, 8)}`, { VisibilityTimeout: '30' });
  const sqsDispatcher = new SqsDispatcher({ client: sqsc, queueUrl, counter });
  const dispatched = new Map<string, number>();
  // Dispatches are counted and stay on the queue; continuations go through the real queue.
  const quiet: Dispatcher = { dispatch: async () => undefined, receive: async () => [] };
  const dispatcher = countingDispatcher(quiet, dispatched, (c) => sqsDispatcher.continueRoute(c));
  const timers = new ClockTimers(clock, dispatcher);
  const store = new DynamoRunStore({ client: dynamodb, tableName, now: () => clock.now(), counter, shards: { waiter: 4, sweep: 4 } });
  const backend: Backend = {
    store,
    dispatcher,
    timers,
    bus: new InProcessBus(),
    clock,
    counter,
    async close() {
      timers.clear();
      dynamodb.destroy();
      sqsc.destroy();
    },
  };
  const takeContinuations = async () => {
    const bodies: string[] = [];
    for (;;) {
      const received = await sqsDispatcher.receive(10, 0);
      if (received.length === 0) return bodies;
      for (const m of received) {
        bodies.push(m.body);
        await m.ack();
      }
    }
  };
  return { backend, dispatched, takeContinuations, close: () => backend.close() };
}

/** `count` runs parked on one event wait each, registered directly in the store. */
async function parkRuns(backend: Backend, count: number): Promise<string[]> {
  const now = backend.clock.now();
  const ids: string[] = [];
  const runs: RunRecord[] = [];
  const waiters: Waiter[] = [];
  for (let i = 0; i < count; i++) {
    const runId = `parked-${String(i).padStart(5, '0')}-${randomUUID().slice(0, 6)}`;
    ids.push(runId);
    runs.push({ runId, name: 'parked', status: 'WAITING', input: '{}', createdAt: now, updatedAt: now, attempt: 0, wake: 0, seen: 0, runningMs: 0 });
    waiters.push({
      runId,
      attempt: 0,
      position: 0,
      index: 0,
      opKind: 'wait',
      opName: 'go',
      conditions: JSON.stringify({ type: 'event', eventKey: KEY, expression: '', key: 'go' }),
      type: 'event',
      readableDataKey: 'go',
      eventKey: KEY,
      since: now - 1_000,
      seq: 0,
      createdAt: now,
    });
  }
  for (let i = 0; i < runs.length; i += 50) await Promise.all(runs.slice(i, i + 50).map((run) => backend.store.createRun(run)));
  for (let i = 0; i < waiters.length; i += 100) await backend.store.registerWaiters(waiters.slice(i, i + 100));
  return ids;
}

describe.each([
  ['memory adapters', memorySetup, 1_000],
  ['aws adapters on dynalite + fauxqs', awsSetup, 400],
] as const)('router hand-off: %s', (_name, setup, waiterCount) => {
  test(`${waiterCount} waiters on one key: several hand-offs, each run woken exactly once; duplicates wake nothing`, async () => {
    const s = await setup();
    const durable = new Durable({ backend: s.backend, embeddedWorker: 'none', log: () => undefined });
    try {
      const worker = durable.worker('router', { workflows: [], deadlineMarginMs: 1_000 });
      const router = worker.eventRouterHandler();
      const sqsHandler = worker.lambdaHandler();
      const ids = await parkRuns(s.backend, waiterCount);
      const event = eventBridgeEvent({ key: KEY, payload: { n: 1 } });

      const first = await router(event, shrinkingContext());
      expect(first.resolved).toBeGreaterThan(0);
      expect(first.resolved).toBeLessThan(waiterCount); // it handed the rest on
      let handOffs = 0;
      let firstContinuation: string | undefined;
      for (let bodies = await s.takeContinuations(); bodies.length > 0; bodies = await s.takeContinuations()) {
        for (const body of bodies) {
          expect(parseContinuationBody(body)).toBeDefined();
          expect(parseDispatchBody(body)).toBeUndefined(); // never mistaken for a dispatch message
          firstContinuation ??= body;
          handOffs++;
          const response = await sqsHandler({ Records: [sqsRecord(body)] }, shrinkingContext());
          expect(response.batchItemFailures).toEqual([]);
        }
        expect(handOffs).toBeLessThan(100);
      }
      expect(handOffs).toBeGreaterThanOrEqual(2);

      const wakes = async () => {
        const runs = await Promise.all(ids.map((id) => s.backend.store.getRun(id)));
        return runs.map((r) => r!.wake);
      };
      expect(new Set(await wakes())).toEqual(new Set([1]));
      expect(ids.filter((id) => s.dispatched.get(id) !== 1)).toEqual([]);

      // A duplicated continuation and a retried event (same EventBridge event) wake no run again.
      await sqsHandler({ Records: [sqsRecord(firstContinuation!)] });
      await router(event);
      await s.takeContinuations();
      expect(new Set(await wakes())).toEqual(new Set([1]));
      expect(ids.filter((id) => s.dispatched.get(id) !== 1)).toEqual([]);
    } finally {
      await durable.close();
      await s.close();
    }
  }, 120_000);
});
