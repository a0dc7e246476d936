/**
 * Stream chunks (ctx.putStream) through the dev server: `event: chunk` messages on the run's SSE stream, each chunk
 * once and in order, and `durable tail` printing them as the run goes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseSseMessage } from '../../cli/api/http-api.ts';
import { spawnCli, startHarness, waitFor, type Harness } from './helpers.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  h.env.durable.durableTask({
    name: 'report-progress',
    fn: async (input: { id: string }, ctx) => {
      ctx.putStream({ progress: 0.25, id: input.id });
      await ctx.step('work', () => 1);
      ctx.putStream({ progress: 0.5, id: input.id });
      await ctx.waitForEvent('progress:go', `input.id == "${input.id}"`);
      await ctx.map('parts', ['a', 'b'], async (part, b) => b.putStream({ part }));
      ctx.putStream({ progress: 1, id: input.id });
      return 'finished';
    },
  });
});
afterAll(() => h?.close());

async function sse(runId: string, onFirst: () => Promise<void>) {
  const res = await fetch(`${h.server.url}/api/runs/${encodeURIComponent(runId)}/stream`);
  const events: { event: string; data: any }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  let first = true;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const message = parseSseMessage(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
      if (!message) continue;
      events.push({ event: message.event, data: JSON.parse(message.data) });
      if (first) {
        first = false;
        await onFirst();
      }
    }
  }
  return events;
}

describe('given a run that puts stream chunks, served by the dev server', () => {
  test('its SSE stream sends each chunk once, in seq order, as `event: chunk`, before `end`', async () => {
    const { runId } = await h.env.durable.engine.start('report-progress', { id: 'sse' });
    await h.env.settle();
    const events = await sse(runId, async () => {
      await h.env.durable.events.push('progress:go', { id: 'sse' });
      await h.env.settle();
    });
    const chunks = events.filter((e) => e.event === 'chunk').map((e) => e.data);
    expect(chunks.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(chunks.map((c) => c.chunk).slice(0, 2)).toEqual([
      { progress: 0.25, id: 'sse' },
      { progress: 0.5, id: 'sse' },
    ]);
    expect(chunks.slice(2, 4).map((c) => c.chunk.part).sort()).toEqual(['a', 'b']);
    expect(chunks[4].chunk).toEqual({ progress: 1, id: 'sse' });
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { status: 'SUCCEEDED' } });
    const lastChunk = events.findLastIndex((e) => e.event === 'chunk');
    expect(lastChunk).toBeLessThan(events.length - 1);
  });

  test('durable tail prints the chunks as the run goes, then the outcome', async () => {
    const { runId } = await h.env.durable.engine.start('report-progress', { id: 'tail' });
    await h.env.settle();
    const tail = spawnCli(['tail', runId, '--url', h.server.url]);
    await waitFor(() => tail.output().includes('"progress":0.5'), 10_000, 'tail to print the second chunk');
    await h.env.durable.events.push('progress:go', { id: 'tail' });
    await h.env.settle();
    expect(await tail.exited).toBe(0);
    const lines = tail.output().split('\n').filter((l) => l.includes('stream'));
    expect(lines).toHaveLength(5);
    expect(lines[0]).toContain('#1');
    expect(lines[0]).toContain('{"progress":0.25,"id":"tail"}');
    expect(lines.at(-1)).toContain('{"progress":1,"id":"tail"}');
  });
});
