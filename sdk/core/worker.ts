/**
 * Workers take "replay this run" messages and process them: here, by long-polling the queue from any process
 * (`start()`), or one run id at a time (`process`). The AWS Lambda entry points (the SQS batch handler, the event
 * router, the sweeper) are built on this class by the AWS module (sdk/adapters/aws/lambda/worker.ts): the core
 * knows no Lambda event, context or batch response.
 */
import type { RouteContinuation } from '../ports.ts';
import type { RouteOptions } from './router.ts';
import type { Definition } from './registry.ts';
import type { Engine } from './engine.ts';
import type { ProcessResult } from './executor.ts';
import { classifyQueueMessage } from './queue-message.ts';
import { fireCronTick, reconcileCrons } from './cron/service.ts';
import { inProcessCronScheduler, startInProcessCrons, stopInProcessCrons } from './cron/in-process-scheduler.ts';

export interface WorkerOptions {
  /** The tasks and workflows this worker executes. */
  workflows: readonly Definition[];
  /** Runs processed at once (all kinds). @default 100 */
  slots?: number;
  /** Durable runs processed at once (SQS event source maxConcurrency on AWS). @default slots */
  durableSlots?: number;
  /** How often `start()` sweeps for stranded runs. @default 60 s */
  sweepIntervalMs?: number;
  /**
   * The largest input, output or step result (bytes) the runs this worker executes may write (above 256 KiB they go
   * to S3). Sets the client's `maxPayloadBytes`: a worker and its client share one engine. @default the client's (32 MiB)
   */
  maxPayloadBytes?: number;
  /** @internal the embedded worker executes every definition of its client */
  allDefinitions?: boolean;
  /** @internal the embedded worker also takes messages dispatched in this process (Dispatcher.deliverInProcess) */
  inProcessDelivery?: boolean;
  /** @internal start with `recover()` instead of a sweep (single-process local mode after a restart) */
  recoverOnStart?: boolean;
  /** @internal the embedded worker does not keep the process alive while idle; a started worker does until `stop()` */
  idleKeepsProcess?: boolean;
}

export class Worker {
  /** @internal the engine of the client that created this worker */
  readonly engine: Engine;
  /** @internal the definitions this worker executes (`undefined`: all of its client's) */
  readonly allowed: ReadonlySet<string> | undefined;
  /** @internal runs processed at once */
  readonly slots: number;
  private readonly options: WorkerOptions;
  private polling: AbortController | undefined;
  private loops: Promise<void>[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;
  private readonly active = new Set<Promise<unknown>>();
  private detach: (() => void) | undefined;
  private ownsCrons = false;
  private releaseProcess: (() => void) | undefined;

  /** Not for users: `durable.worker(name, options)` creates workers. */
  constructor(
    readonly name: string,
    engine: Engine,
    options: WorkerOptions,
  ) {
    this.engine = engine;
    this.options = options;
    this.allowed = options.allDefinitions ? undefined : new Set(options.workflows.map((d) => d.name));
    if (options.maxPayloadBytes !== undefined) engine.setMaxPayloadBytes(options.maxPayloadBytes);
    this.slots = Math.max(1, options.durableSlots ?? options.slots ?? 100);
  }

  /** Processes one run id; errors propagate (the caller decides about retries). Aborting `signal` abandons it. */
  process(runId: string, signal?: AbortSignal): Promise<ProcessResult> {
    return this.engine.process(runId, this.allowed, signal);
  }

  /**
   * @internal Routes the rest of an event (a continuation message). Given a time budget and where to hand on (the
   * Lambda router's), it hands on again when it runs short; without, it routes the event in full. Woken runs are
   * dispatched: the caller has other messages to process.
   */
  async continueRoute(continuation: RouteContinuation, budget: Pick<RouteOptions, 'outOfTime' | 'handOff'> = {}): Promise<void> {
    const result = await this.engine.route(continuation.event, {
      from: {
        shard: continuation.shard,
        ...(continuation.cursor !== undefined ? { cursor: continuation.cursor } : {}),
        ...(continuation.only ? { only: true as const } : {}),
      },
      ...budget,
    });
    for (const e of result.errors) console.error(JSON.stringify({ level: 'error', message: 'event filter failed', runId: e.runId, error: e.message }));
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
          const message = classifyQueueMessage(received.body, received.message?.runId);
          const ack = () => received.ack();
          const retry = () => received.retry(1000);
          switch (message.type) {
            case 'run':
              this.track(message.runId, ack, retry);
              break;
            case 'reconcile-crons':
              this.trackWork(() => this.reconcileNow(), ack, retry);
              break;
            case 'continuation':
              // Handed on by a router on Lambda: routed here in full (no deadline), then acknowledged.
              this.trackWork(() => this.continueRoute(message.continuation), ack, retry);
              break;
            case 'cron-tick':
              this.trackWork(() => fireCronTick(this.engine, message.tick), ack, retry);
              break;
            case 'malformed':
              console.error(JSON.stringify({ level: 'error', message: 'malformed dispatch message dropped', body: received.body.slice(0, 500) }));
              await received.ack().catch(() => undefined);
          }
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

  /**
   * @internal Reconciles the declared crons with their schedules (a no-op on backends without EventBridge
   * Scheduler): at `start()`, and on AWS when the sweeper asks through the queue.
   */
  async reconcileNow(): Promise<void> {
    try {
      const result = await reconcileCrons(this.engine);
      if (result.put.length || result.deleted.length) console.log(JSON.stringify({ level: 'info', message: 'declared crons reconciled', ...result }));
    } catch (error) {
      console.error(JSON.stringify({ level: 'error', message: 'reconciling declared crons failed; retried', error: String((error as Error)?.message ?? error) }));
      throw error;
    }
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
