/**
 * dynalite (DynamoDB) and fauxqs (SQS) started in this process on a free loopback port, and AWS clients
 * pointed at them with fake static credentials.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';

/** A local server: its endpoint URL and how to stop it. */
export interface LocalServer {
  endpoint: string;
  stop(): Promise<void>;
}

/** Client settings for a local endpoint: fake static credentials, us-east-1, no retries to hide bugs. */
export function localClientConfig(endpoint: string) {
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  };
}

/**
 * Starts dynalite in memory (or on disk under `path`) on 127.0.0.1, port chosen by the OS. Tables are
 * ACTIVE at once.
 */
export async function startDynalite(options: { path?: string } = {}): Promise<LocalServer> {
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.path ? { path: options.path } : {}) });
  // Node closes a keep-alive socket idle for 5 s; a request the SDK sends on it at that moment fails with
  // ECONNRESET, and with maxAttempts 1 (above) nothing retries it: a flake of the harness, not of the engine
  // (seen in the chaos suite as "late push ... failed: socket hang up"). Idle sockets stay open instead.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve, reject) => server.close((error?: Error) => (error ? reject(error) : resolve()))),
  };
}

/**
 * Starts fauxqs on 127.0.0.1, port chosen by the OS. (`startFauxqs()` always binds 0.0.0.0, so this builds
 * the app and listens itself.) Queues are created through the SQS API, e.g. with `createQueue`.
 */
export async function startFauxqs(): Promise<LocalServer> {
  const app = buildApp({ logger: false });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { endpoint: address, stop: () => app.close() };
}

export function dynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient(localClientConfig(endpoint));
}

/** An S3 client on fauxqs (path-style: no wildcard DNS needed). */
export function s3Client(endpoint: string): S3Client {
  return new S3Client({ ...localClientConfig(endpoint), forcePathStyle: true });
}

export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient(localClientConfig(endpoint));
}

/** Creates a standard queue and returns its URL. */
export async function createQueue(client: SQSClient, name: string, attributes: Record<string, string> = {}): Promise<string> {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!QueueUrl) throw new Error(`fauxqs returned no URL for queue ${name}`);
  return QueueUrl;
}
