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
import { LOCAL_ENV } from '../adapters/aws/env.ts';
import type { LocalOptions } from './options.ts';
import { inProcessRequestHandler, type RequestListener } from './in-process-http.ts';
import { DurableError } from '../core/errors.ts';
import type { Backend } from '../ports.ts';
import { ClockTimers } from '../adapters/memory/clock-timers.ts';
import { InProcessBus } from '../adapters/memory/in-process-bus.ts';
import { RealClock } from '../adapters/shared/real-clock.ts';
import { DynamoRunStore } from '../adapters/aws/dynamo-store.ts';
import { DynamoCronStore } from '../adapters/aws/dynamo-crons.ts';
import { InMemoryRequestCounter } from '../adapters/aws/request-counter.ts';
import type { SqsDispatcher } from '../adapters/aws/sqs-dispatcher.ts';
import { LocalDispatcher } from './local-dispatcher.ts';
import { ensureTable } from '../adapters/aws/table-setup.ts';
import { closeDynaliteIterators } from './dynalite-iterators.ts';

const TABLE = 'durable-tasks';
const QUEUE = 'durable-tasks-dispatch';
const REGION = 'us-east-1';
const CLIENT = { region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

/** Where other processes reach the embedded default's services (`durable dev` prints these). */
export interface LocalEndpoints {
  /** `http://127.0.0.1:<port>` of dynalite. */
  dynamodb: string;
  /** `http://127.0.0.1:<port>` of fauxqs. */
  sqs: string;
  tableName: string;
  queueUrl: string;
  queueArn: string;
  region: string;
}

/** The local backend, with what `Durable.local` needs to recover after a restart. */
export interface LocalBackend extends Backend {
  timers: ClockTimers;
  bus: InProcessBus;
  /** Where state is kept (undefined when in memory). */
  dir: string | undefined;
  /** Starts the SQS server if it has not started yet, and returns where both servers listen. */
  endpoints(): Promise<LocalEndpoints>;
}

export async function createLocalBackend(options: LocalOptions = {}): Promise<LocalBackend> {
  const dir = options.inMemory ? undefined : resolve(options.dir ?? '.durable');
  if (dir) {
    mkdirSync(join(dir, 'dynamodb'), { recursive: true });
    takeLock(dir);
  }
  const dynamodbPort = portFromEnv(LOCAL_ENV.dynamodbPort);
  const sqsPort = portFromEnv(LOCAL_ENV.sqsPort);
  const { default: dynalite } = await import('dynalite');
  closeDynaliteIterators();
  const dynamoServer: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dir ? { path: join(dir, 'dynamodb') } : {}) });
  await new Promise<void>((ok, fail) => {
    dynamoServer.once('error', (error: NodeJS.ErrnoException) => fail(portError(error, 'DynamoDB', dynamodbPort, LOCAL_ENV.dynamodbPort)));
    dynamoServer.listen(dynamodbPort, '127.0.0.1', () => ok());
  });
  // Other processes may connect (`durable dev` prints the endpoint), but neither the server nor their
  // connections keep this process alive: a script ends when its own work is done.
  doNotHoldProcess(dynamoServer);
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
  let sqs: ReturnType<typeof startSqs> | undefined;
  const clock = new RealClock();
  const dispatcher = new LocalDispatcher(() => (sqs = startSqs(counter, sqsPort)).then((s) => s.dispatcher));
  const timers = new ClockTimers(clock, dispatcher);
  // A port was asked for (`durable dev`): other processes expect the queue to be there now.
  if (process.env[LOCAL_ENV.sqsPort] !== undefined) await dispatcher.queue();
  return {
    store: new DynamoRunStore({ client: dynamodb, tableName: TABLE, now: () => clock.now(), counter }),
    dispatcher,
    timers,
    bus: new InProcessBus(),
    // No cronSchedules: the client's in-process scheduler fires the ticks of the crons kept here.
    crons: new DynamoCronStore({ client: dynamodb, tableName: TABLE, counter }),
    clock,
    counter,
    dir,
    async endpoints() {
      await dispatcher.queue();
      const started = await sqs!;
      return {
        dynamodb: `http://127.0.0.1:${(dynamoServer.address() as AddressInfo).port}`,
        sqs: started.endpoint,
        tableName: TABLE,
        // fauxqs names its queues on `sqs.<region>.localhost`, which not every resolver knows: same server, by address.
        queueUrl: new URL(new URL(started.queueUrl).pathname, started.endpoint).href,
        queueArn: `arn:aws:sqs:${REGION}:000000000000:${QUEUE}`,
        region: REGION,
      };
    },
    async close() {
      timers.clear();
      dynamodb.destroy();
      await sqs?.then((s) => s.close(), () => undefined);
      await new Promise<void>((ok) => dynamoServer.close(() => ok()));
      if (dir) releaseLock(dir);
    },
  };
}

