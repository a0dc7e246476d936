/**
 * The worker users get from `durable.worker(name, options)`: the core worker (sdk/core/worker.ts: processing run
 * ids, long-polling with `start()`) plus the AWS Lambda entry points of a deployment (handlers.ts).
 *
 * Why a subclass built here rather than Lambda methods on the core worker: the dependency points inward. The core
 * worker knows no SQS event, Lambda context or batch response, and imports nothing from the AWS side, not even
 * lazily; the composition root (sdk/durable.ts, which already picks the AWS or local backend) creates this class, and
 * the package exports it as `Worker`. Nothing here loads the AWS SDK: the EventBridge parser is imported on first use.
 */
import type { Engine } from '../../../core/engine.ts';
import { Worker, type WorkerOptions } from '../../../core/worker.ts';
import type { SqsBatchResponse, SqsEvent } from './batch.ts';
import { cronReconcileRequest, eventRouterHandler, sqsHandler, sweeperHandler, type RouterResult } from './handlers.ts';

export interface LambdaWorkerOptions extends WorkerOptions {
  /**
   * In a Lambda handler: how long before the invocation's deadline (`context.getRemainingTimeInMillis()`) the
   * worker stops. It then starts no more runs (they are reported as batch item failures, so SQS redelivers them),
   * and a run still in flight is abandoned: `ctx.signal` aborts, its lease is released, its record reported failed.
   * @default 5 s, but never more than a quarter of the time the invocation has when it starts
   */
  deadlineMarginMs?: number;
  /**
   * Runs an event's router invocation resumes itself, instead of dispatching them (see `eventRouterHandler`);
   * 0 dispatches every woken run. @default 1
   */
  routerResumes?: number;
}

export class LambdaWorker extends Worker {
  private readonly lambda: Pick<LambdaWorkerOptions, 'deadlineMarginMs' | 'routerResumes'>;
  /** Declared crons: on Lambda, a reconcile is requested once per sweeper container (retried until sent). */
  private readonly requestCronReconcile: () => Promise<void>;

  /** Not for users: `durable.worker(name, options)` creates workers. */
  constructor(name: string, engine: Engine, options: LambdaWorkerOptions) {
    super(name, engine, options);
    this.lambda = options;
    this.requestCronReconcile = cronReconcileRequest(engine);
  }

  /**
   * The SQS-triggered Lambda handler. Reports partial batch failures: a record whose processing threw is
   * retried by SQS (and lands in the DLQ after maxReceiveCount); a malformed record is logged and reported
   * as failed so it reaches the DLQ for inspection; the rest of the batch always proceeds. At most `slots`
   * records are processed at once. Given the Lambda context, it keeps `deadlineMarginMs` before the deadline:
   * records not started by then are reported failed (SQS redelivers them), and runs still in flight are abandoned
   * with their leases released (reported failed too).
   */
  lambdaHandler(): (event: SqsEvent, context?: unknown) => Promise<SqsBatchResponse> {
    return sqsHandler(this, this.lambda.deadlineMarginMs);
  }

  /**
   * The EventBridge rule target: routes one pushed event. A malformed event throws a DurableError naming the
   * field. The first `routerResumes` runs the event wakes (and that this worker has the definitions of) are
   * resumed right here instead of through the queue: no SQS round trip and no second invocation for the
   * common one-event-one-wait case. If resuming one fails it is dispatched after all; if this invocation dies
   * first, the sweeper finds the woken run.
   */
  eventRouterHandler(): (event: unknown, context?: unknown) => Promise<RouterResult> {
    return eventRouterHandler(this, this.lambda.routerResumes ?? 1, this.lambda.deadlineMarginMs);
  }

  /** The one-minute schedule target: re-dispatches stranded runs. */
  sweeperHandler(): () => Promise<{ redispatched: number }> {
    return sweeperHandler(this.engine, this.requestCronReconcile);
  }
}
