/**
 * The simulated AWS edge: a middleware on real SDK clients, placed inside the SDK's retry loop (step
 * `finalizeRequest`, after `retryMiddleware`), so every attempt of every request first waits a latency drawn from
 * latency.ts, then takes capacity from token buckets sized by quotas.ts and, when a bucket is empty, fails with
 * AWS's error code (ProvisionedThroughputExceededException, RequestLimitExceeded, ThrottlingException): the SDK's
 * standard retry strategy classes those as throttling and backs off and retries exactly as against AWS. DynamoDB
 * and SQS requests then go on to dynalite and fauxqs; EventBridge and Scheduler requests are answered here and
 * handed to the simulation (which delivers events and fires schedules).
 */
import { QUOTAS, type QuotaName } from './quotas.ts';
import { LATENCY, lognormal, rng } from './latency.ts';
import { chargesAfter, chargesBefore, type Charge } from './dynamo-charge.ts';

type Handler = (args: { input: any; request?: unknown }) => Promise<{ output: any; response: unknown }>;
export type Service = 'DynamoDB' | 'SQS' | 'EventBridge' | 'Scheduler';

/** A token bucket holding one second of its rate; debt (a negative level) is allowed for charges after the fact. */
export class TokenBucket {
  private level: number;
  private last: number;
  constructor(
    readonly rate: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.level = rate;
    this.last = now();
  }
  private refill() {
    const t = this.now();
    this.level = Math.min(this.rate, this.level + ((t - this.last) / 1000) * this.rate);
    this.last = t;
  }
  available(units: number): boolean {
    this.refill();
    return this.level >= Math.min(units, this.rate);
  }
  take(units: number): void {
    this.refill();
    this.level -= units;
  }
}

interface Client {
  middlewareStack: { add(mw: (next: Handler, context: { commandName?: string }) => Handler, options: Record<string, unknown>): void };
}

export interface EdgeOptions {
  /** Load scale: shared quotas are multiplied by it (1/500: a five-hundredth of the load against a five-hundredth of the quota). */
  scale: number;
  seed: number;
  /** Add latencies (off for the modelled per-request figures, which use the distributions directly). @default true */
  latency?: boolean;
}

export interface EdgeStats {
  /** Attempts that reached the edge (a request retried twice is 3). */
  attempts: Record<string, number>;
  /** Attempts throttled, by quota. */
  throttled: Partial<Record<QuotaName, number>>;
  /** Attempts throttled, by quota and partition (run partitions as `RUN#*`): where the hot spots are. */
  hot: Record<string, number>;
}

export class AwsEdge {
  readonly stats: EdgeStats = { attempts: {}, throttled: {}, hot: {} };
  /** Off: requests pass with no quota and no latency (a load's set-up phase). */
  enforcing = true;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly random: () => number;
  private readonly samplers = new Map<string, () => number>();

  constructor(readonly options: EdgeOptions) {
    this.random = rng(options.seed);
  }

  /** Quota per second after scaling (a run's own partition keeps the full figure). */
  limit(quota: QuotaName, shared = true): number {
    const q = QUOTAS[quota];
    return shared && q.shared ? q.perSecond * this.options.scale : q.perSecond;
  }

