/**
 * The `durable dev` server: a JSON API over a `Durable` client and the dashboard page, on 127.0.0.1 only.
 * The routes are listed in cli/README.md.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Durable } from '../../sdk/index.ts';
import { RUN_STATUSES, type ListQuery, type RunStatus } from '../api/types.ts';
import { decodeListCursor } from '../../sdk/core/list-cursor.ts';
import { createCron, describeCrons } from '../api/crons.ts';
import { loadDashboardPage } from './dashboard-page.ts';
import { describeDefinitions } from './definitions.ts';
import { AwsJsonError, awsJsonErrorBody, handleAwsJson, isAwsJsonRequest, sendAwsJson } from './eventbridge-api.ts';
import { HttpError, toErrorResponse } from './http-errors.ts';
import { streamRun } from './run-stream.ts';

export interface DevServerOptions {
  /** The client whose runs the server shows and starts. The server never closes it: its owner does. */
  durable: Durable;
  /** `0` picks a free port. @default 8787 */
  port?: number;
  /** How often a run stream polls the store. @default 250 */
  pollMs?: number;
  /** Where unexpected (500) errors are reported. @default console.error */
  onError?: (error: unknown) => void;
}

export interface DevServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Ends open streams and stops listening. Does not close the `Durable` client. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const DASHBOARD_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

/**
 * Starts the dev server on 127.0.0.1.
 *
 * @example
 * const env = await createTestEnvironment();
 * const server = await startDevServer({ durable: env.durable, port: 0 });
 * console.log(`dashboard: ${server.url}`);
 * await server.close();
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const { durable } = options;
  const pollMs = options.pollMs ?? 250;
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const closing = new AbortController();
  const dashboard = await loadDashboardPage();
  let port = options.port ?? 8787;

  const routes: Route[] = [
    route('GET', '/', async ({ res }) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': DASHBOARD_CSP });
      res.end(dashboard);
    }),
    route('GET', '/api/definitions', async ({ res }) => sendJson(res, 200, { definitions: describeDefinitions(durable) })),
    route('GET', '/api/runs', async ({ res, query }) => {
      const runs = await durable.runs.list(parseListQuery(query));
      sendJson(res, 200, {
        runs,
        now: new Date(durable.engine.backendIfReady?.clock.now() ?? Date.now()).toISOString(),
        ...(runs.cursor !== undefined ? { cursor: runs.cursor } : {}),
      });
    }),
    route('POST', '/api/runs', async ({ req, res }) => {
      const body = await readJsonBody(req);
      const name = requireString(body, 'name');
      const metadata = optionalObject(body, 'metadata');
      const ref = await durable.engine.start(name, body.input === undefined ? {} : body.input, metadata ? { metadata } : {});
      sendJson(res, 201, { runId: ref.runId });
    }),
    route('GET', '/api/runs/:id', async ({ res, params }) => sendJson(res, 200, await durable.runs.get(params[0]!))),
    route('POST', '/api/runs/:id/cancel', async ({ req, res, params }) => {
      await readJsonBody(req);
      await durable.runs.cancel(params[0]!);
      sendJson(res, 200, await durable.runs.get(params[0]!));
    }),
    route('POST', '/api/runs/:id/fork', async ({ req, res, params }) => {
      const body = await readJsonBody(req);
      const key = body.idempotencyKey === undefined ? {} : { idempotencyKey: body.idempotencyKey as string }; // checked by runs.fork
      const ref = await durable.runs.fork(params[0]!, { fromStep: requireString(body, 'fromStep'), ...key });
      sendJson(res, 201, { runId: ref.runId, forkedFrom: params[0]! });
    }),
    route('GET', '/api/runs/:id/export', async ({ res, params, query }) => {
      const history = await durable.runs.export(params[0]!);
      // `?download=1` (the dashboard's button): saved as a file named after the task and the run.
      if (query.get('download')) res.setHeader('content-disposition', `attachment; filename="${historyFileName(history.name, history.runId)}"`);
      sendJson(res, 200, history);
    }),
    route('GET', '/api/runs/:id/stream', async ({ res, params }) => streamRun(durable, params[0]!, res, { pollMs, signal: closing.signal })),
    route('GET', '/api/crons', async ({ res }) => sendJson(res, 200, { crons: await describeCrons(durable), now: new Date(durable.engine.backendIfReady?.clock.now() ?? Date.now()).toISOString() })),
    route('POST', '/api/crons', async ({ req, res }) => {
      const body = await readJsonBody(req);
      sendJson(res, 201, await createCron(durable, { name: requireString(body, 'name'), task: requireString(body, 'task'), expression: requireString(body, 'expression'), input: body.input }));
    }),
    route('POST', '/api/crons/:name/delete', async ({ req, res, params }) => {
      await readJsonBody(req);
      await durable.crons.delete(params[0]!);
      sendJson(res, 200, { deleted: params[0]! });
    }),
    route('POST', '/api/events', async ({ req, res }) => {
      const body = await readJsonBody(req);
      const key = requireString(body, 'key');
      const scope = body.scope === undefined || body.scope === null || body.scope === '' ? undefined : requireString(body, 'scope');
      const metadata = optionalObject(body, 'metadata');
      const result = await durable.events.push(key, body.payload === undefined ? {} : body.payload, {
        ...(scope !== undefined ? { scope } : {}),
        ...(metadata ? { metadata } : {}),
      });
      sendJson(res, 202, result);
    }),
  ];

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (isAwsJsonRequest(req.method, url.pathname, req.headers)) {
      void handleEventBridge(req, res).catch((error) => {
        const e = error instanceof AwsJsonError ? error : new AwsJsonError('InternalFailure', String((error as Error)?.message ?? error), 500);
        if (e.status >= 500) onError(error);
        if (res.headersSent) res.end();
        else sendAwsJson(res, e.status, awsJsonErrorBody(e));
      });
      return;
    }
    void handle(req, res).catch((error) => {
      const response = toErrorResponse(error);
      if (response.status >= 500) onError(error);
      if (res.headersSent) res.end();
      else sendJson(res, response.status, response.body);
    });
  });

  /** The EventBridge endpoint: `PutEvents` in AWS JSON 1.1 on `POST /` (eventbridge-api.ts). */
  async function handleEventBridge(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      checkHost(req, port);
    } catch (error) {
      throw new AwsJsonError('AccessDeniedException', (error as Error).message, 403);
    }
    let text: string;
    try {
      text = await readBody(req);
    } catch (error) {
      throw new AwsJsonError('ValidationException', (error as Error).message, error instanceof HttpError ? error.status : 400);
    }
    const result = await handleAwsJson(durable, String(req.headers['x-amz-target']), req.headers['content-type'] ?? '', text);
    sendAwsJson(res, 200, result);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    checkHost(req, port);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const segments = url.pathname.split('/').filter(Boolean);
    let pathMatched = false;
    for (const r of routes) {
      const params = match(r.segments, segments);
      if (!params) continue;
      pathMatched = true;
      if (r.method !== req.method) continue;
      if (req.method === 'POST') checkJsonContentType(req);
      return r.handler({ req, res, params, query: url.searchParams });
    }
    if (pathMatched) throw new HttpError(405, 'MethodNotAllowed', `${req.method} is not supported on ${url.pathname}`);
    throw new HttpError(404, 'NotFound', `no route ${req.method} ${url.pathname}; see GET / for the dashboard and /api/* for the API`);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        server.closeIdleConnections();
        // Streams end on `closing`; anything else still open is cut after a moment.
        setTimeout(() => server.closeAllConnections(), 200).unref();
      });
      return closed;
    },
  };
}

