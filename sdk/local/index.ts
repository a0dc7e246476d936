/**
 * The embedded default behind `Durable.local()`: the production AWS adapters pointed at dynalite
 * (DynamoDB, persisted on disk) and fauxqs (SQS), both started in this process on loopback. Timers and the
 * event bus are in-process; their state lives in the table (each run's `wakeAt`), so a restart re-arms them.
 * Loaded only through a dynamic import, so a Lambda bundle never carries dynalite or fauxqs.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LocalOptions } from './options.ts';
import { inProcessRequestHandler, type RequestListener } from './in-process-http.ts';
import { DurableError } from '../core/errors.ts';
import type { Backend } from '../ports.ts';
import { ClockTimers } from '../adapters/memory/clock-timers.ts';
import { InProcessBus } from '../adapters/memory/in-process-bus.ts';
import { RealClock } from '../adapters/memory/virtual-clock.ts';
import { DynamoRunStore } from '../adapters/aws/dynamo-store.ts';
import { DynamoCronStore } from '../adapters/aws/dynamo-crons.ts';
import { InMemoryRequestCounter } from '../adapters/aws/request-counter.ts';
import type { SqsDispatcher } from '../adapters/aws/sqs-dispatcher.ts';
import type { S3PayloadStore } from '../adapters/aws/s3-payloads.ts';
import { LocalDispatcher } from './local-dispatcher.ts';
import { ensureTable } from '../adapters/aws/table-setup.ts';
import { closeDynaliteIterators } from './dynalite-iterators.ts';

const TABLE = 'durable-tasks';
const QUEUE = 'durable-tasks-dispatch';
const BUCKET = 'durable-tasks-payloads';
const CLIENT = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

/** The local backend, with what `Durable.local` needs to recover after a restart. */
export interface LocalBackend extends Backend {
  timers: ClockTimers;
  bus: InProcessBus;
  /** Where state is kept (undefined when in memory). */
  dir: string | undefined;
}

export async function createLocalBackend(options: LocalOptions = {}): Promise<LocalBackend> {
  const dir = options.inMemory ? undefined : resolve(options.dir ?? '.durable');
  if (dir) {
    mkdirSync(join(dir, 'dynamodb'), { recursive: true });
    takeLock(dir);
  }
  const { default: dynalite } = await import('dynalite');
  closeDynaliteIterators();
  const dynamoServer: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dir ? { path: join(dir, 'dynamodb') } : {}) });
  await new Promise<void>((ok, fail) => {
    dynamoServer.once('error', fail);
    dynamoServer.listen(0, '127.0.0.1', () => ok());
  });
  const counter = new InMemoryRequestCounter();
  // dynalite still listens on loopback (other tools can reach it), but this client calls its request listener
  // directly: no socket, no HTTP parsing (in-process-http.ts).
  const dynamodb = new DynamoDBClient({
    ...CLIENT,
    endpoint: `http://127.0.0.1:${(dynamoServer.address() as AddressInfo).port}`,
    requestHandler: inProcessRequestHandler(dynamoServer.listeners('request')[0] as RequestListener),
  });
  await ensureTable(dynamodb, TABLE);
  // The queue starts on first use (the worker's first poll, or a dispatch the worker cannot take): the table is all
  // that recovery after a restart needs, and the worker takes dispatches in-process (local-dispatcher.ts). Loading
  // fauxqs and the SQS client is about a third of start-up.
  // fauxqs also serves S3 (large payloads); its objects are written through to `dir` (local-s3.ts).
  let fauxqs: ReturnType<typeof startFauxqs> | undefined;
  const server = () => (fauxqs ??= startFauxqs(dir));
  let sqs: ReturnType<typeof startSqs> | undefined;
  const clock = new RealClock();
  const dispatcher = new LocalDispatcher(() => (sqs = startSqs(server(), counter)).then((s) => s.dispatcher));
  const timers = new ClockTimers(clock, dispatcher);
  let s3: ReturnType<typeof startS3> | undefined;
  const payloads = () => (s3 ??= startS3(server(), counter, clock));
  return {
    store: new DynamoRunStore({ client: dynamodb, tableName: TABLE, now: () => clock.now(), counter }),
    dispatcher,
    timers,
    bus: new InProcessBus(),
    // No cronSchedules: the client's in-process scheduler fires the ticks of the crons kept here.
    crons: new DynamoCronStore({ client: dynamodb, tableName: TABLE, counter }),
    // Started on first use, like the queue: only runs with a payload over 256 KiB load the S3 client.
    payloads: {
      put: async (key, body, options) => (await payloads()).store.put(key, body, options),
      get: async (key) => (await payloads()).store.get(key),
    },
    clock,
    counter,
    dir,
    async close() {
      timers.clear();
      dynamodb.destroy();
      await sqs?.then((s) => s.close(), () => undefined);
      await s3?.then((s) => s.close(), () => undefined);
      await fauxqs?.then((f) => f.close(), () => undefined);
      await new Promise<void>((ok) => dynamoServer.close(() => ok()));
      if (dir) releaseLock(dir);
    },
  };
}

