import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { InMemoryRequestCounter, countRequests, operationName } from '../../sdk/adapters/aws/request-counter.ts';

/**
 * An HTTP handler that answers every request without a network: the whole SDK middleware stack runs
 * (serialisation, signing, deserialisation), so the counter sees exactly what it would in production.
 */
function fakeHttp(status = 200, body = '{}', headers: Record<string, string> = {}) {
  let requests = 0;
  return {
    get requests() {
      return requests;
    },
    handler: {
      async handle() {
        requests++;
        return { response: { statusCode: status, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(body) } };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs: () => ({}),
    },
  };
}

const config = (handler: unknown) => ({
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  requestHandler: handler as never,
  maxAttempts: 1,
});

describe('operationName', () => {
  test('strips Client and Command and maps to the short service name', () => {
    expect(operationName({ clientName: 'DynamoDBClient', commandName: 'PutItemCommand' })).toBe('DynamoDB.PutItem');
    expect(operationName({ clientName: 'SQSClient', commandName: 'SendMessageCommand' })).toBe('SQS.SendMessage');
    expect(operationName({ clientName: 'SchedulerClient', commandName: 'CreateScheduleCommand' })).toBe('Scheduler.CreateSchedule');
    expect(operationName({ clientName: 'EventBridgeClient', commandName: 'PutEventsCommand' })).toBe('EventBridge.PutEvents');
    expect(operationName({})).toBe('Unknown.Unknown');
  });
});

describe('countRequests', () => {
  test('counts every command sent through each instrumented client, by Service.Operation', async () => {
    const counter = new InMemoryRequestCounter();
    const http = fakeHttp();
    const dynamo = countRequests(new DynamoDBClient(config(http.handler)), counter);
    // SQS checks the MD5 of the body it sent against the response's.
    const sqsHttp = fakeHttp(200, JSON.stringify({ MessageId: 'm', MD5OfMessageBody: createHash('md5').update('{}').digest('hex') }));
    const sqs = countRequests(new SQSClient(config(sqsHttp.handler)), counter);
    const scheduler = countRequests(new SchedulerClient(config(http.handler)), counter);
    const events = countRequests(new EventBridgeClient(config(http.handler)), counter);

    await dynamo.send(new PutItemCommand({ TableName: 'table', Item: { pk: { S: 'a' } } }));
    await dynamo.send(new PutItemCommand({ TableName: 'table', Item: { pk: { S: 'b' } } }));
    await dynamo.send(new GetItemCommand({ TableName: 'table', Key: { pk: { S: 'a' } } }));
    await sqs.send(new SendMessageCommand({ QueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', MessageBody: '{}' }));
    await scheduler.send(
      new CreateScheduleCommand({ Name: 'n', ScheduleExpression: 'at(2030-01-01T00:00:00)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: 'a', RoleArn: 'r' } }),
    );
    await events.send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: '{}' }] }));

    expect(http.requests + sqsHttp.requests).toBe(6);
    expect(counter.snapshot()).toEqual({
      'DynamoDB.PutItem': 2,
      'DynamoDB.GetItem': 1,
      'SQS.SendMessage': 1,
      'Scheduler.CreateSchedule': 1,
      'EventBridge.PutEvents': 1,
    });
  });

  test('counts failed requests too', async () => {
    const counter = new InMemoryRequestCounter();
    const http = fakeHttp(400, JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'no' }));
    const dynamo = countRequests(new DynamoDBClient(config(http.handler)), counter);
    await expect(dynamo.send(new PutItemCommand({ TableName: 'table', Item: { pk: { S: 'a' } } }))).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
    expect(counter.snapshot()).toEqual({ 'DynamoDB.PutItem': 1 });
  });

  test('instrumenting a client twice counts each request once (the last counter wins)', async () => {
    const first = new InMemoryRequestCounter();
    const second = new InMemoryRequestCounter();
    const http = fakeHttp();
    const dynamo = countRequests(countRequests(new DynamoDBClient(config(http.handler)), first), first);
    await dynamo.send(new GetItemCommand({ TableName: 'table', Key: { pk: { S: 'a' } } }));
    countRequests(dynamo, second);
    await dynamo.send(new GetItemCommand({ TableName: 'table', Key: { pk: { S: 'a' } } }));
    expect(first.snapshot()).toEqual({ 'DynamoDB.GetItem': 1 });
    expect(second.snapshot()).toEqual({ 'DynamoDB.GetItem': 1 });
  });

  test('snapshot is a copy; reset clears', () => {
    const counter = new InMemoryRequestCounter();
    counter.count('SQS.SendMessage');
    const snapshot = counter.snapshot();
    counter.count('SQS.SendMessage');
    expect(snapshot).toEqual({ 'SQS.SendMessage': 1 });
    counter.reset();
    expect(counter.snapshot()).toEqual({});
  });
});
