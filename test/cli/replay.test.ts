/**
 * `durable runs export` and `durable replay`, through the real binary: export a run from a dev server, replay
 * the file against the entry that defines its task; exit codes 0 (every history replays), 1 (one does not, or
 * a file is not a history), 2 (usage).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli, startHarness, type Harness } from './helpers.ts';

let h: Harness;
let url: string;
let orderRunId: string;
const dir = mkdtempSync(join(tmpdir(), 'durable-cli-replay-'));
beforeAll(async () => {
  h = await startHarness();
  url = h.server.url;
  orderRunId = (await h.env.durable.engine.start('process-order', { orderId: 'x-1', amount: 5 })).runId;
  await h.env.settle();
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

const FIXTURE_ENTRY = 'test/cli/fixtures/entry.ts';

describe('durable runs export', () => {
  test('prints the history (format 1) on stdout, or writes it with --out; an unknown run exits 1', async () => {
    const out = join(dir, 'order.json');
    const [printed, written, missing] = await Promise.all([
      runCli(['runs', 'export', orderRunId, '--url', url]),
      runCli(['runs', 'export', orderRunId, '--url', url, '--out', out]),
      runCli(['runs', 'export', 'no-such-run', '--url', url]),
    ]);
    expect(printed.code).toBe(0);
    const history = JSON.parse(printed.stdout);
    expect(history).toMatchObject({ format: 1, runId: orderRunId, name: 'process-order', status: 'WAITING', input: { orderId: 'x-1', amount: 5 } });
    expect(history.entries.map((e: { kind: string; name: string; status: string }) => `${e.kind}:${e.name}:${e.status}`)).toEqual([
      'step:reserve-stock:done',
      'child:charge-card:done',
      'event:order:shipped:pending',
    ]);
    expect(written.code).toBe(0);
    expect(written.stdout).toContain('(3 operations)');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(history);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('RunNotFoundError');
  });

  test('the dev server serves it as a download for the dashboard', async () => {
    const response = await fetch(`${url}/api/runs/${encodeURIComponent(orderRunId)}/export?download=1`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="process-order-${orderRunId}.json"`);
    expect(((await response.json()) as { format: number }).format).toBe(1);
  });
});

describe('durable replay', () => {
  test("the examples' recorded histories replay against examples/worker.ts: one line per file, exit 0", async () => {
    const result = await runCli(['replay', '--entry', 'examples/worker.ts', 'examples/histories']);
    expect(result.stderr).toMatch(/(\d+) of \1 histories replay/);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line).toMatch(/^ok {4}examples\/histories\/\S+\.json {2}\S+ /);
  });

  test('an exported run replays against its entry; a renamed step, a malformed file and an unknown task each fail their line and exit 1', async () => {
    const good = join(dir, 'good.json');
    const history = JSON.parse((await runCli(['runs', 'export', orderRunId, '--url', url])).stdout);
    writeFileSync(good, JSON.stringify(history));
    const renamed = join(dir, 'renamed.json');
    writeFileSync(renamed, JSON.stringify({ ...history, entries: history.entries.map((e: { name: string }, i: number) => (i === 0 ? { ...e, name: 'reserve' } : e)) }));
    const future = join(dir, 'future.json');
    writeFileSync(future, JSON.stringify({ ...history, format: 2 }));
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ ...history, name: 'refund-order' }));

    const ok = await runCli(['replay', '--entry', FIXTURE_ENTRY, good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok {4}.*good\.json {2}process-order /);

    const bad = await runCli(['replay', '--entry', FIXTURE_ENTRY, good, renamed, future, other]);
    expect(bad.code).toBe(1);
    const lines = bad.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^ok /);
    expect(lines[1]).toMatch(/^FAIL .*renamed\.json {2}NonDeterminismError: non-deterministic replay at position 0: the journal recorded step\('reserve'\) but the code called step\('reserve-stock'\)/);
    expect(lines[2]).toMatch(/^FAIL .*future\.json {2}InvalidHistoryError: .* has format 2, which this version cannot read/);
    expect(lines[3]).toMatch(/^FAIL .*other\.json {2}TaskNotFoundError: task 'refund-order' not found/);
    expect(bad.stderr).toContain('1 of 4 histories replay');

    const json = await runCli(['replay', '--entry', FIXTURE_ENTRY, renamed, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, name: 'process-order', error: { name: 'NonDeterminismError', position: 0, expected: "step('reserve')", actual: "step('reserve-stock')" } });
  });

  test('usage mistakes exit 2: no file, a path that does not exist', async () => {
    const [none, missing] = await Promise.all([runCli(['replay', '--entry', FIXTURE_ENTRY]), runCli(['replay', '--entry', FIXTURE_ENTRY, join(dir, 'nope.json')])]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('missing HISTORY.json');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no file or directory at');
  });
});