// ---- routing -------------------------------------------------------------------------------------------

interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Decoded values of the `:param` segments, in order. */
  params: string[];
  query: URLSearchParams;
}

interface Route {
  method: 'GET' | 'POST';
  segments: string[];
  handler: (ctx: RouteContext) => Promise<void>;
}

function route(method: Route['method'], path: string, handler: Route['handler']): Route {
  return { method, segments: path.split('/').filter(Boolean), handler };
}

function match(pattern: string[], segments: string[]): string[] | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = segments[i]!;
    if (p.startsWith(':')) {
      try {
        params.push(decodeURIComponent(s));
      } catch {
        throw new HttpError(400, 'BadRequest', `malformed percent-encoding in the path segment '${s}'`);
      }
    } else if (p !== s) return undefined;
  }
  return params;
}

// ---- request checks ------------------------------------------------------------------------------------

/** Only requests addressed to loopback: a web page cannot reach the server through a rebound DNS name. */
function checkHost(req: IncomingMessage, port: number): void {
  const host = req.headers.host;
  if (host === undefined) return;
  const allowed = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  if (!allowed.includes(host.toLowerCase())) {
    throw new HttpError(403, 'ForbiddenHost', `the dev server only answers requests addressed to 127.0.0.1:${port} or localhost:${port}, not '${host}'`);
  }
}

/** POSTs must be JSON: a browser cannot send that cross-site without a CORS preflight, which the server never grants. */
function checkJsonContentType(req: IncomingMessage): void {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(415, 'UnsupportedMediaType', `send the request body as JSON with 'content-type: application/json' (got '${type || 'none'}')`);
  }
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req);
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'BadRequest', `the request body is not valid JSON: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new HttpError(400, 'BadRequest', 'the request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** The request body as text (trimmed), at most MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'PayloadTooLargeError', `the request body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8').trim();
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw new HttpError(400, 'BadRequest', `'${field}' must be a non-empty string, got ${JSON.stringify(value) ?? 'nothing'}`);
  return value;
}

function optionalObject(body: Record<string, unknown>, field: string): Record<string, unknown> | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'BadRequest', `'${field}' must be a JSON object when given`);
  return value as Record<string, unknown>;
}

function parseListQuery(query: URLSearchParams): ListQuery {
  const result: ListQuery = {};
  const status = query.get('status');
  if (status) {
    const upper = status.toUpperCase();
    if (!(RUN_STATUSES as readonly string[]).includes(upper)) throw new HttpError(400, 'BadRequest', `unknown status '${status}'; use one of ${RUN_STATUSES.join(', ')}`);
    result.status = upper as RunStatus;
  }
  const name = query.get('name');
  if (name) result.name = name;
  const limit = query.get('limit');
  if (limit !== null && limit !== '') {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new HttpError(400, 'BadRequest', `limit must be a whole number from 1 to 1000, got '${limit}'`);
    result.limit = n;
  }
  if (query.get('taskRuns') === 'false') result.taskRuns = false;
  const cursor = query.get('cursor');
  if (cursor) {
    try {
      decodeListCursor(cursor);
    } catch (error) {
      throw new HttpError(400, 'BadRequest', (error as Error).message);
    }
    result.cursor = cursor;
  }
  return result;
}

/** `<task>-<runId>.json`, with anything but letters, digits, `.`, `_` and `-` replaced. */
export function historyFileName(name: string, runId: string): string {
  return `${name}-${runId}.json`.replace(/[^A-Za-z0-9._-]/g, '_');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
