/**
 * Records every AWS request a process makes, as IAM authorizes it: the action, the resource ARN, and the condition
 * keys the grants use (dynamodb:LeadingKeys, iam:PassedToService, events:source, events:detail-type). One
 * middleware per client, at the front of the stack, so a request is recorded whether or not it then succeeds.
 *
 * EventBridge Scheduler and EventBridge have no emulator here: {@link FakeScheduler} and {@link fakeEventBridge}
 * answer them in the same middleware stack (no network), the Scheduler keeping its schedules so a test can see
 * which are left.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { ACCOUNT, REGION, type IamRequest } from './iam-eval.ts';

/** A request with the name of the process ("principal") that made it and the SDK command, for messages. */
export interface RecordedRequest extends IamRequest {
  principal: string;
  command: string;
}

type AttributeValue = { S?: string; N?: string };
type Item = Record<string, AttributeValue>;

/** The base table's partition key and the indexes' (sweep, listing: table-schema.ts), to find leading keys. */
const PARTITION_KEYS = ['pk', 'gsi2pk', 'gsi3pk', 'gsi4pk'];

const tableArn = (name: string) => (name.startsWith('arn:') ? name : `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`);
const queueArn = (url: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${url.split('/').pop()}`;
const busArn = (name: string | undefined) =>
  name?.startsWith('arn:') ? name : `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${name ?? 'default'}`;
const scheduleArn = (group: string | undefined, name: string) => `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${group ?? 'default'}/${name}`;

function leadingKey(item: Item | undefined): string[] {
  for (const name of PARTITION_KEYS) if (item?.[name]?.S !== undefined) return [item[name]!.S!];
  return [];
}

/** The partition-key value of a Query: the value compared with `=` to the partition key in KeyConditionExpression. */
function queryLeadingKey(input: Record<string, any>): string[] {
  const names: Record<string, string> = input.ExpressionAttributeNames ?? {};
  const values: Record<string, AttributeValue> = input.ExpressionAttributeValues ?? {};
  for (const clause of String(input.KeyConditionExpression ?? '').split(/\s+AND\s+/i)) {
    const match = /^\(?\s*([#\w]+)\s*=\s*(:\w+)\s*\)?$/.exec(clause.trim());
    if (!match) continue;
    const attribute = names[match[1]!] ?? match[1]!;
    if (PARTITION_KEYS.includes(attribute)) return [values[match[2]!]!.S ?? values[match[2]!]!.N!];
  }
  throw new Error(`request-recorder: no partition key in ${input.KeyConditionExpression}`);
}

/** The IAM requests one SDK command amounts to. */
export function iamRequestsOf(service: string, command: string, input: Record<string, any>): IamRequest[] {
  const operation = command.replace(/Command$/, '');
  if (service === 'DynamoDB') {
    const action = `dynamodb:${operation}`;
    switch (operation) {
      case 'GetItem':
      case 'DeleteItem':
      case 'UpdateItem':
        return [{ action, resource: tableArn(input.TableName), context: { 'dynamodb:LeadingKeys': leadingKey(input.Key) } }];
      case 'PutItem':
        return [{ action, resource: tableArn(input.TableName), context: { 'dynamodb:LeadingKeys': leadingKey(input.Item) } }];
      case 'Query': {
        const resource = tableArn(input.TableName) + (input.IndexName ? `/index/${input.IndexName}` : '');
        return [{ action, resource, context: { 'dynamodb:LeadingKeys': queryLeadingKey(input) } }];
      }
      case 'Scan':
        return [{ action, resource: tableArn(input.TableName) + (input.IndexName ? `/index/${input.IndexName}` : '') }];
      case 'BatchWriteItem':
        return Object.entries(input.RequestItems as Record<string, { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]>).map(([table, requests]) => ({
          action,
          resource: tableArn(table),
          context: { 'dynamodb:LeadingKeys': [...new Set(requests.flatMap((r) => leadingKey(r.PutRequest?.Item ?? r.DeleteRequest?.Key)))] },
        }));
      case 'BatchGetItem':
        return Object.entries(input.RequestItems as Record<string, { Keys: Item[] }>).map(([table, request]) => ({
          action,
          resource: tableArn(table),
          context: { 'dynamodb:LeadingKeys': [...new Set(request.Keys.flatMap(leadingKey))] },
        }));
    }
  }
  if (service === 'SQS') {
    // SendMessageBatch is authorized as sqs:SendMessage (and so on for the other batch calls).
    const action = `sqs:${operation.replace(/Batch$/, '')}`;
    return [{ action, resource: queueArn(input.QueueUrl) }];
  }
  if (service === 'Scheduler') {
    const schedule = { action: `scheduler:${operation}`, resource: scheduleArn(input.GroupName, input.Name) };
    if (operation === 'CreateSchedule' || operation === 'UpdateSchedule') {
      return [schedule, { action: 'iam:PassRole', resource: input.Target.RoleArn, context: { 'iam:PassedToService': 'scheduler.amazonaws.com' } }];
    }
    return [schedule];
  }
  if (service === 'EventBridge' && operation === 'PutEvents') {
    return (input.Entries as { EventBusName?: string; Source: string; DetailType: string }[]).map((entry) => ({
      action: 'events:PutEvents',
      resource: busArn(entry.EventBusName),
      context: { 'events:source': entry.Source, 'events:detail-type': entry.DetailType },
    }));
  }
  throw new Error(`request-recorder: no IAM mapping for ${service}.${operation}`);
}

type Handler = (args: { input: Record<string, any> }) => Promise<unknown>;
interface Stackable {
  middlewareStack: { add(m: (next: Handler, context: any) => Handler, options: Record<string, unknown>): void };
}

const SERVICE_OF: Record<string, string> = {
  DynamoDBClient: 'DynamoDB',
  SQSClient: 'SQS',
  SchedulerClient: 'Scheduler',
  EventBridgeClient: 'EventBridge',
};

/** Collects requests; `record(client, principal)` instruments one client for one principal. */
export class RequestRecorder {
  readonly requests: RecordedRequest[] = [];

  record<C extends Stackable>(client: C, principal: string, answer?: (command: string, input: Record<string, any>) => unknown): C {
    client.middlewareStack.add(
      (next, context: { clientName: string; commandName: string }) => async (args) => {
        const service = SERVICE_OF[context.clientName];
        if (!service) throw new Error(`request-recorder: unknown client ${context.clientName}`);
        for (const request of iamRequestsOf(service, context.commandName, args.input)) {
          this.requests.push({ ...request, principal, command: `${service}.${context.commandName.replace(/Command$/, '')}` });
        }
        if (answer) return { output: { $metadata: {}, ...(answer(context.commandName, args.input) as object) }, response: {} };
        return next(args);
      },
      { step: 'initialize', name: `request-recorder-${principal}`, priority: 'high', override: true },
    );
    return client;
  }

  /** Requests of one principal, from index `from` on. */
  of(principal: string, from = 0): RecordedRequest[] {
    return this.requests.slice(from).filter((r) => r.principal === principal);
  }
}

/** A named AWS error, as the SDK throws it. */
function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: {} });
}

/** EventBridge Scheduler in memory: CreateSchedule (ConflictException on a duplicate) and DeleteSchedule (ResourceNotFoundException). */
export class FakeScheduler {
  /** Live schedules by `group/name`, with their target input. */
  readonly schedules = new Map<string, { expression: string; input: string }>();

  client(recorder: RequestRecorder, principal: string): SchedulerClient {
    return recorder.record(new SchedulerClient({ region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }), principal, (command, input) => {
      const id = `${input.GroupName ?? 'default'}/${input.Name}`;
      if (command === 'CreateScheduleCommand') {
        if (this.schedules.has(id)) throw awsError('ConflictException', `schedule ${id} exists`);
        this.schedules.set(id, { expression: input.ScheduleExpression, input: input.Target.Input });
        return { ScheduleArn: scheduleArn(input.GroupName, input.Name) };
      }
      if (command === 'DeleteScheduleCommand') {
        if (!this.schedules.delete(id)) throw awsError('ResourceNotFoundException', `no schedule ${id}`);
        return {};
      }
      throw new Error(`FakeScheduler: ${command} is not faked`);
    });
  }
}

/** An EventBridge client whose PutEvents succeeds without a network; `onPut` sees each entry. */
export function fakeEventBridge(recorder: RequestRecorder, principal: string, onPut: (entry: { Source: string; DetailType: string; Detail: string }) => void): EventBridgeClient {
  return recorder.record(new EventBridgeClient({ region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }), principal, (command, input) => {
    if (command !== 'PutEventsCommand') throw new Error(`fakeEventBridge: ${command} is not faked`);
    for (const entry of input.Entries) onPut(entry);
    return { FailedEntryCount: 0, Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `event-${i}` })) };
  });
}