/** fauxqs on loopback, its queue, and the SQS dispatcher on it. */
async function startSqs(counter: InMemoryRequestCounter, port: number): Promise<{ dispatcher: SqsDispatcher; endpoint: string; queueUrl: string; close(): Promise<void> }> {
  const [fauxqs, { CreateQueueCommand, SQSClient }, { SqsDispatcher }] = await Promise.all([
    import('fauxqs'),
    import('@aws-sdk/client-sqs'),
    import('../adapters/aws/sqs-dispatcher.ts'),
  ]);
  const server = fauxqs.buildApp({ logger: false });
  acceptQueueUrlsByAddress(server);
  const endpoint = await server
    .listen({ port, host: '127.0.0.1' })
    .catch((error: NodeJS.ErrnoException) => Promise.reject(portError(error, 'SQS', port, LOCAL_ENV.sqsPort)));
  doNotHoldProcess(server.server);
  const client = new SQSClient({ ...CLIENT, endpoint });
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: QUEUE, Attributes: { VisibilityTimeout: '60' } }));
  if (!QueueUrl) throw new DurableError('the local SQS server returned no queue URL');
  return {
    dispatcher: new SqsDispatcher({ client, queueUrl: QueueUrl, counter }),
    endpoint,
    queueUrl: QueueUrl,
    async close() {
      client.destroy();
      await server.close();
    },
  };
}

/**
 * fauxqs names a queue `http://sqs.<region>.localhost:<port>/...` and finds it by that exact URL, but not every
 * resolver knows `*.localhost`, and an SDK given the queue URL sends to its host. `durable dev` prints the URL on
 * 127.0.0.1 instead; this maps such a URL back to fauxqs's name for it before fauxqs looks the queue up.
 */
function acceptQueueUrlsByAddress(server: { addHook(name: 'preHandler', hook: (req: { body?: unknown }) => Promise<void>): unknown }): void {
  server.addHook('preHandler', async (req) => {
    const body = req.body as { QueueUrl?: unknown } | undefined;
    if (!body || typeof body !== 'object' || typeof body.QueueUrl !== 'string') return;
    const url = URL.canParse(body.QueueUrl) ? new URL(body.QueueUrl) : undefined;
    if (url && (url.hostname === '127.0.0.1' || url.hostname === 'localhost')) body.QueueUrl = `http://sqs.${REGION}.localhost:${url.port}${url.pathname}`;
  });
}

/** A port from the environment (`durable dev` sets it); 0 (a free port) when unset. */
function portFromEnv(name: string): number {
  const text = process.env[name];
  if (text === undefined || text === '') return 0;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DurableError(`${name} must be a port number from 0 to 65535, got '${text}'`);
  return port;
}

function portError(error: NodeJS.ErrnoException, service: string, port: number, variable: string): Error {
  if (error.code !== 'EADDRINUSE') return error;
  return new DurableError(`the local ${service} server cannot listen on 127.0.0.1:${port}: the port is in use (another durable dev?); set ${variable} to another port, or 0 for any free one`);
}

/** Neither a listening server nor the connections it accepts keep the event loop alive. */
function doNotHoldProcess(server: Server): void {
  server.unref();
  server.on('connection', (socket: { unref(): void }) => socket.unref());
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
