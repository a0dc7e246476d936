/**
 * A simulated AWS account around the real adapters and handlers: dynalite and fauxqs behind SDK clients that go
 * through the throttling edge (edge.ts); EventBridge and EventBridge Scheduler answered by the edge, which delivers
 * events to the real event router handler and fires schedules onto the queue at most at Scheduler's invocation
 * rate; an event source mapping that polls the queue and calls the real worker Lambda handler, never with more
 * handlers running than Lambda's concurrency limit allows.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';
import { Durable } from '../../sdk/durable.ts';
import { createAwsBackend } from '../../sdk/adapters/aws/backend.ts';
import { ensureTable } from '../../sdk/adapters/aws/table-setup.ts';
import { DynamoRunStore } from '../../sdk/adapters/aws/dynamo-store.ts';
import type { Clock } from '../../sdk/ports.ts';
import { AwsEdge, Concurrency } from './edge.ts';

const config = (endpoint: string) => ({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'sim', secretAccessKey: 'sim' } });

/** Real time plus an offset the simulation moves forward ("an hour passes"). */
class OffsetClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
  }
}

export interface WorldOptions {
  scale: number;
  seed: number;
  /** Workflows (defined on the world's `durable`). */
  define(durable: Durable): Parameters<Durable['worker']>[1]['workflows'];
  /** Lambda's timeout for the router's budget. @default 60 s */
  timeoutMs?: number;
  /** The construct's `sweepShards` / `waiterShards` for this load (README, "Capacity model"). @default 4 and 4 */
  shards?: { sweep: number; waiter: number };
}

export interface WorldStats {
  workerInvocations: number;
  routerInvocations: number;
  /** Router invocations that threw and were retried by (simulated) EventBridge. */
  routerRetries: number;
  /** Worker batches with failed records (left on the queue, redelivered after the visibility timeout). */
  failedRecords: number;
  schedulesCreated: number;
  schedulesFired: number;
  sweeps: number;
  redispatched: number;
}

export type World = Awaited<ReturnType<typeof createWorld>>;

