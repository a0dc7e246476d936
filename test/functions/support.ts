/**
 * A client whose runs are processed only when the test hands their messages to a worker's Lambda handler
 * (as SQS would), on memory adapters and a virtual clock; and the AWS event shapes the handlers receive.
 */
import { Durable, type Worker } from 'durable-tasks';
import { sqsRecord, eventBridgeEvent } from '../support/aws-events.ts';
export { sqsRecord, eventBridgeEvent };
import { createMemoryBackend, VirtualClock } from '../../sdk/adapters/memory/index.ts';

export function manualClient() {
  const clock = new VirtualClock();
  const backend = createMemoryBackend(clock);
  const durable = new Durable({ backend, embeddedWorker: 'none', cancelPollMs: 0, log: () => undefined });
  return {
    durable,
    backend,
    clock,
    /** Feeds every queued dispatch to `worker`'s Lambda handler, batch after batch, until the queue is empty. */
    async drain(worker: Worker) {
      const handler = worker.lambdaHandler();
      for (;;) {
        const messages = await backend.dispatcher.receive(10, 0);
        if (messages.length === 0) return;
        const response = await handler({ Records: messages.map((m) => sqsRecord(m.body)) });
        if (response.batchItemFailures.length) throw new Error(`unexpected batch failures: ${JSON.stringify(response.batchItemFailures)}`);
      }
    },
    /** Drops every queued dispatch (the test delivers by hand). */
    async discardQueue() {
      while ((await backend.dispatcher.receive(10, 0)).length > 0);
    },
    close: () => durable.close(),
  };
}

export type ManualClient = ReturnType<typeof manualClient>;
