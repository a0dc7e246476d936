/**
 * The dev server's HTTP API, against a test-environment client (virtual clock), started in-process on port 0.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { request } from 'node:http';
import { parseSseMessage } from '../../cli/api/http-api.ts';
import { startHarness, type Harness } from './helpers.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json', ...headers };
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(`${h.server.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
}

/** Reads a run's SSE stream to its end; returns the event names and the last data. */
async function readStream(runId: string, onFirst?: () => Promise<void>) {
  const res = await fetch(`${h.server.url}/api/runs/${encodeURIComponent(runId)}/stream`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: { event: string; data: any }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const message = parseSseMessage(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
      if (!message) continue;
      events.push({ event: message.event, data: JSON.parse(message.data) });
      if (events.length === 1 && onFirst) await onFirst();
    }
  }
  return events;
}

describe('given a dev server over a client with tasks, a durable task and a workflow', () => {
  test('GET / serves the self-contained dashboard page', async () => {
    const res = await call('GET', '/');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/html/);
    expect(res.body).toContain('<title>durable-tasks');
    // Self-contained: no external scripts, styles or fetches.
    expect(res.body).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|https?:\/\/(?!www\.w3\.org)/);
  });

  test('GET /api/definitions lists names and kinds, and a workflow with its tasks and parents', async () => {
    const res = await call('GET', '/api/definitions');
    expect(res.status).toBe(200);
    const defs = res.body.definitions as any[];
    expect(defs.map((d) => `${d.name}:${d.kind}`)).toEqual(
      expect.arrayContaining(['charge-card:task', 'process-order:durableTask', 'await-approval:durableTask', 'etl-pipeline:workflow']),
    );
    const wf = defs.find((d) => d.name === 'etl-pipeline');
    expect(wf.tasks).toEqual([
      { name: 'extract', durable: false, parents: [] },
      { name: 'clean', durable: false, parents: ['extract'] },
      { name: 'enrich', durable: false, parents: ['extract'] },
      { name: 'load', durable: false, parents: ['clean', 'enrich'] },
      { name: 'notify', durable: false, parents: ['load'] },
    ]);
  });

  test('POST /api/runs starts a run by name; GET /api/runs/:id shows its journal; an event resumes it', async () => {
    const started = await call('POST', '/api/runs', { name: 'process-order', input: { orderId: 'http-1', amount: 5 } });
    expect(started.status).toBe(201);
    const { runId } = started.body;
    await h.env.settle();

    const waiting = await call('GET', `/api/runs/${runId}`);
    expect(waiting.status).toBe(200);
    expect(waiting.body).toMatchObject({ runId, name: 'process-order', status: 'WAITING', input: { orderId: 'http-1', amount: 5 } });
    const ops = waiting.body.operations as any[];
    expect(ops.map((o) => `${o.kind}:${o.name}:${o.status}`)).toEqual(['step:reserve-stock:done', 'child:charge-card:done', 'event:order:shipped:waiting']);
    expect(ops[2].waitingFor).toEqual([{ type: 'event', key: 'order:shipped', eventKey: 'order:shipped', expression: 'input.orderId == "http-1"', scope: 'tenant-a' }]);

    const pushed = await call('POST', '/api/events', { key: 'order:shipped', payload: { orderId: 'http-1' }, scope: 'tenant-a', metadata: { by: 'test' } });
    expect(pushed.status).toBe(202);
    expect(pushed.body.eventId).toEqual(expect.any(String));
    await h.env.settle();
    await h.env.advanceTime('1h');
    const done = await call('GET', `/api/runs/${encodeURIComponent(runId)}`);
    expect(done.body.status).toBe('SUCCEEDED');
    expect(done.body.output).toMatchObject({ orderId: 'http-1', shipped: { orderId: 'http-1' } });
  });

  test('GET /api/runs filters by status and name, limits, and reports the server clock', async () => {
    await call('POST', '/api/runs', { name: 'await-approval', input: { doc: 'list-1' } });
    await call('POST', '/api/runs', { name: 'await-approval', input: { doc: 'list-2' } });
    await h.env.settle();
    const all = await call('GET', '/api/runs');
    expect(all.status).toBe(200);
    expect(all.body.now).toBe(h.env.now().toISOString());
    expect(all.body.runs.length).toBeGreaterThanOrEqual(2);
    const byName = await call('GET', '/api/runs?name=await-approval&status=waiting');
    expect(byName.body.runs.length).toBeGreaterThanOrEqual(2);
    expect(byName.body.runs.every((r: any) => r.name === 'await-approval' && r.status === 'WAITING')).toBe(true);
    const limited = await call('GET', '/api/runs?name=await-approval&limit=1');
    expect(limited.body.runs).toHaveLength(1);
  });

  test('GET /api/runs pages with the cursor a limited page returns; a bad cursor is a 400', async () => {
    const all = (await call('GET', '/api/runs?name=await-approval')).body.runs.map((r: any) => r.runId);
    expect(all.length).toBeGreaterThanOrEqual(2);
    const first = await call('GET', '/api/runs?name=await-approval&limit=1');
    expect(typeof first.body.cursor).toBe('string');
    const second = await call('GET', `/api/runs?name=await-approval&limit=1&cursor=${encodeURIComponent(first.body.cursor)}`);
    expect([first.body.runs[0].runId, second.body.runs[0].runId]).toEqual(all.slice(0, 2));
    const bad = await call('GET', '/api/runs?cursor=nope');
    expect(bad.status).toBe(400);
  });

  test('POST /api/runs/:id/cancel cancels a waiting run and returns its details', async () => {
    const { body } = await call('POST', '/api/runs', { name: 'await-approval', input: { doc: 'cancel-me' } });
    await h.env.settle();
    const cancelled = await call('POST', `/api/runs/${body.runId}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ runId: body.runId, status: 'CANCELLED' });
    const again = await call('POST', `/api/runs/${body.runId}/cancel`, {});
    expect(again.body.status).toBe('CANCELLED');
  });

  test('GET /api/runs/:id/stream sends the run on each change and ends with `end` once terminal', async () => {
    const { body } = await call('POST', '/api/runs', { name: 'await-approval', input: { doc: 'stream-1' } });
    await h.env.settle();
    const events = await readStream(body.runId, async () => {
      await call('POST', '/api/events', { key: 'doc:approved', payload: { doc: 'stream-1' } });
      await h.env.settle();
    });
    expect(events[0]).toMatchObject({ event: 'run', data: { status: 'WAITING' } });
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { status: 'SUCCEEDED', output: { doc: 'stream-1' } } });
    expect(events.filter((e) => e.event === 'end')).toHaveLength(1);
  });

  test('a terminal run streams one `end` message at once', async () => {
    const { body } = await call('POST', '/api/runs', { name: 'charge-card', input: { amount: 3 } });
    await h.env.settle();
    const events = await readStream(body.runId);
    expect(events).toEqual([{ event: 'end', data: expect.objectContaining({ status: 'SUCCEEDED', output: { charged: 3, receipt: 'r-3' } }) }]);
  });

  test('a failed run shows its error as plain data', async () => {
    const { body } = await call('POST', '/api/runs', { name: 'always-fails', input: {} });
    await h.env.settle();
    const run = await call('GET', `/api/runs/${body.runId}`);
    expect(run.body).toMatchObject({ status: 'FAILED', error: { name: 'Error', message: 'the card was declined' } });
  });

  test('a workflow run shows its DAG tasks', async () => {
    const { body } = await call('POST', '/api/runs', { name: 'etl-pipeline', input: {} });
    await h.env.settle();
    const run = await call('GET', `/api/runs/${body.runId}`);
    expect(run.body.status).toBe('SUCCEEDED');
    expect((run.body.tasks as any[]).map((t) => `${t.name}:${t.status}`).sort()).toEqual(['clean:SUCCEEDED', 'enrich:SUCCEEDED', 'extract:SUCCEEDED', 'load:SUCCEEDED', 'notify:SUCCEEDED']);
  });

  describe('errors are JSON { error: { name, message } }', () => {
    test('an unknown run is 404 RunNotFoundError, on get, cancel and stream', async () => {
      for (const [method, path] of [
        ['GET', '/api/runs/nope'],
        ['POST', '/api/runs/nope/cancel'],
        ['GET', '/api/runs/nope/stream'],
      ] as const) {
        const res = await call(method, path, method === 'POST' ? {} : undefined);
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.body.error).toEqual({ name: 'RunNotFoundError', message: expect.stringContaining("'nope'") });
      }
    });

    test('a DurableError is 400: unknown task, bad event key, bad payload', async () => {
      const unknown = await call('POST', '/api/runs', { name: 'no-such-task', input: {} });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.name).toBe('TaskNotFoundError');
      const tooBig = await call('POST', '/api/events', { key: 'k', payload: { blob: 'x'.repeat(300 * 1024) } });
      expect(tooBig.status).toBe(400);
      expect(tooBig.body.error.name).toBe('PayloadTooLargeError');
    });

    test('malformed requests are 400/404/405/415 with a message that says what to do', async () => {
      expect((await call('POST', '/api/runs', '{not json')).body.error.name).toBe('BadRequest');
      expect((await call('POST', '/api/runs', { input: {} })).body.error.message).toMatch(/'name' must be a non-empty string/);
      expect((await call('POST', '/api/events', { payload: {} })).status).toBe(400);
      expect((await call('GET', '/api/runs?status=DONE')).body.error.message).toMatch(/unknown status 'DONE'/);
      expect((await call('GET', '/api/runs?limit=0')).status).toBe(400);
      expect((await call('GET', '/api/nothing')).status).toBe(404);
      expect((await call('DELETE', '/api/runs')).status).toBe(405);
      const form = await call('POST', '/api/events', 'key=k', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(form.status).toBe(415);
    });

    test('a request addressed to another host name is refused (DNS rebinding)', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${h.server.url}/api/runs`, { headers: { host: `evil.example:${h.server.port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(403);
    });
  });

  test('the server listens on 127.0.0.1 only', () => {
    expect(h.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
