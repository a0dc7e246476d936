/**
 * A script on the embedded default ends when its work is done: no `close()` needed. Local servers (dynalite,
 * fauxqs), the embedded worker's polling, the sweeper and timers do not hold the event loop; a run of this
 * process in flight (processed here, or its result awaited) does.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { Durable } from '../../sdk/index.ts';

const root = mkdtempSync(join(tmpdir(), 'durable-exit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the fixture; resolves with its output, exit code and how long it lived after its last line. */
function script(mode: string, dir: string): Promise<{ code: number | null; out: string; err: string; lingerMs: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/local/fixtures/no-close.ts', dir, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let lastLineAt = Date.now();
  child.stdout.on('data', (d) => {
    out += d;
    lastLineAt = Date.now();
  });
  child.stderr.on('data', (d) => (err += d));
  // Far above the few seconds the script needs: a process that does not end by itself is killed and fails.
  const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, out, err, lingerMs: Date.now() - lastLineAt });
    }),
  );
}

describe('a script that never calls close()', () => {
  test('exits by itself (code 0) right after printing the result of a run that slept, ran a child and waited for an event', async () => {
    const r = await script('plain', join(root, 'plain'));
    expect(r.out, r.err).toContain('RESULT {"greeting":"Hello, Ada","sum":3,"approved":{"name":"Ada"}}');
    expect(r.code, r.err).toBe(0);
    expect(r.lingerMs).toBeLessThan(3_000);
  }, 40_000);

  test('with `await using durable = Durable.local()` it closes at the end of the block and exits', async () => {
    const r = await script('using', join(root, 'using'));
    expect(r.out, r.err).toContain('RESULT {"greeting":"Hello, Ada"');
    expect(r.code, r.err).toBe(0);
    expect(r.lingerMs).toBeLessThan(3_000);
  }, 40_000);

  test('a run it started and did not wait for does not keep it alive; it stays on disk and the next process finds it WAITING', async () => {
    const dir = join(root, 'no-await');
    const r = await script('no-await', dir);
    expect(r.code, r.err).toBe(0);
    expect(r.lingerMs).toBeLessThan(3_000);
    const runId = /STARTED (\S+)/.exec(r.out)?.[1];
    expect(runId, r.out).toBeDefined();
    await using durable = Durable.local({ dir, worker: false, log: () => undefined });
    const run = await durable.runs.get(runId!);
    expect(run.status).toBe('WAITING');
    expect(run.operations.map((o) => o.kind)).toEqual(['child', 'sleep']);
  }, 40_000);
});
