/**
 * Workers take "replay this run" messages and process them: as an SQS-triggered Lambda handler, or by
 * long-polling the queue from any process. They also serve the event router and the sweeper on AWS.
 */
import type { DispatchMessage, DurableEvent, RouteContinuation } from '../ports.ts';
import type { RouteOptions } from './router.ts';
import type { Definition } from './registry.ts';
import type { Engine } from './engine.ts';
import type { ProcessResult } from './executor.ts';
import { parseContinuationBody, parseDispatchBody } from './dispatch-message.ts';
import { fireCronTick, reconcileCrons } from './cron/service.ts';
import { parseCronTickBody, RECONCILE_CRONS_RUN_ID } from './cron/tick-message.ts';
import { inProcessCronScheduler, startInProcessCrons, stopInProcessCrons } from './cron/in-process-scheduler.ts';
import { lambdaDeadline, routerBudget } from './lambda-deadline.ts';

export interface WorkerOptions {
  /** The tasks and workflows this worker executes. */
  workflows: readonly Definition[];
  /** Runs processed at once (all kinds). @default 100 */
  slots?: number;
  /** Durable runs processed at once (SQS event source maxConcurrency on AWS). @default slots */
  durableSlots?: number;
  /**
   * In a Lambda handler: how long before the invocation's deadline (`context.getRemainingTimeInMillis()`) the
   * worker stops. It then starts no more runs (they are reported as batch item failures, so SQS redelivers them),
   * and a run still in flight is abandoned: `ctx.signal` aborts, its lease is released, its record reported failed.
   * @default 5 s, but never more than a quarter of the time the invocation has when it starts
   */
  deadlineMarginMs?: number;
  /** How often `start()` sweeps for stranded runs. @default 60 s */
  sweepIntervalMs?: number;
  /**
   * Runs an event's router invocation resumes itself, instead of dispatching them (see `eventRouterHandler`);
   * 0 dispatches every woken run. @default 1
   */
  routerResumes?: number;
  /** @internal the embedded worker executes every definition of its client */
  allDefinitions?: boolean;
  /** @internal the embedded worker also takes messages dispatched in this process (Dispatcher.deliverInProcess) */
  inProcessDelivery?: boolean;
  /** @internal start with `recover()` instead of a sweep (single-process local mode after a restart) */
  recoverOnStart?: boolean;
  /** @internal the embedded worker does not keep the process alive while idle; a started worker does until `stop()` */
  idleKeepsProcess?: boolean;
}

