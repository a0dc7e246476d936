/**
 * The CLI's client of the `durable dev` HTTP API (see cli/README.md). Uses Node's built-in `fetch`.
 */
import type { CreateCronRequest, CronJson } from './crons.ts';
import { ApiError, type DurableApi, type ListQuery, type PushOptions, type RunDetailsJson, type RunHistory, type RunSummary } from './types.ts';

/** The dev server's default port. */
export const DEFAULT_PORT = 8787;
export const DEFAULT_URL = `http://127.0.0.1:${DEFAULT_PORT}`;
/** Reconnections `follow` attempts, 500 ms apart. */
const FOLLOW_RETRIES = 20;

export class HttpApi implements DurableApi {
  readonly target: string;

  constructor(baseUrl: string) {
    this.target = baseUrl.replace(/\/+$/, '');
  }

  async listRuns(query: ListQuery): Promise<RunSummary[] & { cursor?: string }> {
    const params = new URLSearchParams();
    if (query.cursor) params.set('cursor', query.cursor);
    if (query.status) params.set('status', query.status);
    if (query.name) params.set('name', query.name);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.taskRuns === false) params.set('taskRuns', 'false');
    const qs = params.size ? `?${params}` : '';
    const body = (await this.request('GET', `/api/runs${qs}`)) as { runs: RunSummary[]; cursor?: string };
    if (typeof body.cursor === 'string') Object.defineProperty(body.runs, 'cursor', { value: body.cursor, enumerable: false });
    return body.runs;
  }

  async getRun(runId: string): Promise<RunDetailsJson> {
    return (await this.request('GET', `/api/runs/${encodeURIComponent(runId)}`)) as RunDetailsJson;
  }

  async cancelRun(runId: string): Promise<RunDetailsJson> {
    return (await this.request('POST', `/api/runs/${encodeURIComponent(runId)}/cancel`, {})) as RunDetailsJson;
  }

  async forkRun(runId: string, fromStep: string, idempotencyKey?: string): Promise<{ runId: string; forkedFrom: string }> {
    const body = { fromStep, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) };
    return (await this.request('POST', `/api/runs/${encodeURIComponent(runId)}/fork`, body)) as { runId: string; forkedFrom: string };
  }

  async exportRun(runId: string): Promise<RunHistory> {
    return (await this.request('GET', `/api/runs/${encodeURIComponent(runId)}/export`)) as RunHistory;
  }

  async push(key: string, payload: unknown, options: PushOptions): Promise<{ eventId: string }> {
    return (await this.request('POST', '/api/events', { key, payload, ...options })) as { eventId: string };
  }

  async start(name: string, input: unknown): Promise<{ runId: string }> {
    return (await this.request('POST', '/api/runs', { name, input })) as { runId: string };
  }

  async follow(runId: string, onUpdate: (run: RunDetailsJson) => void, signal?: AbortSignal): Promise<RunDetailsJson> {
    // A stream that drops, or a server that is briefly away (a restarted `durable dev` resumes every run), is
    // retried for a while; an answer from the server (404 for an unknown run) is final.
    let retries = 0;
    const onMessage = (run: RunDetailsJson) => {
      retries = 0;
      onUpdate(run);
    };
    for (;;) {
      try {
        const final = await this.streamOnce(runId, onMessage, signal);
        if (final) return final;
      } catch (error) {
        const final = signal?.aborted || !(error instanceof ApiError) || error.status !== undefined;
        if (final || retries >= FOLLOW_RETRIES) throw error;
      }
      if (++retries > FOLLOW_RETRIES) throw new ApiError('StreamError', `the run stream of '${runId}' kept closing before the run ended`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /** One SSE connection; resolves with the final details on `end`, or undefined if the stream dropped. */
  private async streamOnce(runId: string, onUpdate: (run: RunDetailsJson) => void, signal?: AbortSignal): Promise<RunDetailsJson | undefined> {
    const response = await this.fetch(`/api/runs/${encodeURIComponent(runId)}/stream`, { headers: { accept: 'text/event-stream' }, ...(signal ? { signal } : {}) });
    if (!response.ok) throw await toApiError(response);
    if (!response.body) return undefined;
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const message = parseSseMessage(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
        if (!message || (message.event !== 'run' && message.event !== 'end')) continue;
        const run = JSON.parse(message.data) as RunDetailsJson;
        onUpdate(run);
        if (message.event === 'end') return run;
      }
    }
    return undefined;
  }

  async listCrons(): Promise<CronJson[]> {
    return ((await this.request('GET', '/api/crons')) as { crons: CronJson[] }).crons;
  }

  async createCron(request: CreateCronRequest): Promise<CronJson> {
    return (await this.request('POST', '/api/crons', request)) as CronJson;
  }

  async deleteCron(name: string): Promise<void> {
    await this.request('POST', `/api/crons/${encodeURIComponent(name)}/delete`, {});
  }

  async close(): Promise<void> {}

  private async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const init: RequestInit = { method, headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.headers = { accept: 'application/json', 'content-type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    const response = await this.fetch(path, init);
    if (!response.ok) throw await toApiError(response);
    return response.json();
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.target}${path}`, init);
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      const code = (error as { cause?: { code?: string } }).cause?.code;
      throw new ApiError(
        'ConnectionError',
        `cannot reach a durable dev server at ${this.target}${code ? ` (${code})` : ''}: start one with \`npx durable dev\`, ` +
          'or point the CLI elsewhere with --url or DURABLE_URL (or use --aws)',
      );
    }
  }
}

/** Parses one Server-Sent Events message (the text between two blank lines). */
export function parseSseMessage(text: string): { event: string; data: string } | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length ? { event, data: data.join('\n') } : undefined;
}

async function toApiError(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { error?: { name?: string; message?: string } };
    if (parsed.error?.message) return new ApiError(parsed.error.name ?? 'Error', parsed.error.message, response.status);
  } catch {
    // not our JSON: fall through
  }
  return new ApiError('HttpError', `HTTP ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`, response.status);
}
