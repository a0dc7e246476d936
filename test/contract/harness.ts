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
import type { S3Client } from '@aws-sdk/client-s3';
import { DynamoRunStore } from '../../sdk/adapters/aws/dynamo-store.ts';
import { DynamoCronStore } from '../../sdk/adapters/aws/dynamo-crons.ts';
import { SqsDispatcher } from '../../sdk/adapters/aws/sqs-dispatcher.ts';
import { S3PayloadStore } from '../../sdk/adapters/aws/s3-payloads.ts';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { ensureTable } from '../../sdk/adapters/aws/table-setup.ts';
import type { Backend, DispatchMessage, Dispatcher, ReceivedMessage, RunStore } from '../../sdk/ports.ts';
import { createQueue, dynamoClient, s3Client, sqsClient, startDynalite, startFauxqs, type LocalServer } from '../support/servers.ts';

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
  /** The store as the harness built it, without the engine's large-payload offloading (sdk/core/payloads.ts). */
  rawStore?: RunStore;
  /** The aws harness's payload bucket on fauxqs's S3. */
  s3?: { client: S3Client; bucket: string };
}

export interface HarnessOptions {
  embeddedWorker?: boolean;
  /** The client's `retentionDays` (TTL of finished runs). @default kept forever */
  retentionDays?: number;
  /** The client's lease length. */
  leaseMs?: number;
  /** The client's `maxPayloadBytes`. */
  maxPayloadBytes?: number;
}

export type HarnessFactory = (wrapStore?: (store: RunStore) => RunStore, options?: HarnessOptions) => Promise<Harness>;

/** The client options a harness passes through. */
function retention(options: HarnessOptions): { retentionDays?: number; leaseMs?: number; maxPayloadBytes?: number } {
  return {
    ...(options.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: options.maxPayloadBytes }),
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

/**
 * Counts messages sent, received and acknowledged, so the harness knows when the queue has drained. A message
 * whose processing outlasts the queue's visibility timeout (a loaded machine) is delivered twice and acknowledged
 * twice: acknowledgements count at most the sends of their run, and a message being processed holds `settle`.
 */
class TrackedDispatcher implements Dispatcher {
  sent = 0;
  acked = 0;
  /** Received and neither acknowledged nor given back yet. */
  inFlight = 0;
  private readonly outstanding = new Map<string, number>();
  constructor(private readonly inner: Dispatcher) {}
  async dispatch(message: DispatchMessage, options?: { delayMs?: number }) {
    // Delays are the timers' job here (virtual clock), so every message is sent at once.
    this.sent++;
    this.outstanding.set(message.runId, (this.outstanding.get(message.runId) ?? 0) + 1);
    await this.inner.dispatch(message, { ...options, delayMs: 0 });
  }
  async receive(max: number, waitMs: number, signal?: AbortSignal): Promise<ReceivedMessage[]> {
    const messages = await this.inner.receive(max, Math.min(waitMs, 100), signal);
    this.inFlight += messages.length;
    return messages.map((m) => {
      let done = false;
      const finished = () => {
        if (done) return;
        done = true;
        this.inFlight--;
      };
      return {
        ...m,
        ack: async () => {
          try {
            await m.ack();
          } finally {
            finished();
          }
          const runId = m.message?.runId ?? '';
          const left = this.outstanding.get(runId) ?? 0;
          if (left > 0) {
            this.outstanding.set(runId, left - 1);
            this.acked++;
          } else if (!m.message) this.acked++;
        },
        retry: async (delayMs: number) => {
          try {
            await m.retry(delayMs);
          } finally {
            finished();
          }
        },
      };
    });
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
      // Large payloads go to fauxqs's S3, as they go to the construct's bucket on AWS.
      const s3 = s3Client(sqs.endpoint);
      const bucket = `b-${randomUUID().slice(0, 8)}`;
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
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
        payloads: new S3PayloadStore({ client: s3, bucket, counter, clock }),
        async close() {
          timers.clear();
          dynamodb.destroy();
          sqsc.destroy();
          s3.destroy();
        },
      };
      const durable = new Durable({ backend, embeddedWorker: options.embeddedWorker === false ? 'none' : 'poll', cancelPollMs: 0, log: () => undefined, ...retention(options) });
      const settle = async () => {
        for (let stable = 0; stable < 3; ) {
          await durable.idle();
          await new Promise((r) => setTimeout(r, 5));
          if (dispatcher.acked >= dispatcher.sent && dispatcher.inFlight === 0) stable++;
          else stable = 0;
        }
      };
      return { name: 'aws', durable, backend, clock, settle, advance: advancer(clock, settle), close: () => durable.close(), dynamo: { client: dynamodb, tableName }, s3: { client: s3, bucket }, rawStore: store };
    },
  };
}