export async function createWorld(options: WorldOptions) {
  const edge = new AwsEdge({ scale: options.scale, seed: options.seed });
  const lambda = new Concurrency(Math.max(1, Math.round(edge.limit('lambdaConcurrency'))));
  const stats: WorldStats = { workerInvocations: 0, routerInvocations: 0, routerRetries: 0, failedRecords: 0, schedulesCreated: 0, schedulesFired: 0, sweeps: 0, redispatched: 0 };
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const ddbEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fauxqs = buildApp({ logger: false });
  const sqsEndpoint = await fauxqs.listen({ port: 0, host: '127.0.0.1' });

  const tableName = `sim-${randomUUID().slice(0, 8)}`;
  const plainDynamo = new DynamoDBClient(config(ddbEndpoint));
  await ensureTable(plainDynamo, tableName);
  plainDynamo.destroy();
  // AWS-internal deliveries (Scheduler -> SQS) do not go through the account's client.
  const internalSqs = new SQSClient(config(sqsEndpoint));
  const { QueueUrl } = await internalSqs.send(new CreateQueueCommand({ QueueName: `sim-${randomUUID().slice(0, 8)}`, Attributes: { VisibilityTimeout: '3' } }));
  const queueUrl = QueueUrl!;

  const clock = new OffsetClock();
  let running = true;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => (timers.delete(t), fn()), ms);
    timers.add(t);
  };
  const schedules = new Map<string, { at: number; body: string }>();
  const pending: Promise<unknown>[] = [];

  const dynamodb = edge.instrument(new DynamoDBClient(config(ddbEndpoint)), 'DynamoDB');
  const sqs = edge.instrument(new SQSClient(config(sqsEndpoint)), 'SQS');
  const eventBridge = edge.instrument(new EventBridgeClient(config('http://127.0.0.1:9')), 'EventBridge', (operation, input) => {
    if (operation !== 'PutEvents') return {};
    for (const entry of input.Entries ?? []) later(edge.latency('EventBridgeDelivery'), () => deliver(entry, 0));
    return { FailedEntryCount: 0, Entries: (input.Entries ?? []).map(() => ({ EventId: randomUUID() })) };
  });
  const scheduler = edge.instrument(new SchedulerClient(config('http://127.0.0.1:9')), 'Scheduler', (operation, input) => {
    if (operation === 'CreateSchedule') {
      // As Scheduler: a name in use is a ConflictException (the adapter takes it as success: idempotent per timer id).
      if (schedules.has(input.Name)) throw Object.assign(new Error(`Schedule ${input.Name} already exists.`), { name: 'ConflictException', $fault: 'client', $metadata: { httpStatusCode: 409 } });
      stats.schedulesCreated++;
      const at = Date.parse(`${/^at\((.*)\)$/.exec(input.ScheduleExpression ?? '')?.[1]}Z`);
      schedules.set(input.Name, { at, body: input.Target.Input });
      return { ScheduleArn: `arn:aws:scheduler:us-east-1:000000000000:schedule/${input.GroupName}/${input.Name}` };
    }
    if (operation === 'DeleteSchedule') schedules.delete(input.Name);
    return {};
  });
  // The store reads its shard counts from the environment, as in Lambda (the construct sets these).
  const savedEnv = { sweep: process.env.DURABLE_SWEEP_SHARDS, waiter: process.env.DURABLE_WAITER_SHARDS };
  process.env.DURABLE_SWEEP_SHARDS = String(options.shards?.sweep ?? 4);
  process.env.DURABLE_WAITER_SHARDS = String(options.shards?.waiter ?? 4);
  const backend = createAwsBackend({
    dynamodb,
    sqs,
    scheduler,
    eventBridge,
    tableName,
    queueUrl,
    queueArn: 'arn:aws:sqs:us-east-1:000000000000:sim',
    eventBusName: 'sim',
    scheduleGroup: 'sim',
    schedulerRoleArn: 'arn:aws:iam::000000000000:role/sim',
    clock,
  });
  const durable = new Durable({ backend, embeddedWorker: 'none', log: () => undefined, leaseMs: 5_000 });
  const restoreEnv = () => {
    for (const [name, value] of [['DURABLE_SWEEP_SHARDS', savedEnv.sweep], ['DURABLE_WAITER_SHARDS', savedEnv.waiter]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  const worker = durable.worker('sim', { workflows: options.define(durable) });
  const workerHandler = worker.lambdaHandler();
  const routerHandler = worker.eventRouterHandler();
  const sweeperHandler = worker.sweeperHandler();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const context = () => {
    const end = Date.now() + timeoutMs;
    return { getRemainingTimeInMillis: () => end - Date.now() };
  };

  /** An EventBridge target invocation: at most the invocation rate, retried with backoff when it throws. */
  function deliver(entry: { Detail?: string; DetailType?: string; Source?: string }, attempt: number): void {
    if (!running) return;
    if (edge.tryTake([{ quota: 'eventBridgeInvocations', scope: 'region', units: 1, shared: true }])) {
      later(20, () => deliver(entry, attempt));
      return;
    }
    const event = { version: '0', id: randomUUID(), 'detail-type': entry.DetailType, source: entry.Source, account: '000000000000', time: new Date().toISOString(), region: 'us-east-1', resources: [], detail: JSON.parse(entry.Detail ?? '{}') };
    const run = lambda.run(async () => {
      await edge.delay('LambdaInvoke');
      stats.routerInvocations++;
      await routerHandler(event, context());
    });
    pending.push(
      run.catch((error) => {
        if (process.env.SIM_DEBUG) console.error('router failed', error);
        stats.routerRetries++;
        later(Math.min(60_000, 200 * 2 ** attempt), () => deliver(entry, attempt + 1));
      }),
    );
  }

  /** The event source mapping: polls while a handler could start, batches of up to 10, deletes what succeeded. */
  async function poll(): Promise<void> {
    while (running) {
      if (!lambda.free()) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      let messages: Message[] | undefined;
      try {
        ({ Messages: messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['ApproximateReceiveCount'] })));
      } catch {
        continue;
      }
      if (!messages?.length) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const records = messages.map((m) => ({ messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, body: m.Body!, attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:sim', awsRegion: 'us-east-1' }));
      const invocation = lambda.run(async () => {
        await edge.delay('LambdaInvoke');
        stats.workerInvocations++;
        let failed = new Set(records.map((r) => r.messageId));
        try {
          const response = await workerHandler({ Records: records } as never, context());
          failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        } catch {
          // The whole batch failed: every record comes back after the visibility timeout.
        }
        stats.failedRecords += failed.size;
        const done = messages.filter((m) => !failed.has(m.MessageId!));
        // The event source mapping's delete: AWS-internal, not the account's client.
        if (done.length) await internalSqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      });
      pending.push(invocation.catch(() => undefined));
    }
  }

  /** EventBridge Scheduler: due schedules send their input to the queue, at most at the invocation rate. */
  async function fireSchedules(): Promise<void> {
    while (running) {
      const now = clock.now();
      for (const [name, s] of schedules) {
        if (s.at > now) continue;
        if (edge.tryTake([{ quota: 'schedulerInvocations', scope: 'region', units: 1, shared: true }])) break;
        schedules.delete(name);
        stats.schedulesFired++;
        await internalSqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: s.body }));
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The sweeper Lambda on its schedule (every `everyMs`, compressed from the construct's minute), until paused. */
  let sweepPaused = false;
  let sweeping: Promise<unknown> = Promise.resolve();
  async function sweep(everyMs: number): Promise<void> {
    while (running) {
      for (let waited = 0; running && waited < everyMs; waited += 50) await new Promise((r) => setTimeout(r, 50));
      if (!running || sweepPaused) continue;
      sweeping = lambda
        .run(async () => {
          stats.sweeps++;
          stats.redispatched += (await sweeperHandler()).redispatched;
        })
        .catch(() => undefined);
      await sweeping;
    }
  }

  const loops: Promise<void>[] = [];
  const observerClient = new DynamoDBClient(config(ddbEndpoint));
  const world = {
    /** Requests counted before the measured phase. */
    requestBaseline: 0,
    /** Reads the table behind the edge's back (the simulation's oracle: no quota, no latency, not counted). */
    observer: new DynamoRunStore({ client: observerClient, tableName, now: () => clock.now() }),
    edge,
    lambda,
    stats,
    clock,
    durable,
    backend,
    schedules,
    /** Forgets the counts so far (after a set-up phase). */
    resetStats() {
      for (const k of Object.keys(edge.stats.attempts)) delete edge.stats.attempts[k];
      for (const k of Object.keys(edge.stats.throttled)) delete edge.stats.throttled[k as keyof typeof edge.stats.throttled];
      for (const k of Object.keys(edge.stats.hot)) delete edge.stats.hot[k];
      world.requestBaseline = Object.values(backend.counter.snapshot()).reduce((a, b) => a + b, 0);
      lambda.peak = lambda.inUse;
    },
    /** Starts the event source mapping (`pollers` concurrent pollers), the Scheduler and the sweeper. */
    start(pollers = 5, sweepEveryMs = 2_000) {
      for (let i = 0; i < pollers; i++) loops.push(poll());
      loops.push(fireSchedules(), sweep(sweepEveryMs));
    },
    /** Stops the sweeper's schedule (after the sweep in flight, if any). */
    async pauseSweeper() {
      sweepPaused = true;
      await sweeping;
    },
    async close() {
      running = false;
      restoreEnv();
      await Promise.allSettled(loops);
      await Promise.allSettled(pending);
      for (const t of timers) clearTimeout(t);
      await durable.close();
      internalSqs.destroy();
      observerClient.destroy();
      await fauxqs.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return world;
}
