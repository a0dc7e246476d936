/**
 * The embedded default's DynamoDB client calls dynalite's request listener in-process (sdk/local/in-process-http.ts).
 * The RunStore contract runs over that transport too, so a difference from the loopback socket (a header, an error
 * body, an empty body) shows up here.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { DynamoDBClient, GetItemCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { DynamoRunStore } from '../../sdk/adapters/aws/dynamo-store.ts';
import { ensureTable } from '../../sdk/adapters/aws/table-setup.ts';
import { inProcessRequestHandler, type RequestListener } from '../../sdk/local/in-process-http.ts';
import { runStoreContract } from '../contract/run-store.contract.ts';
import { localClientConfig } from '../support/servers.ts';

let server: Server;
let client: DynamoDBClient;
beforeAll(() => {
  // Never listening: every request must go through the listener.
  server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  client = new DynamoDBClient({
    ...localClientConfig('http://127.0.0.1:9'),
    requestHandler: inProcessRequestHandler(server.listeners('request')[0] as RequestListener),
  });
});
afterAll(() => client?.destroy());

runStoreContract('DynamoDB (dynalite, in-process transport)', async () => {
  const tableName = `durable-${randomUUID()}`;
  await ensureTable(client, tableName);
  return { store: new DynamoRunStore({ client, tableName }), close: async () => undefined };
});

test('service errors keep their type and message over the in-process transport', async () => {
  const error = await client.send(new GetItemCommand({ TableName: 'no-such-table', Key: { pk: { S: 'a' }, sk: { S: 'b' } } })).catch((e) => e);
  expect(error.name).toBe('ResourceNotFoundException');
  expect(error.$metadata.httpStatusCode).toBe(400);
  expect((await client.send(new ListTablesCommand({}))).TableNames).toBeInstanceOf(Array);
});
