/** `durable dev --port / --ports`: the three ports the dev server and the embedded default listen on. */
import { describe, expect, test } from 'vitest';
import { parsePorts } from '../../cli/server/dev-environment.ts';

describe('parsePorts', () => {
  test('stable defaults: the API on the default port, DynamoDB and SQS on the next two', () => {
    expect(parsePorts(undefined, undefined, 8787)).toEqual({ api: 8787, dynamodb: 8788, sqs: 8789 });
    expect(parsePorts('9000', undefined, 8787)).toEqual({ api: 9000, dynamodb: 9001, sqs: 9002 });
  });
  test('--port 0 picks free ports for all three; --ports sets each', () => {
    expect(parsePorts('0', undefined, 8787)).toEqual({ api: 0, dynamodb: 0, sqs: 0 });
    expect(parsePorts(undefined, '4000, 4566,0', 8787)).toEqual({ api: 4000, dynamodb: 4566, sqs: 0 });
  });
  test('bad values are usage errors naming the flag', () => {
    expect(() => parsePorts('x', undefined, 8787)).toThrow(/--port must be a whole number/);
    expect(() => parsePorts('65535', undefined, 8787)).toThrow(/--port must be a whole number from 0 to 65533/);
    expect(() => parsePorts(undefined, '1,2', 8787)).toThrow(/--ports must be three port numbers/);
    expect(() => parsePorts(undefined, '5000,5000,5001', 8787)).toThrow(/three different ports/);
    expect(() => parsePorts('1', '1,2,3', 8787)).toThrow(/not both/);
  });
});
