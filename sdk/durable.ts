/**
 * The composition root: `Durable` is the core client plus the two ways to build its backend, AWS
 * (`fromEnv`) and the embedded default (`local`). Both load their adapters with a dynamic import, so a Lambda
 * bundle never carries dynalite or fauxqs and the test environment never loads the AWS SDK.
 */
import { ENV } from './adapters/aws/env.ts';
import { LambdaWorker, type LambdaWorkerOptions } from './adapters/aws/lambda/worker.ts';
import { DurableClient, type DurableOptions } from './core/client.ts';
import { assertName } from './core/definitions.ts';
import type { LocalOptions } from './local/options.ts';

export type { DurableOptions, LocalOptions };

/**
 * The durable-tasks client: define tasks and workflows, start runs, push events, inspect runs.
 *
 * @example
 * const durable = Durable.local();
 * const hello = durable.durableTask({ name: 'hello', fn: async (input: { name: string }, ctx) => {
 *   await ctx.sleepFor('1s');
 *   return { greeting: `Hello, ${input.name}` };
 * } });
 * console.log(await hello.run({ name: 'Ada' }));
 */
export class Durable extends DurableClient {
  /**
   * A worker for the given tasks and workflows: its AWS Lambda handlers (`lambdaHandler()`, `eventRouterHandler()`,
   * `sweeperHandler()`), or long-polling with `start()`. The Lambda glue is the AWS module's (adapters/aws/lambda/).
   */
  worker(name: string, options: LambdaWorkerOptions): LambdaWorker {
    assertName(name, 'a worker');
    return new LambdaWorker(name, this.engine, options);
  }

  /**
   * A client for AWS, configured from the environment variables the `DurableTasks` construct sets
   * (table, queue, bus, schedule group, scheduler role, lease, retention). Honours `AWS_ENDPOINT_URL`.
   *
   * @throws {DurableError} on first use, naming every missing variable.
   */
  static fromEnv(options: Partial<Omit<DurableOptions, 'backend'>> = {}): Durable {
    const backend = import('./adapters/aws/backend.ts').then((m) => m.createAwsBackendFromEnv());
    const fromEnv: Partial<DurableOptions> = { cancelPollMs: 1000, leaseMs: 15 * 60_000 + 30_000 };
    const leaseSeconds = Number(process.env[ENV.leaseSeconds]);
    if (leaseSeconds > 0) fromEnv.leaseMs = leaseSeconds * 1000;
    const retentionDays = Number(process.env[ENV.retentionDays]);
    if (retentionDays > 0) fromEnv.retentionDays = retentionDays;
    const maxPayloadBytes = Number(process.env[ENV.maxPayloadBytes]);
    if (maxPayloadBytes > 0) fromEnv.maxPayloadBytes = maxPayloadBytes;
    return new Durable({ ...fromEnv, ...options, backend });
  }

  /**
   * The embedded default: DynamoDB (dynalite, on disk under `dir`) and SQS (fauxqs) started in this process
   * on loopback, the same adapters as production. No AWS account needed; a restart resumes every run.
   */
  static local(options: LocalOptions = {}): Durable {
    const backend = loadLocal().then((m) => m.createLocalBackend(options));
    return new Durable({
      cancelPollMs: 0,
      leaseMs: 30_000,
      sweepQueuedAfterMs: 15_000,
      ...(options.log ? { log: options.log } : {}),
      ...(options.maxPayloadBytes !== undefined ? { maxPayloadBytes: options.maxPayloadBytes } : {}),
      backend,
      embeddedWorker: options.worker === false ? 'none' : 'poll',
      recoverOnStart: options.worker !== false,
    });
  }
}

/**
 * The embedded default's module (dynalite, fauxqs, the SQS client), imported through a specifier no bundler can
 * read: a Lambda bundle of a handler importing durable-tasks never follows it (`Durable.local` is never called
 * there). Node and tsx resolve it at run time, relative to this module (TypeScript rewrites `.ts` to `.js` in the
 * build). test/consumer/run.sh checks both on the packed package.
 */
const loadLocal = (specifier = './local/index.ts'): Promise<typeof import('./local/index.ts')> => import(specifier);