/** A minimal SQS Lambda event (aws-lambda's SQSEvent shape). */
export interface SqsEvent {
  Records: { messageId: string; body: string }[];
}
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export class Worker {
  private readonly allowed: ReadonlySet<string> | undefined;
  private readonly slots: number;
  private polling: AbortController | undefined;
  private loops: Promise<void>[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;
  private readonly active = new Set<Promise<unknown>>();
  private detach: (() => void) | undefined;
  /** Declared crons: reconciled at `start()`; on Lambda, requested once per sweeper container (retried until sent). */
  private cronsReconciled: Promise<unknown> | undefined;
  private ownsCrons = false;
  private releaseProcess: (() => void) | undefined;

  /** Not for users: `durable.worker(name, options)` creates workers. */
  constructor(
    readonly name: string,
    private readonly engine: Engine,
    private readonly options: WorkerOptions,
    private readonly parseEvent: (event: unknown) => Promise<DurableEvent>,
  ) {
    this.allowed = options.allDefinitions ? undefined : new Set(options.workflows.map((d) => d.name));
    this.slots = Math.max(1, options.durableSlots ?? options.slots ?? 100);
  }

  /** Processes one run id; errors propagate (the caller decides about retries). Aborting `signal` abandons it. */
  process(runId: string, signal?: AbortSignal): Promise<ProcessResult> {
    return this.engine.process(runId, this.allowed, signal);
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
    return async (event, context) => {
      const deadline = lambdaDeadline(context, this.options.deadlineMarginMs);
      const failures: { itemIdentifier: string }[] = [];
      const records = Array.isArray(event?.Records) ? event.Records : [];
      const running = new Set<Promise<void>>();
      const stopped = new Promise<void>((resolve) => deadline.signal.addEventListener('abort', () => resolve(), { once: true }));
      const handle = async (record: SqsEvent['Records'][number]) => {
        const continuation = parseContinuationBody(record?.body);
        if (continuation) {
          // The rest of an event's routing, handed on by a router near its deadline: go on within this one's.
          try {
            await this.continueRoute(continuation, context);
          } catch (error) {
            console.error(JSON.stringify({ level: 'error', message: 'routing continuation failed; SQS will retry it', eventId: continuation.event.eventId, error: String((error as Error)?.message ?? error) }));
            failures.push({ itemIdentifier: record.messageId });
          }
          return;
        }
        const tick = parseCronTickBody(record?.body);
        if (tick) {
          // A cron schedule's message: start the tick's one run (a failure is retried by SQS like any other).
          await fireCronTick(this.engine, tick).catch((error) => {
            console.error(JSON.stringify({ level: 'error', message: 'cron tick failed; SQS will retry it', cron: tick.cron, error: String((error as Error)?.message ?? error) }));
            failures.push({ itemIdentifier: record.messageId });
          });
          return;
        }
        const message = parseDispatchBody(record?.body);
        if (!message) {
          console.error(JSON.stringify({ level: 'error', message: 'malformed dispatch message; sending to the DLQ', messageId: record?.messageId, body: String(record?.body).slice(0, 500) }));
          failures.push({ itemIdentifier: record?.messageId });
          return;
        }
        if (message.runId === RECONCILE_CRONS_RUN_ID) {
          // The sweeper asks (after a deploy): reconcile with this worker's declarations; a failure is retried by SQS.
          await this.reconcileNow().catch(() => failures.push({ itemIdentifier: record.messageId }));
          return;
        }
        try {
          await this.process(message.runId, deadline.signal);
        } catch (error) {
          console.error(JSON.stringify({ level: 'error', message: 'dispatch failed; SQS will retry it', runId: message.runId, error: String((error as Error)?.message ?? error) }));
          failures.push({ itemIdentifier: record.messageId });
        }
      };
      try {
        for (const record of records) {
          while (running.size >= this.slots && !deadline.signal.aborted) await Promise.race([...running, stopped]);
          if (deadline.signal.aborted) {
            // Not started: SQS redelivers it to an invocation with time to spare.
            failures.push({ itemIdentifier: record?.messageId });
            continue;
          }
          const job: Promise<void> = handle(record).finally(() => running.delete(job));
          running.add(job);
        }
        await Promise.all(running);
      } finally {
        deadline.dispose();
      }
      return { batchItemFailures: failures };
    };
  }

  /**
   * The EventBridge rule target: routes one pushed event. A malformed event throws a DurableError naming the
   * field. The first `routerResumes` runs the event wakes (and that this worker has the definitions of) are
   * resumed right here instead of through the queue: no SQS round trip and no second invocation for the
   * common one-event-one-wait case. If resuming one fails it is dispatched after all; if this invocation dies
   * first, the sweeper finds the woken run.
   */
  eventRouterHandler(): (event: unknown, context?: unknown) => Promise<{ resolved: number; started: string[]; resumed: string[] }> {
    const limit = this.options.routerResumes ?? 1;
    return async (raw, context) => {
      const deadline = lambdaDeadline(context, this.options.deadlineMarginMs);
      const event = await this.parseEvent(raw);
      const resumed: string[] = [];
      const claim = (woken: { runId: string; name: string }) =>
        resumed.length < limit && this.engine.registry.handles(woken.name, this.allowed) && resumed.push(woken.runId) > 0;
      try {
        const result = await this.engine.route(event, { claim, ...(await this.handOff(context)) });
        for (const e of result.errors) console.error(JSON.stringify({ level: 'error', message: 'event filter failed', runId: e.runId, error: e.message }));
        return { resolved: result.resolved, started: result.started, resumed };
      } finally {
        // Claimed runs are woken but not dispatched: resume them even if routing failed later on. Near the deadline
        // a resume is abandoned (its lease released) and the run dispatched instead.
        await Promise.all(resumed.map((runId) => this.resumeOrDispatch(runId, deadline.signal)));
        deadline.dispose();
      }
    };
  }

  /**
   * Routes the rest of an event (a continuation message), handing on again if this invocation runs short too.
   * Woken runs are dispatched: this invocation has other records to process.
   */
  async continueRoute(continuation: RouteContinuation, context?: unknown): Promise<void> {
    const result = await this.engine.route(continuation.event, {
      from: {
        shard: continuation.shard,
        ...(continuation.cursor !== undefined ? { cursor: continuation.cursor } : {}),
        ...(continuation.only ? { only: true as const } : {}),
      },
      ...(await this.handOff(context)),
    });
    for (const e of result.errors) console.error(JSON.stringify({ level: 'error', message: 'event filter failed', runId: e.runId, error: e.message }));
  }

  /** The router's time budget from the Lambda context, and where it hands the rest on (the dispatch queue). */
  private async handOff(context: unknown): Promise<Pick<RouteOptions, 'outOfTime' | 'handOff'>> {
    const outOfTime = routerBudget(context, this.options.deadlineMarginMs);
    const dispatcher = (await this.engine.backend()).dispatcher;
    if (!outOfTime || !dispatcher.continueRoute) return {};
    return { outOfTime, handOff: (c) => dispatcher.continueRoute!(c) };
  }

  private async resumeOrDispatch(runId: string, signal: AbortSignal): Promise<void> {
    try {
      await this.process(runId, signal);
    } catch (error) {
      console.error(JSON.stringify({ level: 'error', message: 'resuming a woken run in the router failed; dispatching it', runId, error: String((error as Error)?.message ?? error) }));
      const backend = await this.engine.backend();
      await backend.dispatcher.dispatch({ runId });
    }
  }

  /** The one-minute schedule target: re-dispatches stranded runs. */
  sweeperHandler(): () => Promise<{ redispatched: number }> {
    return async () => {
      await this.requestCronReconcile();
      return { redispatched: await this.engine.sweep() };
    };
  }

  /** Long-polls the queue from this process (containers, local) and sweeps at start and periodically. */
  async start(): Promise<void> {
    if (this.polling) return;
    this.polling = new AbortController();
    const signal = this.polling.signal;
    // A worker the user started serves until stopped, even on a backend whose servers do not hold the process.
    if (this.options.idleKeepsProcess !== false) this.releaseProcess = this.engine.keepAlive.hold();
    const backend = await this.engine.backend();
    if (signal.aborted) return; // stopped (closed) while the backend started
    // Attached before recovery, so the runs it takes up go straight to this worker.
    if (this.options.inProcessDelivery && backend.dispatcher.deliverInProcess) {
      this.detach = () => backend.dispatcher.deliverInProcess!(undefined);
      backend.dispatcher.deliverInProcess((message) => {
        if (signal.aborted || this.active.size >= this.slots) return false;
        // A failure is retried through the queue a second later, as a polled message's visibility timeout would.
        this.track(message.runId, async () => undefined, () => backend.dispatcher.dispatch(message, { delayMs: 1000 }));
        return true;
      });
    }
    await this.reconcileNow().catch(() => undefined);
    // No EventBridge Scheduler behind this backend (`durable dev`, a local worker): this process fires the ticks.
    const fire = (cron: string, tick: number) => fireCronTick(this.engine, { cron, tick });
    const before = inProcessCronScheduler(this.engine);
    this.ownsCrons = !before && startInProcessCrons(this.engine, backend, fire, (work) => this.trackWork(() => work, async () => undefined, async () => undefined)) !== undefined;
    if (this.options.recoverOnStart) {
      await this.engine.recover().catch((error) => console.error(JSON.stringify({ level: 'error', message: 'recovery after restart failed', error: String(error) })));
    } else {
      await this.engine.sweep().catch(() => 0);
    }
    if (signal.aborted) return;
    const loop = async () => {
      while (!signal.aborted) {
        const free = this.slots - this.active.size;
        if (free <= 0) {
          await Promise.race(this.active);
          continue;
        }
        let messages;
        try {
          messages = await backend.dispatcher.receive(Math.min(10, free), 1000, signal);
        } catch (error) {
          if (signal.aborted) break;
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        for (const received of messages) {
          const continuation = received.message ? undefined : parseContinuationBody(received.body);
          if (continuation) {
            // Handed on by a router on Lambda: routed here in full (no deadline), then acknowledged.
            this.trackWork(() => this.continueRoute(continuation), () => received.ack(), () => received.retry(1000));
            continue;
          }
          if (received.message?.runId === RECONCILE_CRONS_RUN_ID) {
            this.trackWork(() => this.reconcileNow(), () => received.ack(), () => received.retry(1000));
            continue;
          }
          const tick = received.message ? undefined : parseCronTickBody(received.body);
          if (tick) {
            this.trackWork(() => fireCronTick(this.engine, tick), () => received.ack(), () => received.retry(1000));
            continue;
          }
          if (!received.message) {
            console.error(JSON.stringify({ level: 'error', message: 'malformed dispatch message dropped', body: received.body.slice(0, 500) }));
            await received.ack().catch(() => undefined);
            continue;
          }
          this.track(received.message.runId, () => received.ack(), () => received.retry(1000));
        }
      }
    };
    this.loops = [loop()];
    const every = this.options.sweepIntervalMs ?? 60_000;
    // One sweep at a time, and `stop()` waits for the one in flight (a sweep racing `close()` hit a closed store).
    this.sweepTimer = setInterval(() => {
      this.sweeping ??= this.engine
        .sweep()
        .catch(() => 0)
        .finally(() => (this.sweeping = undefined));
    }, every);
    this.sweepTimer.unref?.();
  }

  /** Reconciles the declared crons with their schedules (a no-op on backends without EventBridge Scheduler). */
  private async reconcileNow(): Promise<void> {
    try {
      const result = await reconcileCrons(this.engine);
      if (result.put.length || result.deleted.length) console.log(JSON.stringify({ level: 'info', message: 'declared crons reconciled', ...result }));
    } catch (error) {
      console.error(JSON.stringify({ level: 'error', message: 'reconciling declared crons failed; retried', error: String((error as Error)?.message ?? error) }));
      throw error;
    }
  }

  /**
   * The sweeper's part (it may not write the table or schedules): once per container, so within a minute of a
   * deploy, it sends the worker a reconcile request. Retried on the next sweep until sent.
   */
  private async requestCronReconcile(): Promise<void> {
    this.cronsReconciled ??= (async () => {
      const backend = await this.engine.backend();
      if (backend.cronSchedules) await backend.dispatcher.dispatch({ runId: RECONCILE_CRONS_RUN_ID });
    })().catch((error) => {
      this.cronsReconciled = undefined;
      console.error(JSON.stringify({ level: 'error', message: 'requesting the cron reconcile failed; retried next sweep', error: String((error as Error)?.message ?? error) }));
    });
    await this.cronsReconciled;
  }

  /** Processes a run in a slot; then `done`, or `retry` when processing threw. */
  private track(runId: string, done: () => Promise<void>, retry: () => Promise<void>): void {
    this.trackWork(() => this.process(runId), done, retry);
  }

  private trackWork(work: () => Promise<unknown>, done: () => Promise<void>, retry: () => Promise<void>): void {
    const job = work().then(done, retry);
    const tracked = job.catch(() => undefined).finally(() => this.active.delete(tracked));
    this.active.add(tracked);
  }

  /** Stops polling and waits for in-flight work to finish. */
  async stop(): Promise<void> {
    this.detach?.();
    this.detach = undefined;
    this.polling?.abort();
    if (this.ownsCrons) stopInProcessCrons(this.engine);
    this.ownsCrons = false;
    this.releaseProcess?.();
    this.releaseProcess = undefined;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await Promise.all(this.loops);
    await Promise.allSettled([...this.active, this.sweeping]);
    this.polling = undefined;
    this.loops = [];
  }
}