/** fauxqs on loopback (SQS and S3), its S3 objects kept under `dir`. */
async function startFauxqs(dir: string | undefined): Promise<{ endpoint: string; close(): Promise<void> }> {
  const [fauxqs, { fauxqsStores }] = await Promise.all([import('fauxqs'), import('./local-s3.ts')]);
  const stores = (await fauxqsStores(dir)) as NonNullable<Parameters<typeof fauxqs.buildApp>[0]>['stores'];
  const server = fauxqs.buildApp({ logger: false, ...(stores ? { stores } : {}) });
  const endpoint = await server.listen({ port: 0, host: '127.0.0.1' });
  return { endpoint, close: () => server.close() };
}

/** The payload bucket on the local S3, and the S3 payload store on it (the production adapter). */
async function startS3(
  server: ReturnType<typeof startFauxqs>,
  counter: InMemoryRequestCounter,
  clock: RealClock,
): Promise<{ store: S3PayloadStore; close(): Promise<void> }> {
  const [{ endpoint }, { CreateBucketCommand, S3Client }, { S3PayloadStore }] = await Promise.all([
    server,
    import('@aws-sdk/client-s3'),
    import('../adapters/aws/s3-payloads.ts'),
  ]);
  const client = new S3Client({ ...CLIENT, endpoint, forcePathStyle: true });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  return {
    store: new S3PayloadStore({ client, bucket: BUCKET, counter, clock }),
    async close() {
      client.destroy();
    },
  };
}

/** The dispatch queue on the local fauxqs, and the SQS dispatcher on it. */
async function startSqs(server: ReturnType<typeof startFauxqs>, counter: InMemoryRequestCounter): Promise<{ dispatcher: SqsDispatcher; close(): Promise<void> }> {
  const [{ endpoint }, { CreateQueueCommand, SQSClient }, { SqsDispatcher }] = await Promise.all([
    server,
    import('@aws-sdk/client-sqs'),
    import('../adapters/aws/sqs-dispatcher.ts'),
  ]);
  const client = new SQSClient({ ...CLIENT, endpoint });
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: QUEUE, Attributes: { VisibilityTimeout: '60' } }));
  if (!QueueUrl) throw new DurableError('the local SQS server returned no queue URL');
  return {
    dispatcher: new SqsDispatcher({ client, queueUrl: QueueUrl, counter }),
    async close() {
      client.destroy();
    },
  };
}

/** One process per state directory: dynalite's LevelDB store is single-writer. */
function takeLock(dir: string) {
  const lock = join(dir, 'lock');
  try {
    const pid = Number(readFileSync(lock, 'utf8'));
    if (pid && pid !== process.pid && alive(pid)) {
      throw new DurableError(`another process (pid ${pid}) is using '${dir}'; stop it or pass another dir to Durable.local({ dir })`);
    }
  } catch (error) {
    if (error instanceof DurableError) throw error;
  }
  writeFileSync(lock, String(process.pid));
}

function releaseLock(dir: string) {
  try {
    if (Number(readFileSync(join(dir, 'lock'), 'utf8')) === process.pid) rmSync(join(dir, 'lock'));
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
