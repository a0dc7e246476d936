/**
 * The CLI's `--aws` mode: the commands call a `Durable` client directly (`Durable.fromEnv()`), no server.
 */
import type { Durable } from '../../sdk/index.ts';
import { createCron, describeCrons, type CreateCronRequest, type CronJson } from './crons.ts';
import { ApiError, isTerminalStatus, type DurableApi, type ListQuery, type PushOptions, type RunDetailsJson, type RunHistory, type RunSummary } from './types.ts';

export class DirectApi implements DurableApi {
  constructor(
    private readonly client: Promise<Durable>,
    readonly target: string,
    private readonly pollMs = 1000,
  ) {}

  async listRuns(query: ListQuery): Promise<RunSummary[] & { cursor?: string }> {
    return (await this.client).runs.list(query);
  }

  async getRun(runId: string): Promise<RunDetailsJson> {
    return toJson(await (await this.client).runs.get(runId));
  }

  async cancelRun(runId: string): Promise<RunDetailsJson> {
    await (await this.client).runs.cancel(runId);
    return this.getRun(runId);
  }

  async forkRun(runId: string, fromStep: string, idempotencyKey?: string): Promise<{ runId: string; forkedFrom: string }> {
    const ref = await (await this.client).runs.fork(runId, { fromStep, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) });
    return { runId: ref.runId, forkedFrom: runId };
  }

  async exportRun(runId: string): Promise<RunHistory> {
    return (await this.client).runs.export(runId);
  }

  async listCrons(): Promise<CronJson[]> {
    return describeCrons(await this.client);
  }

  async createCron(request: CreateCronRequest): Promise<CronJson> {
    return createCron(await this.client, request);
  }

  async deleteCron(name: string): Promise<void> {
    await (await this.client).crons.delete(name);
  }

  async push(key: string, payload: unknown, options: PushOptions): Promise<{ eventId: string }> {
    return (await this.client).events.push(key, payload, options);
  }

  async start(name: string): Promise<{ runId: string }> {
    // Starting a run by name needs its definition (the code): the AWS client here has none.
    throw new ApiError(
      'UnsupportedError',
      `cannot start '${name}' with --aws: starting a run needs the task's definition. Start it from code (task.runNoWait), ` +
        'with an event its workflow listens to (durable push --aws), or against a dev server',
    );
  }

  async follow(runId: string, onUpdate: (run: RunDetailsJson) => void, signal?: AbortSignal): Promise<RunDetailsJson> {
    let last = '';
    for (;;) {
      signal?.throwIfAborted();
      const run = await this.getRun(runId);
      const text = JSON.stringify(run);
      if (text !== last) {
        last = text;
        onUpdate(run);
      }
      if (isTerminalStatus(run.status)) return run;
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  async close(): Promise<void> {
    await (await this.client.catch(() => undefined))?.close();
  }
}

function toJson(details: Awaited<ReturnType<Durable['runs']['get']>>): RunDetailsJson {
  return JSON.parse(JSON.stringify(details)) as RunDetailsJson;
}