  bucket(quota: QuotaName, scope: string, shared = true): TokenBucket {
    const key = `${quota}|${scope}`;
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = new TokenBucket(this.limit(quota, shared))));
    return b;
  }

  /** A latency sample (ms) for `kind`. */
  latency(kind: keyof typeof LATENCY): number {
    let s = this.samplers.get(kind);
    if (!s) this.samplers.set(kind, (s = lognormal(LATENCY[kind], this.random)));
    return s();
  }

  async delay(kind: keyof typeof LATENCY): Promise<void> {
    if (this.options.latency === false || !this.enforcing) return;
    await new Promise((resolve) => setTimeout(resolve, this.latency(kind)));
  }

  /** Takes every charge or none; the quota whose bucket is short when one is. */
  tryTake(charges: { quota: QuotaName; scope: string; units: number; shared: boolean }[]): QuotaName | undefined {
    for (const c of charges) if (!this.bucket(c.quota, c.scope, c.shared).available(c.units)) return c.quota;
    for (const c of charges) this.bucket(c.quota, c.scope, c.shared).take(c.units);
    return undefined;
  }

  throttle(quota: QuotaName, service: string, operation: string): Error {
    this.stats.throttled[quota] = (this.stats.throttled[quota] ?? 0) + 1;
    const code = QUOTAS[quota].errorCode;
    return Object.assign(new Error(`${code}: simulated ${service} ${operation} over ${quota} (${this.limit(quota)}/s)`), {
      name: code,
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
  }

  /** With SIM_TRACE set, every attempt (time, request, outcome): settle() prints those of a run left unfinished. */
  readonly trace: { t: number; name: string; input: string; outcome: string }[] = [];

  /**
   * Instruments `client`. `answer`, for services with no emulator, returns the response of an attempt that got
   * through (and hands the request to the simulation).
   */
  instrument<C extends Client>(client: C, service: Service, answer?: (operation: string, input: any) => unknown): C {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = (context.commandName ?? '').replace(/Command$/, '');
        const name = `${service}.${operation}`;
        const traced = process.env.SIM_TRACE ? { t: Date.now(), name, input: JSON.stringify(args.input), outcome: '' } : undefined;
        if (traced) this.trace.push(traced);
        this.stats.attempts[name] = (this.stats.attempts[name] ?? 0) + 1;
        if (this.enforcing) {
          await this.delay(service);
          const charges = this.charges(service, operation, args.input);
          const denied = this.tryTake(charges);
          if (denied) {
            const scope = charges.find((c) => c.quota === denied && !this.bucket(c.quota, c.scope, c.shared).available(c.units))?.scope ?? '?';
            const where = `${denied} ${scope.replace(/RUN#.*/, 'RUN#*').replace(/^(EVTSEQ#|WAITKEY#|EVT#)/, '$1')}`;
            this.stats.hot[where] = (this.stats.hot[where] ?? 0) + 1;
            if (traced) traced.outcome = 'THROTTLED';
            throw this.throttle(denied, service, operation);
          }
        }
        let result;
        try {
          result = answer ? { output: { $metadata: { httpStatusCode: 200 }, ...(answer(operation, args.input) as object) }, response: {} } : await next(args);
        } catch (error) {
          if (traced) traced.outcome = `ERROR ${(error as Error).name}`;
          throw error;
        }
        if (traced) traced.outcome = `ok ${JSON.stringify(result.output).slice(0, 400)}`;
        if (answer) return result;
        if (service === 'DynamoDB' && this.enforcing) for (const c of chargesAfter(operation, args.input, result.output)) this.bucket(dynamoQuota(c), c.scope, !c.private).take(c.units);
        return result;
      },
      { step: 'finalizeRequest', name: 'simulatedAwsEdge', priority: 'low', override: true },
    );
    return client;
  }

  private charges(service: Service, operation: string, input: any): { quota: QuotaName; scope: string; units: number; shared: boolean }[] {
    switch (service) {
      case 'DynamoDB':
        return chargesBefore(operation, input).map((c) => ({ quota: dynamoQuota(c), scope: c.scope, units: c.units, shared: !c.private }));
      case 'SQS':
        return [{ quota: 'sqsStandard', scope: 'queue', units: 1, shared: true }];
      case 'EventBridge':
        return operation === 'PutEvents' ? [{ quota: 'eventBridgePutEvents', scope: 'region', units: 1, shared: true }] : [];
      case 'Scheduler':
        return operation === 'CreateSchedule' ? [{ quota: 'schedulerCreate', scope: 'region', units: 1, shared: true }] : [];
    }
  }
}

function dynamoQuota(c: Charge): QuotaName {
  if (c.scope === 'table') return c.kind === 'write' ? 'dynamoTableWrite' : 'dynamoTableRead';
  return c.kind === 'write' ? 'dynamoPartitionWrite' : 'dynamoPartitionRead';
}

/** A counting semaphore: Lambda's concurrency limit on handler invocations. */
export class Concurrency {
  private active = 0;
  peak = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(readonly limit: number) {}
  get inUse(): number {
    return this.active;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    while (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
  /** Whether an invocation could start now (an event source mapping polls only then). */
  free(): boolean {
    return this.active < this.limit;
  }
}
