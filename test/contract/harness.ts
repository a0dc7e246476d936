/**
 * One engine contract, two backends: the memory adapters (what createTestEnvironment uses) and the AWS
 * adapters over dynalite + fauxqs (what production and Durable.local use). Both run on a virtual clock with
 * in-process timers and bus: EventBridge Scheduler and EventBridge have no emulator, and their request
 * shapes are covered by aws-sdk-client-mock tests.
 */
import { randomUUID } from 'node:crypto';
import { Durable } from 'durable-tasks';
import { createMemoryBackend, ClockTimers, InProcessBus, VirtualClock, InMemoryRequestCounter } from '../../sdk/adapters/memory/index.ts';
import { advanceVirtualTime } from '../../sdk/adapters/memory/virtual-clock.ts';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoRunStore } from '../../sdk/adapters/aws/dynamo-store.ts';
import { DynamoCronStore } from '../../sdk/adapters/aws/dynamo-crons.ts';
import { SqsDispatcher } from '../../sdk/adapters/aws/sqs-dispatcher.ts';
import { ensureTable } from '../../sdk/adapters/aws/table-setup.ts';
import type { Backend, DispatchMessage, Dispatcher, ReceivedMessage, RunStore } from '../../sdk/ports.ts';
import { createQueue, dynamoClient, sqsClient, startDynalite, startFauxqs, type LocalServer } from '../support/servers.ts';

export interface Harness {
  readonly name: string;
  durable: Durable;
  backend: Backend;
  clock: VirtualClock;
  /** Resolves once nothing is queued or being processed. */
  settle(): Promise<void>;
  /** Moves virtual time, firing due timers in order and settling after each. */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
  /** The aws harness's table (to read or delete items behind the store's back). */
  dynamo?: { client: DynamoDBClient; tableName: string };
}

export interface HarnessOptions {
  embeddedWorker?: boolean;
  /** The client's `retentionDays` (TTL of finished runs). @default kept forever */
  retentionDays?: number;
  /** The client's lease length. */
  leaseMs?: number;
}

export type HarnessFactory = (wrapStore?: (store: RunStore) => RunStore, options?: HarnessOptions) => Promise<Harness>;

/** The client options a harness passes through. */
function retention(options: HarnessOptions): { retentionDays?: number; leaseMs?: number } {
  return {
    ...(options.retentionDays === undefined ? {} : { retentionDays: options.retentionDays }),
    ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
  };
}

function advancer(clock: VirtualClock, settle: () => Promise<void>) {
  return (ms: number) => advanceVirtualTime(clock, ms, settle);
}

export const memoryHarness: HarnessFactory = async (wrapStore, options = {}) => {
  const clock = new VirtualClock();
  const base = createMemoryBackend(clock);
  const backend: Backend = { ...base, store: wrapStore ? wrapStore(base.store) : base.store };
  const durable = new Durable({ backend, embeddedWorker: 'listen', cancelPollMs: 0, log: () => undefined, ...retention(options) });
  const settle = () => durable.idle();
  return { name: 'memory', durable, backend, clock, settle, advance: advancer(clock, settle), close: () => durable.close() };
};

/** Counts messages sent and acknowledged, so the harness knows when the queue has drained. */
class TrackedDispatcher implements Dispatcher {
  sent = 0;
  acked = 0;
  constructor(private readonly inner: Dispatcher) {}
  async dispatch(message: DispatchMessage, options?: { delayMs?: number }) {
    // Delays are the timers' job here (virtual clock), so every message is sent at once.
    this.sent++;
    await this.inner.dispatch(message, { ...options, delayMs: 0 });
  }
  async receive(max: number, waitMs: number, signal?: AbortSignal): Promise<ReceivedMessage[]> {
    const messages = await this.inner.receive(max, Math.min(waitMs, 100), signal);
    return messages.map((m) => ({
      ...m,
      ack: async () => {
        await m.ack();
        this.acked++;
      },
    }));
  }
}

export function awsHarnessFactory(): { factory: HarnessFactory; stop(): Promise<void> } {
  let servers: Promise<[LocalServer, LocalServer]> | undefined;
  const start = () => (servers ??= Promise.all([startDynalite(), startFauxqs()]));
  return {
    async stop() {
      if (servers) for (const s of await servers) await s.stop();
    },
    factory: async (wrapStore, options = {}) => {
      const [ddb, sqs] = await start();
      const clock = new VirtualClock();
      const counter = new InMemoryRequestCounter();
      const dynamodb = dynamoClient(ddb.endpoint);
      const sqsc = sqsClient(sqs.endpoint);
      const tableName = `t-${randomUUID().slice(0, 8)}`;
      await ensureTable(dynamodb, tableName);
      const queueUrl = await createQueue(sqsc, `q-${randomUUID().slice(0, 8)}`, { VisibilityTimeout: '5' });
      const store = new DynamoRunStore({ client: dynamodb, tableName, now: () => clock.now(), counter });
      const dispatcher = new TrackedDispatcher(new SqsDispatcher({ client: sqsc, queueUrl, counter }));
      const timers = new ClockTimers(clock, dispatcher);
      const backend: Backend = {
        store: wrapStore ? wrapStore(store) : store,
        flow: store.flow,
        dispatcher,
        timers,
        bus: new InProcessBus(),
        clock,
        counter,
        crons: new DynamoCronStore({ client: dynamodb, tableName, counter }),
        async close() {
          timers.clear();
          dynamodb.destroy();
          sqsc.destroy();
        },
      };
      const durable = new Durable({ backend, embeddedWorker: options.embeddedWorker === false ? 'none' : 'poll', cancelPollMs: 0, log: () => undefined, ...retention(options) });
      const settle = async () => {
        for (let stable = 0; stable < 3; ) {
          await durable.idle();
          await new Promise((r) => setTimeout(r, 5));
          if (dispatcher.acked >= dispatcher.sent) stable++;
          else stable = 0;
        }
      };
      return { name: 'aws', durable, backend, clock, settle, advance: advancer(clock, settle), close: () => durable.close(), dynamo: { client: dynamodb, tableName } };
    },
  };
}
