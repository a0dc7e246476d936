/**
 * Request counting for cost measurement: one middleware on each AWS SDK client, counting every command
 * sent as `Service.Operation` (`DynamoDB.PutItem`, `SQS.SendMessage`, ...).
 */
import type { RequestCounter } from '../../ports.ts';

/** The fields of the SDK's handler execution context this reads (structural, to avoid a @smithy/types dependency). */
export interface CommandContext {
  clientName?: string;
  commandName?: string;
}

type Handler = (args: any) => Promise<any>;

export { InMemoryRequestCounter } from '../shared/in-memory-counter.ts';

/** SDK client class names (minus `Client`) whose service name differs from the short one we report. */
const SERVICE_NAMES: Record<string, string> = {
  DynamoDB: 'DynamoDB',
  SQS: 'SQS',
  Scheduler: 'Scheduler',
  EventBridge: 'EventBridge',
};

/** Name of the counting middleware; adding it again replaces it, so a client is never counted twice. */
export const REQUEST_COUNTER_MIDDLEWARE = 'durableTasksRequestCounter';

/** `Service.Operation` for an SDK handler context (`DynamoDBClient` + `PutItemCommand` → `DynamoDB.PutItem`). */
export function operationName(context: CommandContext): string {
  const client = (context.clientName ?? 'Unknown').replace(/Client$/, '');
  const command = (context.commandName ?? 'Unknown').replace(/Command$/, '');
  return `${SERVICE_NAMES[client] ?? client}.${command}`;
}

/** The part of an AWS SDK v3 client this needs (every generated client has it). */
export interface InstrumentableClient {
  middlewareStack: {
    add(
      middleware: (next: Handler, context: any) => Handler,
      options: { step: 'initialize'; name: string; override: boolean; priority?: 'high' | 'normal' | 'low' },
    ): void;
  };
}

/**
 * Adds a middleware to `client` that counts every command sent through it, successful or not, once per
 * `send` (SDK retries of the same command are not counted again). Idempotent per client: calling it again
 * replaces the previous counter.
 *
 * @returns the same client, for chaining.
 * @example
 * const sqs = countRequests(new SQSClient({}), counter);
 */
export function countRequests<C extends InstrumentableClient>(client: C, counter: RequestCounter): C {
  client.middlewareStack.add(
    (next: Handler, context: CommandContext): Handler =>
      async (args) => {
        counter.count(operationName(context));
        return next(args);
      },
    { step: 'initialize', name: REQUEST_COUNTER_MIDDLEWARE, override: true, priority: 'high' },
  );
  return client;
}
