/**
 * What a message of the dispatch queue asks for. Four kinds share the queue: a run to replay (`{"runId"}`), the
 * sweeper's request to reconcile the declared crons (a dispatch of RECONCILE_CRONS_RUN_ID), the rest of an event's
 * routing handed on by a router near its deadline, and a cron schedule's tick. Both readers of the queue, the
 * polling worker (worker.ts) and the Lambda SQS handler (adapters/aws/lambda/handlers.ts), classify here, so they
 * cannot disagree on a body; what each does with a malformed one differs (dropped when polled, sent towards the DLQ
 * on Lambda).
 */
import type { RouteContinuation } from '../ports.ts';
import { parseContinuationBody, parseDispatchBody } from './dispatch-message.ts';
import { parseCronTickBody, RECONCILE_CRONS_RUN_ID, type CronTick } from './cron/tick-message.ts';

export type QueueMessage =
  | { type: 'run'; runId: string }
  | { type: 'reconcile-crons' }
  | { type: 'continuation'; continuation: RouteContinuation }
  | { type: 'cron-tick'; tick: CronTick }
  | { type: 'malformed' };

/**
 * Classifies a message body. `runId` is the dispatch message a queue adapter already parsed from it, if any.
 *
 * @example
 * classifyQueueMessage('{"runId":"r-1"}');                               // { type: 'run', runId: 'r-1' }
 * classifyQueueMessage('{"cron":"nightly","tick":"2030-01-01T03:00:00Z"}'); // { type: 'cron-tick', tick: { cron: 'nightly', tick: 1893466800000 } }
 * classifyQueueMessage('hello');                                          // { type: 'malformed' }
 */
export function classifyQueueMessage(body: unknown, runId: string | undefined = parseDispatchBody(body)?.runId): QueueMessage {
  if (runId) return runId === RECONCILE_CRONS_RUN_ID ? { type: 'reconcile-crons' } : { type: 'run', runId };
  const continuation = parseContinuationBody(body);
  if (continuation) return { type: 'continuation', continuation };
  const tick = parseCronTickBody(body);
  if (tick) return { type: 'cron-tick', tick };
  return { type: 'malformed' };
}
