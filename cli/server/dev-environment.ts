/**
 * What `durable dev` prints for other processes: the `AWS_ENDPOINT_URL_*` lines of its DynamoDB, SQS and
 * EventBridge, and the `DURABLE_*` lines `Durable.fromEnv()` reads (names from sdk/adapters/aws/env.ts), so a
 * `.env` made of them points the aws CLI, AWS SDKs and `Durable.fromEnv()` at the dev server.
 */
import { ENV } from '../../sdk/adapters/aws/env.ts';
import type { Durable } from '../../sdk/index.ts';
import type { LocalEndpoints } from '../../sdk/local/index.ts';
import { UsageError } from '../command.ts';
import { LOCAL_EVENT_BUS_NAME } from './eventbridge-api.ts';

/** The three ports of `durable dev`: API + dashboard + EventBridge, DynamoDB, SQS. */
export interface DevPorts {
  api: number;
  dynamodb: number;
  sqs: number;
}

/**
 * `--port N` (DynamoDB on N+1, SQS on N+2; 0: free ports for all three) or `--ports A,D,S`.
 *
 * @throws {UsageError} naming the flag and the bad value.
 */
export function parsePorts(port: unknown, ports: unknown, defaultPort: number): DevPorts {
  if (port !== undefined && ports !== undefined) throw new UsageError('give --port or --ports, not both');
  if (typeof ports === 'string') {
    const parts = ports.split(',').map((p) => p.trim());
    const numbers = parts.map(Number);
    if (parts.length !== 3 || !numbers.every(isPort)) {
      throw new UsageError(`--ports must be three port numbers API,DYNAMODB,SQS (each 0 to 65535, 0 picks a free one), got '${ports}'`);
    }
    const [api, dynamodb, sqs] = numbers as [number, number, number];
    const fixed = numbers.filter((n) => n !== 0);
    if (new Set(fixed).size !== fixed.length) throw new UsageError(`--ports must name three different ports, got '${ports}'`);
    return { api, dynamodb, sqs };
  }
  const api = port === undefined ? defaultPort : Number(port);
  if (!isPort(api) || api > 65533) throw new UsageError(`--port must be a whole number from 0 to 65533 (DynamoDB and SQS take the next two), got '${String(port)}'`);
  return api === 0 ? { api, dynamodb: 0, sqs: 0 } : { api, dynamodb: api + 1, sqs: api + 2 };
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 65535;
}

/**
 * The variables, in print order. A client that is not the embedded default (a test environment, or AWS) has no
 * local DynamoDB and SQS: then only the EventBridge endpoint is given.
 */
export async function devEnvironment(durable: Durable, url: string): Promise<Record<string, string>> {
  const backend = (await durable.engine.backend()) as { endpoints?: () => Promise<LocalEndpoints> };
  if (typeof backend.endpoints !== 'function') return { AWS_ENDPOINT_URL_EVENTBRIDGE: url };
  const local = await backend.endpoints();
  return {
    AWS_ENDPOINT_URL_DYNAMODB: local.dynamodb,
    AWS_ENDPOINT_URL_SQS: local.sqs,
    AWS_ENDPOINT_URL_EVENTBRIDGE: url,
    AWS_REGION: local.region,
    // The aws CLI v1 reads this one, the SDKs AWS_REGION.
    AWS_DEFAULT_REGION: local.region,
    // dynalite and fauxqs check no signature; the SDKs and the aws CLI still need some credentials to sign with.
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    [ENV.tableName]: local.tableName,
    [ENV.queueUrl]: local.queueUrl,
    [ENV.queueArn]: local.queueArn,
    [ENV.eventBusName]: LOCAL_EVENT_BUS_NAME,
    // No EventBridge Scheduler runs locally: a Durable.fromEnv() process's timers up to 15 minutes are SQS delays
    // (they work here); a longer one would call Scheduler and fail. These two only satisfy fromEnv's checks.
    [ENV.scheduleGroup]: 'durable-tasks-local',
    [ENV.schedulerRoleArn]: 'arn:aws:iam::000000000000:role/durable-tasks-local-scheduler',
  };
}
