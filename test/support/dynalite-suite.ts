/**
 * One dynalite for a test file: started before its tests, stopped after, with a shared client and a fresh table
 * per call of `freshTable` (dynalite creates one in a few milliseconds). The dynamo integration tests each wrote
 * these hooks.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { ensureTable } from '../../sdk/adapters/aws/table-setup.ts';
import { dynamoClient, startDynalite, type LocalServer } from './servers.ts';

export interface DynaliteSuite {
  /** The client shared by the file's tests (set once `beforeAll` ran). */
  readonly client: DynamoDBClient;
  /** dynalite's endpoint, for a client of a test's own (one whose requests it counts). */
  readonly endpoint: string;
  /** A new table with the store's schema, named `<prefix>-<uuid>`. */
  freshTable(prefix: string): Promise<string>;
}

export function useDynalite(): DynaliteSuite {
  let server: LocalServer | undefined;
  let client: DynamoDBClient | undefined;
  beforeAll(async () => {
    server = await startDynalite();
    client = dynamoClient(server.endpoint);
  });
  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  });
  return {
    get client() {
      return client!;
    },
    get endpoint() {
      return server!.endpoint;
    },
    async freshTable(prefix) {
      const tableName = `${prefix}-${randomUUID()}`;
      await ensureTable(client!, tableName);
      return tableName;
    },
  };
}
