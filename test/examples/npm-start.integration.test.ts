import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';

test('npm start runs every example end to end on the embedded default and exits 0 with a summary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'durable-start-'));
  try {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'examples/run-all.ts'], {
      env: { ...process.env, DURABLE_DIR: dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/7\/7 examples passed/);
    for (const name of ['simple durable task', 'sleep', 'wait for event (CEL)', 'Or(sleep, event)', 'DAG with waitFor / skipIf', 'ctx.map / ctx.parallel fan-out', 'flow control (concurrency, rate limits, priority, idempotency)']) {
      expect(result.stdout).toContain(`ok   ${name}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 90_000);
